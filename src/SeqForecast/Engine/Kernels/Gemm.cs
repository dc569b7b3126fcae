using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SeqForecast.Engine.Managed;

namespace SeqForecast.Engine.Kernels;

/// <summary>
/// Single-precision matrix multiply C[M,N] (=|+=) A[M,K] × B[K,N] on packed operands, with a register-blocked
/// FMA micro-kernel (Vector512: 8×32 tiles; Vector256: 6×16 tiles; Vector128: 8×8 tiles; otherwise 4×8 scalar FMA;
/// <see cref="Simd.VectorBits"/> chooses).
/// </summary>
/// <remarks>
/// <para>Conventions (for every method here): inputs, then dimensions, then outputs; all matrices are row-major
/// float spans; the caller owns every buffer and nothing is allocated.</para>
/// <para>Packed A holds <c>ceil(M/MR)</c> row blocks of <c>[K][MR]</c>; packed B holds <c>ceil(N/NR)</c> column panels of
/// <c>[K][NR]</c>; padding rows and columns only ever reach outputs that are discarded. A row block of A and a panel of B meet in one micro-kernel call that keeps the whole
/// MR×NR tile in registers across K. Every output element is the FMA chain over k = 0..K−1 in order, whatever the tile
/// partition or thread count, so results are bit-identical for 1 or many threads.</para>
/// </remarks>
internal static unsafe class Gemm
{
    /// <summary>Rows of a micro-tile.</summary>
    public static readonly int MR = Simd.Vector512Enabled ? 8 : Simd.Vector256Enabled ? 6 : Simd.Vector128Enabled ? 8 : 4;

    /// <summary>Columns of a micro-tile.</summary>
    public static readonly int NR = Simd.Vector512Enabled ? 32 : Simd.Vector256Enabled ? 16 : 8;

    /// <summary>Floats a packed A of <paramref name="m"/> rows and <paramref name="k"/> columns needs.</summary>
    public static int PackedASize(int m, int k) => (m + MR - 1) / MR * MR * k;

    /// <summary>Floats a packed B of <paramref name="k"/> rows and <paramref name="n"/> columns needs.</summary>
    public static int PackedBSize(int k, int n) => (n + NR - 1) / NR * NR * k;

    /// <summary>
    /// Packs rows [rowOffset, rowOffset + m) and columns [kOffset, kOffset + kLength) of a packed A with
    /// <paramref name="kTotal"/> columns from <paramref name="source"/>: element (r, kk) is
    /// <c>source[r·ld + kk]</c>, or <c>source[kk·ld + r]</c> when <paramref name="transpose"/> is set. Pieces of a stacked
    /// operand ([W_ih | W_hh], or [W_ih; W_hh]ᵀ) are packed by separate calls.
    /// </summary>
    public static void PackA(ReadOnlySpan<float> source, int ld, bool transpose, int m, int kLength, int rowOffset, int kOffset, int kTotal, Span<float> packed)
    {
        fixed (float* src = source)
        fixed (float* dst = packed)
        {
            int r0 = 0;
            if (!transpose && MR == 8 && rowOffset % 8 == 0 && Simd.Vector256Enabled)
            {
                // Whole row blocks: read 8 rows side by side and write each k's 8 values with one store.
                for (; r0 + 8 <= m; r0 += 8)
                {
                    float* block = dst + (long)((rowOffset + r0) / 8) * 8 * kTotal + (long)kOffset * 8;
                    float* s0 = src + (long)r0 * ld;
                    int kk = 0;
                    if (Avx.IsSupported)
                        for (; kk + 8 <= kLength; kk += 8) Transpose8x8(s0 + kk, ld, block + kk * 8, 8);
                    for (; kk < kLength; kk++)
                        Vector256.Create(s0[kk], s0[ld + kk], s0[2 * ld + kk], s0[3 * ld + kk], s0[4 * ld + kk], s0[5 * ld + kk], s0[6 * ld + kk], s0[7 * ld + kk]).Store(block + kk * 8);
                }
            }
            if (transpose && MR == 8 && rowOffset % 8 == 0 && Simd.Vector256Enabled)
            {
                // Element (r, kk) is source[kk·ld + r]: eight consecutive rows are eight consecutive floats.
                for (; r0 + 8 <= m; r0 += 8)
                {
                    float* block = dst + (long)((rowOffset + r0) / 8) * 8 * kTotal + (long)kOffset * 8;
                    for (int kk = 0; kk < kLength; kk++) Vector256.Load(src + (long)kk * ld + r0).Store(block + kk * 8);
                }
            }
            if (!transpose)
            {
                // The rows that share a packed row block, k by k: each k's values of those rows land side by side, so
                // the stores run front to back through the block (one row at a time would store MR floats apart).
                for (int r = r0; r < m;)
                {
                    int row = rowOffset + r, within = row % MR, count = Math.Min(MR - within, m - r);
                    float* block = dst + (long)(row / MR) * MR * kTotal + within + (long)kOffset * MR;
                    float* s = src + (long)r * ld;
                    if (MR == 6 && count == 6)
                    {
                        // A whole 6-row block (the 256-bit tiles): six row pointers, one k at a time.
                        float* s1 = s + ld, s2 = s1 + ld, s3 = s2 + ld, s4 = s3 + ld, s5 = s4 + ld;
                        for (int kk = 0; kk < kLength; kk++)
                        {
                            float* d = block + kk * 6;
                            d[0] = s[kk];
                            d[1] = s1[kk];
                            d[2] = s2[kk];
                            d[3] = s3[kk];
                            d[4] = s4[kk];
                            d[5] = s5[kk];
                        }
                    }
                    else
                        for (int kk = 0; kk < kLength; kk++)
                        {
                            float* d = block + kk * MR;
                            for (int c = 0; c < count; c++) d[c] = s[c * (long)ld + kk];
                        }
                    r += count;
                }
                return;
            }
            for (int r = r0; r < m; r++)
            {
                int row = rowOffset + r;
                float* block = dst + (long)(row / MR) * MR * kTotal + row % MR + (long)kOffset * MR;
                float* s = src + r;
                for (int kk = 0; kk < kLength; kk++) block[kk * MR] = s[(long)kk * ld];
            }
        }
    }

    /// <summary>
    /// Packs rows [kOffset, kOffset + kLength) and columns [0, n) of a packed B with <paramref name="kTotal"/> rows from
    /// <paramref name="source"/>: element (kk, c) is <c>source[kk·ld + c]</c>, or <c>source[c·ld + kk]</c> when
    /// <paramref name="transpose"/> is set.
    /// </summary>
    public static void PackB(ReadOnlySpan<float> source, int ld, bool transpose, int kLength, int n, int kOffset, int kTotal, Span<float> packed)
    {
        int panels = (n + NR - 1) / NR;
        fixed (float* src = source)
        fixed (float* dst = packed)
        {
            for (int p = 0; p < panels; p++)
            {
                int c0 = p * NR;
                int width = Math.Min(NR, n - c0);
                float* panel = dst + (long)p * NR * kTotal + (long)kOffset * NR;
                if (!transpose)
                {
                    for (int kk = 0; kk < kLength; kk++)
                    {
                        float* s = src + (long)kk * ld + c0;
                        float* d = panel + kk * NR;
                        if (width == NR) new ReadOnlySpan<float>(s, NR).CopyTo(new Span<float>(d, NR));
                        else
                        {
                            for (int c = 0; c < width; c++) d[c] = s[c];
                            // Narrow products never read the padding; the tile kernels need it zero.
                            if (n > NarrowColumns)
                                for (int c = width; c < NR; c++) d[c] = 0;
                        }
                    }
                }
                else if (width == NR && NR == 32)
                {
                    float* s = src + (long)c0 * ld;
                    int kk = 0;
                    if (Avx.IsSupported)
                        for (; kk + 8 <= kLength; kk += 8)
                            for (int q = 0; q < 4; q++) Transpose8x8(s + q * 8L * ld + kk, ld, panel + kk * NR + q * 8, NR);
                    for (; kk < kLength; kk++)
                    {
                        float* d = panel + kk * NR;
                        Vector256.Create(s[kk], s[ld + kk], s[2 * ld + kk], s[3 * ld + kk], s[4 * ld + kk], s[5 * ld + kk], s[6 * ld + kk], s[7 * ld + kk]).Store(d);
                        float* s8 = s + 8L * ld;
                        Vector256.Create(s8[kk], s8[ld + kk], s8[2 * ld + kk], s8[3 * ld + kk], s8[4 * ld + kk], s8[5 * ld + kk], s8[6 * ld + kk], s8[7 * ld + kk]).Store(d + 8);
                        float* s16 = s + 16L * ld;
                        Vector256.Create(s16[kk], s16[ld + kk], s16[2 * ld + kk], s16[3 * ld + kk], s16[4 * ld + kk], s16[5 * ld + kk], s16[6 * ld + kk], s16[7 * ld + kk]).Store(d + 16);
                        float* s24 = s + 24L * ld;
                        Vector256.Create(s24[kk], s24[ld + kk], s24[2 * ld + kk], s24[3 * ld + kk], s24[4 * ld + kk], s24[5 * ld + kk], s24[6 * ld + kk], s24[7 * ld + kk]).Store(d + 24);
                    }
                }
                else if (width == NR && NR == 16 && Avx.IsSupported)
                {
                    // The Vector256 panel: two 8×8 register transposes per eight rows of K.
                    float* s = src + (long)c0 * ld;
                    int kk = 0;
                    for (; kk + 8 <= kLength; kk += 8)
                    {
                        Transpose8x8(s + kk, ld, panel + kk * NR, NR);
                        Transpose8x8(s + 8L * ld + kk, ld, panel + kk * NR + 8, NR);
                    }
                    for (; kk < kLength; kk++)
                        for (int c = 0; c < NR; c++) panel[kk * NR + c] = s[(long)c * ld + kk];
                }
                else
                {
                    for (int kk = 0; kk < kLength; kk++)
                        for (int c = width; c < NR; c++) panel[kk * NR + c] = 0;
                    for (int c = 0; c < width; c++)
                    {
                        float* s = src + (long)(c0 + c) * ld;
                        for (int kk = 0; kk < kLength; kk++) panel[kk * NR + c] = s[kk];
                    }
                }
            }
        }
    }

    /// <summary>
    /// Computes tiles [rowBlockStart, rowBlockEnd) × [panelStart, panelEnd) of C[M,N] (=|+=) packedA × packedB.
    /// </summary>
    /// <remarks>
    /// With <paramref name="chains"/> (at least <see cref="ChainScratchSize"/>(<paramref name="n"/>) floats) and
    /// K &gt; <see cref="KC"/>, the product is blocked for the caches: for each M block of <see cref="MCBlocks"/> row
    /// blocks and each K block of <see cref="KC"/>, every panel's B micro-panel (in L1) meets the M block's A pieces
    /// (in L2), the tiles' chains parked in <paramref name="chains"/> between K blocks. Each output is still the one
    /// FMA chain over k in order, added to C once at the end, so the bits are those of the unblocked product. Without
    /// it, each tile runs its whole K at once, panels outermost, or row blocks outermost from <see cref="DeepK"/>.
    /// </remarks>
    public static void MultiplyTiles(float* packedA, float* packedB, int m, int n, int k, float* c, int ldc, bool accumulate, int rowBlockStart, int rowBlockEnd, int panelStart, int panelEnd, float* chains = null)
    {
        if (chains != null && k > KC)
        {
            MultiplyBlocked(packedA, packedB, m, n, k, c, ldc, accumulate, rowBlockStart, rowBlockEnd, panelStart, panelEnd, chains);
            return;
        }
        // Tile scratch lives here, not in the kernels: a stackalloc inside a kernel makes the JIT spill its accumulators.
        var tile = stackalloc float[MR * NR];
        if (k >= DeepK)
        {
            // Deep products without K blocks: one row block of A against every panel of B in turn.
            for (int blk = rowBlockStart; blk < rowBlockEnd; blk++)
            {
                float* a = packedA + (long)blk * MR * k;
                int rows = Math.Min(MR, m - blk * MR);
                for (int p = panelStart; p < panelEnd; p++)
                    Tile(k, a, packedB + (long)p * NR * k, c + (long)blk * MR * ldc + p * NR, ldc, rows, Math.Min(NR, n - p * NR), accumulate, null, tile);
            }
            return;
        }
        for (int p = panelStart; p < panelEnd; p++)
        {
            float* b = packedB + (long)p * NR * k;
            int cols = Math.Min(NR, n - p * NR);
            for (int blk = rowBlockStart; blk < rowBlockEnd; blk++)
            {
                float* a = packedA + (long)blk * MR * k;
                int rows = Math.Min(MR, m - blk * MR);
                Tile(k, a, b, c + (long)blk * MR * ldc + p * NR, ldc, rows, cols, accumulate, null, tile);
            }
        }
    }

    private static void MultiplyBlocked(float* packedA, float* packedB, int m, int n, int k, float* c, int ldc, bool accumulate, int rowBlockStart, int rowBlockEnd, int panelStart, int panelEnd, float* chains)
    {
        int panels = panelEnd - panelStart, tileSize = MR * NR;
        for (int i0 = rowBlockStart; i0 < rowBlockEnd; i0 += MCBlocks)
        {
            int i1 = Math.Min(rowBlockEnd, i0 + MCBlocks);
            for (int k0 = 0; k0 < k; k0 += KC)
            {
                int kLength = Math.Min(KC, k - k0);
                bool resume = k0 > 0, last = k0 + kLength == k;
                for (int p = panelStart; p < panelEnd; p++)
                {
                    float* b = packedB + (long)p * NR * k + (long)k0 * NR;
                    int cols = Math.Min(NR, n - p * NR);
                    for (int blk = i0; blk < i1; blk++)
                    {
                        float* tile = chains + ((long)(blk - i0) * panels + (p - panelStart)) * tileSize;
                        float* a = packedA + (long)blk * MR * k + (long)k0 * MR, cTile = c + (long)blk * MR * ldc + p * NR;
                        int rows = Math.Min(MR, m - blk * MR);
                        // The last K block of a whole tile ends in C; the others park their chains.
                        if (last && rows == MR && cols == NR && ChainsInto(kLength, a, b, resume ? tile : null, cTile, ldc, accumulate, null)) continue;
                        Chains(kLength, a, b, tile, resume);
                        if (last) StoreTile(tile, NR, cTile, ldc, rows, cols, accumulate, null);
                    }
                }
            }
        }
    }

    /// <summary>
    /// One MR×NR tile with the widest micro-kernel the hardware accelerates: a whole tile's chains end in C itself at 512
    /// and 256 bits; a partial tile, or a narrower kernel, parks them in <paramref name="tile"/> and then stores into C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(int k, float* a, float* b, float* c, int ldc, int rows, int cols, bool accumulate, float* rowBias, float* tile)
    {
        if (rows == MR && cols == NR && ChainsInto(k, a, b, null, c, ldc, accumulate, rowBias)) return;
        Chains(k, a, b, tile, resume: false);
        StoreTile(tile, NR, c, ldc, rows, cols, accumulate, rowBias);
    }

    /// <summary>
    /// A whole MR×NR tile's chains, from zero or from the parked tile <paramref name="start"/>, ending in C itself (the
    /// sums <see cref="StoreTile"/> would make); false, doing nothing, where the widest kernel has no such ending.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool ChainsInto(int k, float* a, float* b, float* start, float* c, int ldc, bool accumulate, float* rowBias)
    {
        if (Simd.Vector512Enabled) Kernel8x32(k, a, b, start, c, ldc, accumulate, rowBias);
        else if (Simd.Vector256Enabled) Kernel6x16(k, a, b, start, c, ldc, accumulate, rowBias);
        else return false;
        return true;
    }

    /// <summary>
    /// Runs the MR×NR FMA chains of one tile over <paramref name="k"/> steps of A and B, writing the accumulators to
    /// <paramref name="tile"/> (row stride NR). With <paramref name="resume"/> the chains start from the values in
    /// <paramref name="tile"/> instead of zero: a float accumulator stored and loaded again is the same value, so a
    /// chain run in K blocks is bit for bit the chain run at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Chains(int k, float* a, float* b, float* tile, bool resume)
    {
        if (Simd.Vector512Enabled) Kernel8x32(k, a, b, resume ? tile : null, tile, NR, false, null);
        else if (Simd.Vector256Enabled) Kernel6x16(k, a, b, resume ? tile : null, tile, NR, false, null);
        else if (Simd.Vector128Enabled) Kernel8x8(k, a, b, tile, resume);
        else KernelScalar(k, a, b, tile, resume);
    }

    /// <summary>
    /// K block of <see cref="MultiplyTiles"/> when it has chain scratch: a B micro-panel of KC×NR floats is 16 KiB, a
    /// third of a 48 KiB L1 (128 at 512 bits, 256 at 256 bits).
    /// </summary>
    public static readonly int KC = 4096 / NR;

    /// <summary>Row blocks per M block of the blocked product: an A block of about 256 rows × KC, 128 KiB at 512 bits, stays in L2.</summary>
    public static readonly int MCBlocks = Math.Max(1, 256 / MR);

    /// <summary>
    /// Whether <see cref="GemmRunner"/> blocks K for a product: with the 512-bit tiles, K longer than one block and
    /// more than one panel of B. Measured with <c>probe-gemm-blocking</c> on a 2-core Intel Xeon VM (2026-12-02):
    /// 1.05–1.2× for the weight gradients (1024×256×2048, 768×256×2048) and other multi-panel products at 512 bits;
    /// with one panel (the per-step recurrences, N = batch ≤ NR) B's panel already stays in cache and blocking only
    /// adds the parked chains' traffic (0.6–1.0×). The 256-bit tiles gained nothing from it there (0.93–1.04×), and
    /// on an AMD EPYC VM (AVX2) earlier K-blocked variants were slower than the deep order, so they keep that order.
    /// </summary>
    public static bool UseKBlocks(int n, int k) => Simd.Vector512Enabled && k > KC && n > NR;

    /// <summary>
    /// K from which <see cref="MultiplyTiles"/> without K blocks walks row blocks outermost (each row block of A
    /// against every panel) instead of panels outermost; only the order of independent tiles changes, so the bits do
    /// not. Measured on the AMD EPYC VM (AVX2, 2026-12-02): 4–29 % faster at 1024×256×2048, no change at K ≤ 1024.
    /// </summary>
    internal const int DeepK = 1536;

    /// <summary>Floats of chain scratch <see cref="MultiplyTiles"/> needs to block K for a product of <paramref name="n"/> columns.</summary>
    public static int ChainScratchSize(int n) => MCBlocks * ((n + NR - 1) / NR) * MR * NR;

    /// <summary>Widest N for which <see cref="MultiplyNarrow"/> is used instead of the tile kernels (small batches, predict).</summary>
    public const int NarrowColumns = 4;

    /// <summary>
    /// C (=|+=) packedA × packedB for N ≤ <see cref="NarrowColumns"/>: matrix-vector products that run along K with one
    /// row block of A in a vector, so a batch of one does not pay for a full NR-wide panel.
    /// </summary>
    public static void MultiplyNarrow(float* packedA, float* packedB, int m, int n, int k, float* c, int ldc, bool accumulate, int rowBlockStart, int rowBlockEnd)
    {
        var column = stackalloc float[MR];
        NarrowBlocks(packedA, packedB, m, n, k, c, ldc, accumulate, rowBlockStart, rowBlockEnd, column);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void NarrowBlocks(float* packedA, float* packedB, int m, int n, int k, float* c, int ldc, bool accumulate, int rowBlockStart, int rowBlockEnd, float* column)
    {
        int blk = rowBlockStart;
        if (MR == 8 && Simd.Vector256Enabled)
        {
            // Four row blocks at a time: four independent FMA chains, so the core is not waiting on one chain's
            // latency. Each chain is still one output row block's FMAs over k in order: the same bits.
            for (; blk + 4 <= rowBlockEnd && (blk + 4) * MR <= m; blk += 4)
            {
                float* a0 = packedA + (long)blk * MR * k;
                float* a1 = a0 + MR * k, a2 = a1 + MR * k, a3 = a2 + MR * k;
                for (int j = 0; j < n; j++)
                {
                    float* b = packedB + j;
                    Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    for (int kk = 0; kk < k; kk++)
                    {
                        var x = Vector256.Create(b[(long)kk * NR]);
                        long at = (long)kk * 8;
                        s0 = Simd.FusedMultiplyAdd(Vector256.Load(a0 + at), x, s0);
                        s1 = Simd.FusedMultiplyAdd(Vector256.Load(a1 + at), x, s1);
                        s2 = Simd.FusedMultiplyAdd(Vector256.Load(a2 + at), x, s2);
                        s3 = Simd.FusedMultiplyAdd(Vector256.Load(a3 + at), x, s3);
                    }
                    StoreColumn(s0, c + (long)blk * MR * ldc + j, ldc, accumulate);
                    StoreColumn(s1, c + (long)(blk + 1) * MR * ldc + j, ldc, accumulate);
                    StoreColumn(s2, c + (long)(blk + 2) * MR * ldc + j, ldc, accumulate);
                    StoreColumn(s3, c + (long)(blk + 3) * MR * ldc + j, ldc, accumulate);
                }
            }
        }
        else if (MR == 6 && Simd.Vector128Enabled)
        {
            // The 256-bit tiles' 6-row blocks: rows 0–3 in a Vector128, rows 4 and 5 as scalars, four row blocks at a
            // time, all in registers. Each output is still its FMA chain over k in order: the same bits.
            for (; blk + 4 <= rowBlockEnd && (blk + 4) * MR <= m; blk += 4)
            {
                float* a0 = packedA + (long)blk * MR * k;
                float* a1 = a0 + MR * k, a2 = a1 + MR * k, a3 = a2 + MR * k;
                for (int j = 0; j < n; j++)
                {
                    float* b = packedB + j;
                    Vector128<float> v0 = default, v1 = default, v2 = default, v3 = default;
                    float e0 = 0, f0 = 0, e1 = 0, f1 = 0, e2 = 0, f2 = 0, e3 = 0, f3 = 0;
                    for (int kk = 0; kk < k; kk++)
                    {
                        float x = b[(long)kk * NR];
                        var xs = Vector128.Create(x);
                        long at = (long)kk * 6;
                        v0 = Simd.FusedMultiplyAdd(Vector128.Load(a0 + at), xs, v0);
                        v1 = Simd.FusedMultiplyAdd(Vector128.Load(a1 + at), xs, v1);
                        v2 = Simd.FusedMultiplyAdd(Vector128.Load(a2 + at), xs, v2);
                        v3 = Simd.FusedMultiplyAdd(Vector128.Load(a3 + at), xs, v3);
                        e0 = MathF.FusedMultiplyAdd(a0[at + 4], x, e0);
                        f0 = MathF.FusedMultiplyAdd(a0[at + 5], x, f0);
                        e1 = MathF.FusedMultiplyAdd(a1[at + 4], x, e1);
                        f1 = MathF.FusedMultiplyAdd(a1[at + 5], x, f1);
                        e2 = MathF.FusedMultiplyAdd(a2[at + 4], x, e2);
                        f2 = MathF.FusedMultiplyAdd(a2[at + 5], x, f2);
                        e3 = MathF.FusedMultiplyAdd(a3[at + 4], x, e3);
                        f3 = MathF.FusedMultiplyAdd(a3[at + 5], x, f3);
                    }
                    float* target = c + (long)blk * MR * ldc + j;
                    long rowBlock = (long)MR * ldc;
                    StoreSixRows(v0, e0, f0, target, ldc, accumulate);
                    StoreSixRows(v1, e1, f1, target + rowBlock, ldc, accumulate);
                    StoreSixRows(v2, e2, f2, target + 2 * rowBlock, ldc, accumulate);
                    StoreSixRows(v3, e3, f3, target + 3 * rowBlock, ldc, accumulate);
                }
            }
        }
        for (; blk < rowBlockEnd; blk++)
        {
            float* a = packedA + (long)blk * MR * k;
            int rows = Math.Min(MR, m - blk * MR);
            for (int j = 0; j < n; j++)
            {
                float* b = packedB + j;
                // One FMA chain per output over k in order, as in the tile kernels, so a narrow batch gets the same
                // bits as the same columns inside a wide one.
                if (MR == 8 && Simd.Vector256Enabled)
                {
                    Vector256<float> s0 = default;
                    for (int kk = 0; kk < k; kk++) s0 = Simd.FusedMultiplyAdd(Vector256.Load(a + kk * 8), Vector256.Create(b[(long)kk * NR]), s0);
                    s0.Store(column);
                }
                else if (MR == 6 && Simd.Vector128Enabled)
                {
                    Vector128<float> v = default;
                    float e = 0, f = 0;
                    for (int kk = 0; kk < k; kk++)
                    {
                        float x = b[(long)kk * NR];
                        long at = (long)kk * 6;
                        v = Simd.FusedMultiplyAdd(Vector128.Load(a + at), Vector128.Create(x), v);
                        e = MathF.FusedMultiplyAdd(a[at + 4], x, e);
                        f = MathF.FusedMultiplyAdd(a[at + 5], x, f);
                    }
                    v.Store(column);
                    column[4] = e;
                    column[5] = f;
                }
                else if (MR == 8 && Simd.Vector128Enabled)
                {
                    Vector128<float> low = default, high = default;
                    for (int kk = 0; kk < k; kk++)
                    {
                        var x = Vector128.Create(b[(long)kk * NR]);
                        low = Simd.FusedMultiplyAdd(Vector128.Load(a + kk * 8), x, low);
                        high = Simd.FusedMultiplyAdd(Vector128.Load(a + kk * 8 + 4), x, high);
                    }
                    low.Store(column);
                    high.Store(column + 4);
                }
                else
                {
                    for (int r = 0; r < MR; r++) column[r] = 0;
                    for (int kk = 0; kk < k; kk++)
                        for (int r = 0; r < MR; r++) column[r] = MathF.FusedMultiplyAdd(a[kk * MR + r], b[(long)kk * NR], column[r]);
                }
                for (int r = 0; r < rows; r++)
                {
                    float* target = c + (long)(blk * MR + r) * ldc + j;
                    *target = accumulate ? *target + column[r] : column[r];
                }
            }
        }
    }

    /// <summary>Writes (or adds) a full 6-row block's column, rows 0–3 from <paramref name="low"/>, to C, one row apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSixRows(Vector128<float> low, float row4, float row5, float* target, int ldc, bool accumulate)
    {
        for (int r = 0; r < 6; r++)
        {
            float value = r < 4 ? low.GetElement(r) : r == 4 ? row4 : row5;
            float* t = target + (long)r * ldc;
            *t = accumulate ? *t + value : value;
        }
    }

    /// <summary>Writes (or adds) the eight values of a full row block's column to C, one row apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumn(Vector256<float> column, float* target, int ldc, bool accumulate)
    {
        for (int r = 0; r < 8; r++)
        {
            float* t = target + (long)r * ldc;
            *t = accumulate ? *t + column.GetElement(r) : column.GetElement(r);
        }
    }

    /// <summary>
    /// Computes row blocks [rowBlockStart, rowBlockEnd) of C_p[M, columns] (=|+=) packedA × panel p of packedB for p &lt; <paramref name="panels"/>, writing C_p at
    /// <c>c + p·panelStride</c> with row stride <paramref name="ldc"/>. Each panel is one time step's [K, columns] block
    /// (zero-padded to NR columns), so a sequence's input projection is one call whose outputs land in
    /// <c>[T, M, columns]</c> order. With <paramref name="rowBias"/> (and accumulate false) each output is its product
    /// plus <c>rowBias[row]</c>, so a bias needs no separate fill of C.
    /// </summary>
    public static void MultiplyPanels(float* packedA, float* packedB, int m, int k, int panels, int columns, float* c, int ldc, long panelStride, bool accumulate, float* rowBias, int rowBlockStart, int rowBlockEnd)
    {
        var tile = stackalloc float[MR * NR];
        for (int p = 0; p < panels; p++)
        {
            float* b = packedB + (long)p * NR * k;
            for (int blk = rowBlockStart; blk < rowBlockEnd; blk++)
            {
                float* a = packedA + (long)blk * MR * k;
                int rows = Math.Min(MR, m - blk * MR);
                float* bias = rowBias == null ? null : rowBias + blk * MR;
                Tile(k, a, b, c + p * panelStride + (long)blk * MR * ldc, ldc, rows, columns, accumulate, bias, tile);
            }
        }
    }

    /// <summary>
    /// Writes the transpose of the 8×8 block at <paramref name="source"/> (row stride <paramref name="ld"/>) to
    /// <paramref name="destination"/> (row stride <paramref name="ldd"/>): eight loads, 24 shuffles, eight stores.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* source, int ld, float* destination, int ldd)
    {
        var r0 = Avx.LoadVector256(source);
        var r1 = Avx.LoadVector256(source + ld);
        var r2 = Avx.LoadVector256(source + 2L * ld);
        var r3 = Avx.LoadVector256(source + 3L * ld);
        var r4 = Avx.LoadVector256(source + 4L * ld);
        var r5 = Avx.LoadVector256(source + 5L * ld);
        var r6 = Avx.LoadVector256(source + 6L * ld);
        var r7 = Avx.LoadVector256(source + 7L * ld);
        var t0 = Avx.UnpackLow(r0, r1);
        var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3);
        var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5);
        var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7);
        var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44);
        var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44);
        var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44);
        var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44);
        var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(destination, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(destination + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(destination + 2L * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(destination + 3L * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(destination + 4L * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(destination + 5L * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(destination + 6L * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(destination + 7L * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    /// <summary>Floats in one vector register of the matrix-vector kernel.</summary>
    public static readonly int VectorWidth = Simd.Vector512Enabled ? 16 : Simd.Vector256Enabled ? 8 : Simd.Vector128Enabled ? 4 : 1;

    /// <summary>Floats a weight W [n, k] packed for <see cref="MultiplyVector"/> needs: Wᵀ with n rounded up to a vector.</summary>
    public static int PackedVectorSize(int n, int k) => k * RoundUpToVector(n);

    private static int RoundUpToVector(int n) => (n + VectorWidth - 1) / VectorWidth * VectorWidth;

    /// <summary>
    /// Width of the column group that starts at <paramref name="c0"/> in a packed vector weight of
    /// <paramref name="stride"/> (padded) columns: 8, 4, 2 or 1 vectors, the widest that fits.
    /// </summary>
    private static int GroupWidth(int stride, int c0)
    {
        int vectors = Math.Min(8, (stride - c0) / VectorWidth);
        return (vectors >= 8 ? 8 : vectors >= 4 ? 4 : vectors >= 2 ? 2 : 1) * VectorWidth;
    }

    /// <summary>
    /// Packs a row-major weight W [n, k] (leading dimension <paramref name="ld"/>) for <see cref="MultiplyVector"/>:
    /// Wᵀ cut into column groups of up to eight vectors, each group stored contiguously as [k, width], so the kernel
    /// streams every group front to back. Padding columns are zero.
    /// </summary>
    public static void PackVector(ReadOnlySpan<float> weight, int ld, int n, int k, Span<float> packed)
    {
        int stride = RoundUpToVector(n);
        for (int c0 = 0; c0 < stride; )
        {
            int width = GroupWidth(stride, c0);
            var group = packed.Slice(k * c0, k * width);
            for (int kk = 0; kk < k; kk++)
                for (int j = 0; j < width; j++)
                    group[kk * width + j] = c0 + j < n ? weight[(c0 + j) * ld + kk] : 0f;
            c0 += width;
        }
    }

    /// <summary>
    /// y[i·yStride] (=|+=) Σ_k W[i, k]·x[k] for i &lt; n, with W packed by <see cref="PackVector"/>: the batch-of-one
    /// product. Each column group streams once, front to back, into up to eight vector accumulators; every output is
    /// one FMA chain over k in order, like the tile kernels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyVector(float* packed, float* x, int n, int k, float* y, int yStride, bool accumulate)
    {
        int stride = RoundUpToVector(n);
        var tile = stackalloc float[128];
        for (int c0 = 0; c0 < n; )
        {
            int width = GroupWidth(stride, c0);
            float* group = packed + (long)k * c0;
            if (VectorWidth == 16) VectorGroup512(group, width, x, k, width / 16, tile);
            else if (VectorWidth == 8) VectorGroup256(group, width, x, k, width / 8, tile);
            else if (VectorWidth == 4) VectorGroup128(group, width, x, k, width / 4, tile);
            else VectorGroupScalar(group, width, x, k, tile);
            int outputs = Math.Min(width, n - c0);
            float* target = y + (long)c0 * yStride;
            int i = 0;
            if (yStride == 1 && Simd.Vector512Enabled)
                for (; i + 16 <= outputs; i += 16)
                {
                    var v = Vector512.Load(tile + i);
                    (accumulate ? v + Vector512.Load(target + i) : v).Store(target + i);
                }
            for (; i < outputs; i++)
                target[(long)i * yStride] = accumulate ? target[(long)i * yStride] + tile[i] : tile[i];
            c0 += width;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VectorGroup512(float* w, int stride, float* x, int k, int vectors, float* tile)
    {
        if (vectors == 8)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int kk = 0; kk < k; kk++, w += stride)
            {
                var v = Vector512.Create(x[kk]);
                a0 = Simd.FusedMultiplyAdd(v, Vector512.Load(w), a0);
                a1 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 16), a1);
                a2 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 32), a2);
                a3 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 48), a3);
                a4 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 64), a4);
                a5 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 80), a5);
                a6 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 96), a6);
                a7 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 112), a7);
            }
            a0.Store(tile); a1.Store(tile + 16); a2.Store(tile + 32); a3.Store(tile + 48);
            a4.Store(tile + 64); a5.Store(tile + 80); a6.Store(tile + 96); a7.Store(tile + 112);
        }
        else if (vectors == 4)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int kk = 0; kk < k; kk++, w += stride)
            {
                var v = Vector512.Create(x[kk]);
                a0 = Simd.FusedMultiplyAdd(v, Vector512.Load(w), a0);
                a1 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 16), a1);
                a2 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 32), a2);
                a3 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 48), a3);
            }
            a0.Store(tile); a1.Store(tile + 16); a2.Store(tile + 32); a3.Store(tile + 48);
        }
        else
        {
            Vector512<float> a0 = default, a1 = default;
            for (int kk = 0; kk < k; kk++, w += stride)
            {
                var v = Vector512.Create(x[kk]);
                a0 = Simd.FusedMultiplyAdd(v, Vector512.Load(w), a0);
                if (vectors == 2) a1 = Simd.FusedMultiplyAdd(v, Vector512.Load(w + 16), a1);
            }
            a0.Store(tile); a1.Store(tile + 16);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VectorGroup128(float* w, int stride, float* x, int k, int vectors, float* tile)
    {
        if (vectors == 8)
        {
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int kk = 0; kk < k; kk++, w += stride)
            {
                var v = Vector128.Create(x[kk]);
                a0 = Simd.FusedMultiplyAdd(v, Vector128.Load(w), a0);
                a1 = Simd.FusedMultiplyAdd(v, Vector128.Load(w + 4), a1);
                a2 = Simd.FusedMultiplyAdd(v, Vector128.Load(w + 8), a2);
                a3 = Simd.FusedMultiplyAdd(v, Vector128.Load(w + 12), a3);
                a4 = Simd.FusedMultiplyAdd(v, Vector128.Load(w + 16), a4);
                a5 = Simd.FusedMultiplyAdd(v, Vector128.Load(w + 20), a5);
                a6 = Simd.FusedMultiplyAdd(v, Vector128.Load(w + 24), a6);
                a7 = Simd.FusedMultiplyAdd(v, Vector128.Load(w + 28), a7);
            }
            a0.Store(tile); a1.Store(tile + 4); a2.Store(tile + 8); a3.Store(tile + 12);
            a4.Store(tile + 16); a5.Store(tile + 20); a6.Store(tile + 24); a7.Store(tile + 28);
        }
        else
        {
            for (int q = 0; q < vectors; q++)
            {
                Vector128<float> a = default;
                float* col = w + q * 4;
                for (int kk = 0; kk < k; kk++) a = Simd.FusedMultiplyAdd(Vector128.Create(x[kk]), Vector128.Load(col + (long)kk * stride), a);
                a.Store(tile + q * 4);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void VectorGroup256(float* w, int stride, float* x, int k, int vectors, float* tile)
    {
        if (vectors == 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int kk = 0; kk < k; kk++, w += stride)
            {
                var v = Vector256.Create(x[kk]);
                a0 = Simd.FusedMultiplyAdd(v, Vector256.Load(w), a0);
                a1 = Simd.FusedMultiplyAdd(v, Vector256.Load(w + 8), a1);
                a2 = Simd.FusedMultiplyAdd(v, Vector256.Load(w + 16), a2);
                a3 = Simd.FusedMultiplyAdd(v, Vector256.Load(w + 24), a3);
                a4 = Simd.FusedMultiplyAdd(v, Vector256.Load(w + 32), a4);
                a5 = Simd.FusedMultiplyAdd(v, Vector256.Load(w + 40), a5);
                a6 = Simd.FusedMultiplyAdd(v, Vector256.Load(w + 48), a6);
                a7 = Simd.FusedMultiplyAdd(v, Vector256.Load(w + 56), a7);
            }
            a0.Store(tile); a1.Store(tile + 8); a2.Store(tile + 16); a3.Store(tile + 24);
            a4.Store(tile + 32); a5.Store(tile + 40); a6.Store(tile + 48); a7.Store(tile + 56);
        }
        else
        {
            for (int q = 0; q < vectors; q++)
            {
                Vector256<float> a = default;
                float* col = w + q * 8;
                for (int kk = 0; kk < k; kk++) a = Simd.FusedMultiplyAdd(Vector256.Create(x[kk]), Vector256.Load(col + (long)kk * stride), a);
                a.Store(tile + q * 8);
            }
        }
    }

    private static void VectorGroupScalar(float* w, int width, float* x, int k, float* tile)
    {
        for (int j = 0; j < width; j++)
        {
            float sum = 0;
            for (int kk = 0; kk < k; kk++) sum = MathF.FusedMultiplyAdd(x[kk], w[(long)kk * width + j], sum);
            tile[j] = sum;
        }
    }

    /// <summary>
    /// The 512-bit tile: 8 rows × two vectors of 16 columns. The chains start from zero, or from <paramref name="start"/>
    /// (a parked tile, row stride NR), and end at <paramref name="destination"/> (row stride <paramref name="ld"/>):
    /// plus <c>rowBias[r]</c> where a bias is given, else plus what is there where <paramref name="add"/> is set, else
    /// stored as they are. The same sums <see cref="StoreTile"/> makes from a parked tile, without the round trip.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(int k, float* a, float* b, float* start, float* destination, int ld, bool add, float* rowBias)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        if (start != null)
        {
            c00 = Vector512.Load(start); c01 = Vector512.Load(start + 16); c10 = Vector512.Load(start + 32); c11 = Vector512.Load(start + 48);
            c20 = Vector512.Load(start + 64); c21 = Vector512.Load(start + 80); c30 = Vector512.Load(start + 96); c31 = Vector512.Load(start + 112);
            c40 = Vector512.Load(start + 128); c41 = Vector512.Load(start + 144); c50 = Vector512.Load(start + 160); c51 = Vector512.Load(start + 176);
            c60 = Vector512.Load(start + 192); c61 = Vector512.Load(start + 208); c70 = Vector512.Load(start + 224); c71 = Vector512.Load(start + 240);
        }
        for (int kk = 0; kk < k; kk++, a += 8, b += 32)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]); c00 = Simd.FusedMultiplyAdd(x, b0, c00); c01 = Simd.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]); c10 = Simd.FusedMultiplyAdd(x, b0, c10); c11 = Simd.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]); c20 = Simd.FusedMultiplyAdd(x, b0, c20); c21 = Simd.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]); c30 = Simd.FusedMultiplyAdd(x, b0, c30); c31 = Simd.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]); c40 = Simd.FusedMultiplyAdd(x, b0, c40); c41 = Simd.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]); c50 = Simd.FusedMultiplyAdd(x, b0, c50); c51 = Simd.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]); c60 = Simd.FusedMultiplyAdd(x, b0, c60); c61 = Simd.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]); c70 = Simd.FusedMultiplyAdd(x, b0, c70); c71 = Simd.FusedMultiplyAdd(x, b1, c71);
        }
        float* d0 = destination, d1 = d0 + ld, d2 = d1 + ld, d3 = d2 + ld, d4 = d3 + ld, d5 = d4 + ld, d6 = d5 + ld, d7 = d6 + ld;
        if (rowBias != null)
        {
            var v = Vector512.Create(rowBias[0]); c00 += v; c01 += v;
            v = Vector512.Create(rowBias[1]); c10 += v; c11 += v;
            v = Vector512.Create(rowBias[2]); c20 += v; c21 += v;
            v = Vector512.Create(rowBias[3]); c30 += v; c31 += v;
            v = Vector512.Create(rowBias[4]); c40 += v; c41 += v;
            v = Vector512.Create(rowBias[5]); c50 += v; c51 += v;
            v = Vector512.Create(rowBias[6]); c60 += v; c61 += v;
            v = Vector512.Create(rowBias[7]); c70 += v; c71 += v;
        }
        else if (add)
        {
            c00 += Vector512.Load(d0); c01 += Vector512.Load(d0 + 16); c10 += Vector512.Load(d1); c11 += Vector512.Load(d1 + 16);
            c20 += Vector512.Load(d2); c21 += Vector512.Load(d2 + 16); c30 += Vector512.Load(d3); c31 += Vector512.Load(d3 + 16);
            c40 += Vector512.Load(d4); c41 += Vector512.Load(d4 + 16); c50 += Vector512.Load(d5); c51 += Vector512.Load(d5 + 16);
            c60 += Vector512.Load(d6); c61 += Vector512.Load(d6 + 16); c70 += Vector512.Load(d7); c71 += Vector512.Load(d7 + 16);
        }
        c00.Store(d0); c01.Store(d0 + 16); c10.Store(d1); c11.Store(d1 + 16);
        c20.Store(d2); c21.Store(d2 + 16); c30.Store(d3); c31.Store(d3 + 16);
        c40.Store(d4); c41.Store(d4 + 16); c50.Store(d5); c51.Store(d5 + 16);
        c60.Store(d6); c61.Store(d6 + 16); c70.Store(d7); c71.Store(d7 + 16);
    }

    /// <summary>The 256-bit tile: 6 rows × two vectors of 8 columns; start and end as in <see cref="Kernel8x32"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(int k, float* a, float* b, float* start, float* destination, int ld, bool add, float* rowBias)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        if (start != null)
        {
            c00 = Vector256.Load(start); c01 = Vector256.Load(start + 8); c10 = Vector256.Load(start + 16); c11 = Vector256.Load(start + 24);
            c20 = Vector256.Load(start + 32); c21 = Vector256.Load(start + 40); c30 = Vector256.Load(start + 48); c31 = Vector256.Load(start + 56);
            c40 = Vector256.Load(start + 64); c41 = Vector256.Load(start + 72); c50 = Vector256.Load(start + 80); c51 = Vector256.Load(start + 88);
        }
        for (int kk = 0; kk < k; kk++, a += 6, b += 16)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]); c00 = Simd.FusedMultiplyAdd(x, b0, c00); c01 = Simd.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]); c10 = Simd.FusedMultiplyAdd(x, b0, c10); c11 = Simd.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]); c20 = Simd.FusedMultiplyAdd(x, b0, c20); c21 = Simd.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]); c30 = Simd.FusedMultiplyAdd(x, b0, c30); c31 = Simd.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]); c40 = Simd.FusedMultiplyAdd(x, b0, c40); c41 = Simd.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]); c50 = Simd.FusedMultiplyAdd(x, b0, c50); c51 = Simd.FusedMultiplyAdd(x, b1, c51);
        }
        float* d0 = destination, d1 = d0 + ld, d2 = d1 + ld, d3 = d2 + ld, d4 = d3 + ld, d5 = d4 + ld;
        if (rowBias != null)
        {
            var v = Vector256.Create(rowBias[0]); c00 += v; c01 += v;
            v = Vector256.Create(rowBias[1]); c10 += v; c11 += v;
            v = Vector256.Create(rowBias[2]); c20 += v; c21 += v;
            v = Vector256.Create(rowBias[3]); c30 += v; c31 += v;
            v = Vector256.Create(rowBias[4]); c40 += v; c41 += v;
            v = Vector256.Create(rowBias[5]); c50 += v; c51 += v;
        }
        else if (add)
        {
            c00 += Vector256.Load(d0); c01 += Vector256.Load(d0 + 8); c10 += Vector256.Load(d1); c11 += Vector256.Load(d1 + 8);
            c20 += Vector256.Load(d2); c21 += Vector256.Load(d2 + 8); c30 += Vector256.Load(d3); c31 += Vector256.Load(d3 + 8);
            c40 += Vector256.Load(d4); c41 += Vector256.Load(d4 + 8); c50 += Vector256.Load(d5); c51 += Vector256.Load(d5 + 8);
        }
        c00.Store(d0); c01.Store(d0 + 8); c10.Store(d1); c11.Store(d1 + 8);
        c20.Store(d2); c21.Store(d2 + 8); c30.Store(d3); c31.Store(d3 + 8);
        c40.Store(d4); c41.Store(d4 + 8); c50.Store(d5); c51.Store(d5 + 8);
    }

    /// <summary>The 128-bit tile (NEON's 32 registers hold its 16 accumulators): 8 rows × two vectors of 4 columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x8(int k, float* a, float* b, float* tile, bool resume)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector128<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        if (resume)
        {
            c00 = Vector128.Load(tile); c01 = Vector128.Load(tile + 4); c10 = Vector128.Load(tile + 8); c11 = Vector128.Load(tile + 12);
            c20 = Vector128.Load(tile + 16); c21 = Vector128.Load(tile + 20); c30 = Vector128.Load(tile + 24); c31 = Vector128.Load(tile + 28);
            c40 = Vector128.Load(tile + 32); c41 = Vector128.Load(tile + 36); c50 = Vector128.Load(tile + 40); c51 = Vector128.Load(tile + 44);
            c60 = Vector128.Load(tile + 48); c61 = Vector128.Load(tile + 52); c70 = Vector128.Load(tile + 56); c71 = Vector128.Load(tile + 60);
        }
        for (int kk = 0; kk < k; kk++, a += 8, b += 8)
        {
            var b0 = Vector128.Load(b);
            var b1 = Vector128.Load(b + 4);
            var x = Vector128.Create(a[0]); c00 = Simd.FusedMultiplyAdd(x, b0, c00); c01 = Simd.FusedMultiplyAdd(x, b1, c01);
            x = Vector128.Create(a[1]); c10 = Simd.FusedMultiplyAdd(x, b0, c10); c11 = Simd.FusedMultiplyAdd(x, b1, c11);
            x = Vector128.Create(a[2]); c20 = Simd.FusedMultiplyAdd(x, b0, c20); c21 = Simd.FusedMultiplyAdd(x, b1, c21);
            x = Vector128.Create(a[3]); c30 = Simd.FusedMultiplyAdd(x, b0, c30); c31 = Simd.FusedMultiplyAdd(x, b1, c31);
            x = Vector128.Create(a[4]); c40 = Simd.FusedMultiplyAdd(x, b0, c40); c41 = Simd.FusedMultiplyAdd(x, b1, c41);
            x = Vector128.Create(a[5]); c50 = Simd.FusedMultiplyAdd(x, b0, c50); c51 = Simd.FusedMultiplyAdd(x, b1, c51);
            x = Vector128.Create(a[6]); c60 = Simd.FusedMultiplyAdd(x, b0, c60); c61 = Simd.FusedMultiplyAdd(x, b1, c61);
            x = Vector128.Create(a[7]); c70 = Simd.FusedMultiplyAdd(x, b0, c70); c71 = Simd.FusedMultiplyAdd(x, b1, c71);
        }
        c00.Store(tile); c01.Store(tile + 4); c10.Store(tile + 8); c11.Store(tile + 12);
        c20.Store(tile + 16); c21.Store(tile + 20); c30.Store(tile + 24); c31.Store(tile + 28);
        c40.Store(tile + 32); c41.Store(tile + 36); c50.Store(tile + 40); c51.Store(tile + 44);
        c60.Store(tile + 48); c61.Store(tile + 52); c70.Store(tile + 56); c71.Store(tile + 60);
    }

    private static void KernelScalar(int k, float* a, float* b, float* tile, bool resume)
    {
        if (!resume)
            for (int i = 0; i < 32; i++) tile[i] = 0;
        for (int kk = 0; kk < k; kk++, a += 4, b += 8)
            for (int r = 0; r < 4; r++)
                for (int j = 0; j < 8; j++)
                    tile[r * 8 + j] = MathF.FusedMultiplyAdd(a[r], b[j], tile[r * 8 + j]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile(float* tile, int tileWidth, float* c, int ldc, int rows, int cols, bool accumulate, float* rowBias)
    {
        for (int r = 0; r < rows; r++)
        {
            float* src = tile + r * tileWidth;
            float* dst = c + (long)r * ldc;
            int j = 0;
            if (rowBias != null)
            {
                // product + bias, the same sum a bias-filled C with accumulate gives.
                float bias = rowBias[r];
                if (Simd.Vector512Enabled)
                    for (; j + 16 <= cols; j += 16) (Vector512.Load(src + j) + Vector512.Create(bias)).Store(dst + j);
                if (Simd.Vector256Enabled)
                    for (; j + 8 <= cols; j += 8) (Vector256.Load(src + j) + Vector256.Create(bias)).Store(dst + j);
                for (; j + 4 <= cols; j += 4) (Vector128.Load(src + j) + Vector128.Create(bias)).Store(dst + j);
                for (; j < cols; j++) dst[j] = src[j] + bias;
                continue;
            }
            if (Simd.Vector512Enabled)
                for (; j + 16 <= cols; j += 16)
                {
                    var v = Vector512.Load(src + j);
                    (accumulate ? v + Vector512.Load(dst + j) : v).Store(dst + j);
                }
            if (Simd.Vector256Enabled)
                for (; j + 8 <= cols; j += 8)
                {
                    var v = Vector256.Load(src + j);
                    (accumulate ? v + Vector256.Load(dst + j) : v).Store(dst + j);
                }
            for (; j + 4 <= cols; j += 4)
            {
                var v = Vector128.Load(src + j);
                (accumulate ? v + Vector128.Load(dst + j) : v).Store(dst + j);
            }
            for (; j < cols; j++) dst[j] = accumulate ? dst[j] + src[j] : src[j];
        }
    }
}

/// <summary>
/// Runs <see cref="Gemm.MultiplyTiles"/> across a <see cref="WorkerPool"/>. One instance per engine; reusable and
/// allocation-free. Tiles are split on fixed boundaries, so the result is the same for any thread count.
/// </summary>
internal sealed unsafe class GemmRunner : IParallelWork
{
    private const long ParallelThreshold = 32 * 1024; // multiply-adds below which one thread is faster
    private readonly WorkerPool _pool;
    private readonly int _parts;
    private readonly object _chainsLock = new();
    private AlignedBuffer[] _chains = [];   // chain scratch for K-blocked products, one per team member or pool part
    private float* _a, _b, _c;
    private int _m, _n, _k, _ldc;
    private bool _accumulate;

    /// <summary>A runner whose large products use up to <paramref name="parts"/> threads of <paramref name="pool"/> (default: all of them).</summary>
    public GemmRunner(WorkerPool pool, int parts = int.MaxValue)
    {
        _pool = pool;
        _parts = Math.Min(parts, pool.ThreadCount);
    }

    /// <summary>
    /// y (=|+=) W·x for a weight W [M, K] packed with <see cref="Gemm.PackVector"/>, writing y[i] at
    /// <c>y[i·yStride]</c>. The batch-of-one path; single-threaded, since it is latency-bound.
    /// </summary>
    public void MultiplyVector(ReadOnlySpan<float> packedWeight, ReadOnlySpan<float> x, int m, int k, Span<float> y, int yStride, bool accumulate)
    {
        if (packedWeight.Length < Gemm.PackedVectorSize(m, k)) throw new ArgumentException("packed weight is too small", nameof(packedWeight));
        if (x.Length < k) throw new ArgumentException("x is too small", nameof(x));
        if (m > 0 && y.Length < (long)(m - 1) * yStride + 1) throw new ArgumentException("y is too small", nameof(y));
        fixed (float* w = packedWeight)
        fixed (float* xp = x)
        fixed (float* yp = y)
            Gemm.MultiplyVector(w, xp, m, k, yp, yStride, accumulate);
    }

    /// <summary>
    /// C_p[M, columns] (=|+=) packedA[M,K] × panel p of packedB, for <paramref name="panels"/> panels of [K, NR] each,
    /// with C_p at <c>c[p·panelStride]</c> (see <see cref="Gemm.MultiplyPanels"/>). Single-threaded: one micro-batch's
    /// share of the work.
    /// </summary>
    public void MultiplyPanels(ReadOnlySpan<float> packedA, ReadOnlySpan<float> packedB, int m, int k, int panels, int columns, Span<float> c, int ldc, int panelStride, bool accumulate, ReadOnlySpan<float> rowBias = default)
        => MultiplyPanels(packedA, packedB, m, k, panels, columns, c, ldc, panelStride, accumulate, TeamMember.Solo, rowBias);

    /// <summary>
    /// <paramref name="member"/>'s share of <see cref="MultiplyPanels(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, int, Span{float}, int, int, bool, ReadOnlySpan{float})"/>:
    /// the row blocks <see cref="TeamMember.Range"/> gives it, on the calling thread.
    /// </summary>
    public void MultiplyPanels(ReadOnlySpan<float> packedA, ReadOnlySpan<float> packedB, int m, int k, int panels, int columns, Span<float> c, int ldc, int panelStride, bool accumulate, TeamMember member, ReadOnlySpan<float> rowBias = default)
    {
        if (!rowBias.IsEmpty && (accumulate || rowBias.Length < m)) throw new ArgumentException($"rowBias needs {m} floats and accumulate false", nameof(rowBias));
        if (columns < 1 || columns > Gemm.NR) throw new ArgumentOutOfRangeException(nameof(columns), columns, $"columns must be in [1, {Gemm.NR}]");
        if (packedA.Length < Gemm.PackedASize(m, k)) throw new ArgumentException("packed A is too small", nameof(packedA));
        if (packedB.Length < (long)panels * Gemm.NR * k) throw new ArgumentException("packed B is too small", nameof(packedB));
        if (panels > 0 && m > 0 && c.Length < (long)(panels - 1) * panelStride + (long)(m - 1) * ldc + columns) throw new ArgumentException("C is too small", nameof(c));
        fixed (float* a = packedA)
        fixed (float* b = packedB)
        fixed (float* cp = c)
        fixed (float* bias = rowBias)
        {
            var (start, end) = member.Range((m + Gemm.MR - 1) / Gemm.MR);
            Gemm.MultiplyPanels(a, b, m, k, panels, columns, cp, ldc, panelStride, accumulate, rowBias.IsEmpty ? null : bias, start, end);
        }
    }

    /// <summary>C[M,N] (=|+=) packedA[M,K] × packedB[K,N]. The spans must stay alive for the call (they are pinned).</summary>
    public void Multiply(ReadOnlySpan<float> packedA, ReadOnlySpan<float> packedB, int m, int n, int k, Span<float> c, int ldc, bool accumulate)
    {
        CheckMultiply(packedA, packedB, m, n, k, c, ldc);
        fixed (float* a = packedA)
        fixed (float* b = packedB)
        fixed (float* cp = c)
        {
            int rowBlocks = (m + Gemm.MR - 1) / Gemm.MR;
            int panels = (n + Gemm.NR - 1) / Gemm.NR;
            if (_parts <= 1 || (long)m * n * k < ParallelThreshold || rowBlocks * panels < 2)
            {
                MultiplyRowBlocks(a, b, m, n, k, cp, ldc, accumulate, 0, rowBlocks, 0);
                return;
            }
            _a = a; _b = b; _c = cp; _m = m; _n = n; _k = k; _ldc = ldc; _accumulate = accumulate;
            _pool.Run(this, _parts);
            _a = _b = _c = null;
        }
    }

    /// <summary>
    /// <paramref name="member"/>'s share of C[M,N] (=|+=) packedA[M,K] × packedB[K,N]: the row blocks
    /// <see cref="TeamMember.Range"/> gives it, on the calling thread. A team of one runs the whole product as
    /// <see cref="Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, int, bool)"/> does.
    /// </summary>
    public void Multiply(ReadOnlySpan<float> packedA, ReadOnlySpan<float> packedB, int m, int n, int k, Span<float> c, int ldc, bool accumulate, TeamMember member)
    {
        if (member.Size == 1)
        {
            Multiply(packedA, packedB, m, n, k, c, ldc, accumulate);
            return;
        }
        CheckMultiply(packedA, packedB, m, n, k, c, ldc);
        var (start, end) = member.Range((m + Gemm.MR - 1) / Gemm.MR);
        fixed (float* a = packedA)
        fixed (float* b = packedB)
        fixed (float* cp = c)
            MultiplyRowBlocks(a, b, m, n, k, cp, ldc, accumulate, start, end, member.Index);
    }

    /// <summary>
    /// The whole of C[M,N] (=|+=) packedA[M,K] × packedB[K,N] on the calling thread, K-blocked with the chain scratch of
    /// <paramref name="slot"/> (a team member's index) where <see cref="Gemm.UseKBlocks"/> says so. For a member that
    /// owns whole row blocks of a larger product: the rows of a packed A from an MR-aligned row r are the packed A
    /// of those rows, at offset r·K. The same bits as any split of the larger product.
    /// </summary>
    public void MultiplyOnThread(ReadOnlySpan<float> packedA, ReadOnlySpan<float> packedB, int m, int n, int k, Span<float> c, int ldc, bool accumulate, int slot)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        CheckMultiply(packedA, packedB, m, n, k, c, ldc);
        fixed (float* a = packedA)
        fixed (float* b = packedB)
        fixed (float* cp = c)
            MultiplyRowBlocks(a, b, m, n, k, cp, ldc, accumulate, 0, (m + Gemm.MR - 1) / Gemm.MR, slot);
    }

    private static void CheckMultiply(ReadOnlySpan<float> packedA, ReadOnlySpan<float> packedB, int m, int n, int k, Span<float> c, int ldc)
    {
        if (packedA.Length < Gemm.PackedASize(m, k)) throw new ArgumentException("packed A is too small", nameof(packedA));
        if (packedB.Length < Gemm.PackedBSize(k, n)) throw new ArgumentException("packed B is too small", nameof(packedB));
        if (m > 0 && c.Length < (long)(m - 1) * ldc + n) throw new ArgumentException("C is too small", nameof(c));
    }

    /// <summary>
    /// Row blocks [start, end) of C across every panel, on the calling thread (matrix-vector products for narrow N),
    /// K-blocked with the chain scratch of <paramref name="slot"/> where <see cref="Gemm.UseKBlocks"/> says so.
    /// </summary>
    private void MultiplyRowBlocks(float* a, float* b, int m, int n, int k, float* c, int ldc, bool accumulate, int start, int end, int slot)
    {
        if (start == end) return;
        if (n <= Gemm.NarrowColumns)
        {
            Gemm.MultiplyNarrow(a, b, m, n, k, c, ldc, accumulate, start, end);
            return;
        }
        MultiplyTiles(a, b, m, n, k, c, ldc, accumulate, start, end, 0, (n + Gemm.NR - 1) / Gemm.NR, slot);
    }

    /// <summary>
    /// Tiles [rowStart, rowEnd) × [panelStart, panelEnd) on the calling thread, K-blocked with the chain scratch of
    /// <paramref name="slot"/> where <see cref="Gemm.UseKBlocks"/> says so for those panels.
    /// </summary>
    private void MultiplyTiles(float* a, float* b, int m, int n, int k, float* c, int ldc, bool accumulate, int rowStart, int rowEnd, int panelStart, int panelEnd, int slot)
    {
        int columns = (panelEnd - panelStart) * Gemm.NR;
        if (!Gemm.UseKBlocks(columns, k))
        {
            Gemm.MultiplyTiles(a, b, m, n, k, c, ldc, accumulate, rowStart, rowEnd, panelStart, panelEnd);
            return;
        }
        fixed (float* chains = ChainScratch(slot, Gemm.ChainScratchSize(columns)))
            Gemm.MultiplyTiles(a, b, m, n, k, c, ldc, accumulate, rowStart, rowEnd, panelStart, panelEnd, chains);
    }

    /// <summary>
    /// The chain scratch of <paramref name="slot"/>, grown to at least <paramref name="length"/> floats. Only the
    /// thread that owns a slot (a team member or pool part) uses it, so growing one slot never disturbs another;
    /// growth happens on the first deep product of a size, and steady-state steps allocate nothing.
    /// </summary>
    private Span<float> ChainScratch(int slot, int length)
    {
        var all = Volatile.Read(ref _chains);
        if (slot < all.Length && all[slot].Length >= length) return all[slot].AsSpan(0, length);
        lock (_chainsLock)
        {
            // Copy on write: a reader of the old array still finds its own slot's buffer there.
            var grown = new AlignedBuffer[Math.Max(slot + 1, _chains.Length)];
            Array.Fill(grown, AlignedBuffer.Empty);
            _chains.CopyTo(grown, 0);
            if (grown[slot].Length < length) grown[slot] = new AlignedBuffer(length);
            Volatile.Write(ref _chains, grown);
            return grown[slot].AsSpan(0, length);
        }
    }

    void IParallelWork.Execute(int part, int parts)
    {
        int rowBlocks = (_m + Gemm.MR - 1) / Gemm.MR;
        int panels = (_n + Gemm.NR - 1) / Gemm.NR;
        if (_n <= Gemm.NarrowColumns || rowBlocks >= panels)
        {
            var (start, end) = TeamMember.Split(rowBlocks, part, parts);
            MultiplyRowBlocks(_a, _b, _m, _n, _k, _c, _ldc, _accumulate, start, end, part);
        }
        else
        {
            var (start, end) = TeamMember.Split(panels, part, parts);
            MultiplyTiles(_a, _b, _m, _n, _k, _c, _ldc, _accumulate, 0, rowBlocks, start, end, part);
        }
    }
}
