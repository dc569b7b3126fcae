using SeqForecast.Engine.Kernels;
using SeqForecast.Randomness;

namespace SeqForecast.Tests.Engine.Kernels;

public class GemmTests
{
    private static float[] Random(int length, ulong seed)
    {
        var rng = new DeterministicRandom(seed);
        return Enumerable.Range(0, length).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
    }

    private static double[] Reference(float[] a, bool transA, float[] b, bool transB, int m, int n, int k)
    {
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int kk = 0; kk < k; kk++)
                    sum += (double)(transA ? a[kk * m + i] : a[i * k + kk]) * (transB ? b[j * k + kk] : b[kk * n + j]);
                c[i * n + j] = sum;
            }
        return c;
    }

    private static float[] Multiply(float[] a, bool transA, float[] b, bool transB, int m, int n, int k, int threads, float[]? initial = null)
    {
        var packedA = new float[Gemm.PackedASize(m, k)];
        var packedB = new float[Gemm.PackedBSize(k, n)];
        Gemm.PackA(a, transA ? m : k, transA, m, k, 0, 0, k, packedA);
        Gemm.PackB(b, transB ? k : n, transB, k, n, 0, k, packedB);
        var c = initial is null ? new float[m * n] : (float[])initial.Clone();
        using var pool = new WorkerPool(threads);
        new GemmRunner(pool).Multiply(packedA, packedB, m, n, k, c, n, accumulate: initial is not null);
        return c;
    }

    // Every size a SIMD tail can hit: rows around MR (6 or 8), columns around NR (16 or 32), and short K.
    private static IEnumerable<TestCaseData> Shapes()
    {
        foreach (int m in new[] { 1, 2, 5, 6, 7, 8, 9, 13, 17, 33 })
            foreach (int n in new[] { 1, 3, 8, 15, 16, 17, 31, 32, 33, 65 })
                yield return new TestCaseData(m, n, m % 3 + n % 5 + 1);
        yield return new TestCaseData(64, 256, 65);
        yield return new TestCaseData(256, 64, 128);
    }

    [TestCaseSource(nameof(Shapes))]
    public void Multiply_MatchesDoubleReferenceForEveryTail(int m, int n, int k)
    {
        foreach (var (transA, transB) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var a = Random(m * k, 1);
            var b = Random(k * n, 2);
            var expected = Reference(a, transA, b, transB, m, n, k);
            var actual = Multiply(a, transA, b, transB, m, n, k, threads: 1);
            for (int i = 0; i < expected.Length; i++)
                Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-5 * k), $"transA={transA} transB={transB} element {i}");
        }
    }

    [Test]
    public void Multiply_AccumulatesIntoC()
    {
        var a = Random(9 * 7, 3);
        var b = Random(7 * 20, 4);
        var initial = Random(9 * 20, 5);
        var expected = Reference(a, false, b, false, 9, 20, 7);
        var actual = Multiply(a, false, b, false, 9, 20, 7, 1, initial);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(actual[i], Is.EqualTo(expected[i] + initial[i]).Within(1e-5));
    }

    // K up to Gemm.KC, one panel of B, or tiles narrower than 512 bits run each tile at once (row blocks outermost from
    // Gemm.DeepK); otherwise the product is blocked (M blocks of Gemm.MCBlocks row blocks, K blocks of Gemm.KC, chains
    // parked in scratch). CI runs these at 512, 256, 128 and 0 bits. Either way each output is the FMA chain over k in order, added to
    // C once at the end: rows past one M block, K on and off a block boundary, and every way of running it.
    private static IEnumerable<TestCaseData> ChainShapes()
    {
        int rowsPastOneMBlock = Gemm.MCBlocks * Gemm.MR + 3;
        yield return new TestCaseData(13, 33, 40);
        yield return new TestCaseData(13, 33, Gemm.KC);
        yield return new TestCaseData(13, 33, Gemm.KC + 1);
        yield return new TestCaseData(rowsPastOneMBlock, Gemm.NR, 3 * Gemm.KC);
        yield return new TestCaseData(13, 5 * Gemm.NR + 3, 2 * Gemm.KC + 5); // more panels than row blocks: pool threads split panels
        yield return new TestCaseData(rowsPastOneMBlock, 70, 2 * Gemm.KC);
        yield return new TestCaseData(rowsPastOneMBlock, 2 * Gemm.NR + 5, 3 * Gemm.KC + 7);
        yield return new TestCaseData(20, 70, Gemm.DeepK);
        yield return new TestCaseData(20, 70, Gemm.DeepK + 7);
        // Narrow products (N ≤ Gemm.NarrowColumns): full row blocks four at a time, then one at a time and a partial
        // last block, however the threads split the row blocks.
        yield return new TestCaseData(37, 1, 70);
        yield return new TestCaseData(67, 4, 1920);
        yield return new TestCaseData(4 * Gemm.MR, 3, 40);
    }

    [TestCaseSource(nameof(ChainShapes))]
    public void Multiply_IsTheInOrderFmaChainWithAndWithoutKBlocks(int m, int n, int k)
    {
        var a = Random(m * k, 8);
        var b = Random(k * n, 9);
        var initial = Random(m * n, 10);
        var expected = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float chain = 0;
                for (int kk = 0; kk < k; kk++) chain = MathF.FusedMultiplyAdd(a[i * k + kk], b[kk * n + j], chain);
                expected[i * n + j] = initial[i * n + j] + chain;
            }
        Assert.Multiple(() =>
        {
            Assert.That(Multiply(a, false, b, false, m, n, k, 1, initial), Is.EqualTo(expected), "one thread");
            Assert.That(Multiply(a, false, b, false, m, n, k, 2, initial), Is.EqualTo(expected), "two pool threads");
            Assert.That(Multiply(a, false, b, false, m, n, k, 3, initial), Is.EqualTo(expected), "three pool threads");
            Assert.That(MultiplyAsTeam(a, b, m, n, k, 3, initial), Is.EqualTo(expected), "a team of three");
        });
    }

    [Test]
    public void Multiply_OverwritesWhenNotAccumulatingAfterADeeperProductOnTheSameRunner()
    {
        // The chain scratch is reused between products: a product must not resume chains a larger one left there
    // (at widths below 512 bits nothing is blocked, and this is a plain check of two products).
        int m = 40, n = 2 * Gemm.NR + 1, k = 3 * Gemm.KC + 1;
        using var pool = new WorkerPool(1);
        var runner = new GemmRunner(pool);
        var (packedA, packedB) = Pack(Random(m * k, 11), Random(k * n, 12), m, n, k);
        var c = new float[m * n];
        runner.Multiply(packedA, packedB, m, n, k, c, n, accumulate: false);
        int k2 = 2 * Gemm.KC + 3;
        var a2 = Random(m * k2, 13);
        var b2 = Random(k2 * n, 14);
        var (packedA2, packedB2) = Pack(a2, b2, m, n, k2);
        runner.Multiply(packedA2, packedB2, m, n, k2, c, n, accumulate: false);
        var expected = Reference(a2, false, b2, false, m, n, k2);
        for (int i = 0; i < expected.Length; i++)
            Assert.That(c[i], Is.EqualTo(expected[i]).Within(1e-5 * k2), $"element {i}");
    }

    private static (float[] A, float[] B) Pack(float[] a, float[] b, int m, int n, int k)
    {
        var packedA = new float[Gemm.PackedASize(m, k)];
        var packedB = new float[Gemm.PackedBSize(k, n)];
        Gemm.PackA(a, k, false, m, k, 0, 0, k, packedA);
        Gemm.PackB(b, n, false, k, n, 0, k, packedB);
        return (packedA, packedB);
    }

    /// <summary>C = initial + A·B by a team of <paramref name="size"/> threads, each calling the member overload with its index.</summary>
    private static float[] MultiplyAsTeam(float[] a, float[] b, int m, int n, int k, int size, float[] initial)
    {
        var (packedA, packedB) = Pack(a, b, m, n, k);
        var c = (float[])initial.Clone();
        using var pool = new WorkerPool(1);
        var runner = new GemmRunner(pool);
        var team = new Team(size);
        var threads = Enumerable.Range(0, size).Select(index => new Thread(() =>
            runner.Multiply(packedA, packedB, m, n, k, c, n, accumulate: true, team.Member(index)))).ToList();
        threads.ForEach(t => t.Start());
        Assert.That(threads.All(t => t.Join(TimeSpan.FromSeconds(60))), Is.True, "every member finished");
        return c;
    }

    [TestCase(64, 256, 129)]
    [TestCase(256, 64, 64)]
    [TestCase(7, 300, 33)]
    public void Multiply_IsBitIdenticalForAnyThreadCount(int m, int n, int k)
    {
        var a = Random(m * k, 6);
        var b = Random(k * n, 7);
        var one = Multiply(a, false, b, false, m, n, k, 1);
        Assert.Multiple(() =>
        {
            Assert.That(Multiply(a, false, b, false, m, n, k, 2), Is.EqualTo(one));
            Assert.That(Multiply(a, false, b, false, m, n, k, 3), Is.EqualTo(one));
        });
    }

    [TestCase(29, 7)]
    [TestCase(64, 40)]
    public void PackA_PiecesOfRowsAtAnyRowOffsetLandWhereTheWholePutsThem(int m, int k)
    {
        // Gate blocks start at multiples of H, which need not be multiples of MR (6 with the 256-bit tiles): rows
        // packed in pieces from any row offset must fill the same places as the whole matrix packed at once.
        var a = Random(m * k, 10);
        var whole = new float[Gemm.PackedASize(m, k)];
        Gemm.PackA(a, k, false, m, k, 0, 0, k, whole);
        foreach (var cuts in new[] { new[] { 0, 5, 13, m }, new[] { 0, 1, 2, 9, 16, m }, new[] { 0, m / 2, m } })
        {
            var pieces = new float[whole.Length];
            for (int c = 0; c + 1 < cuts.Length; c++)
                Gemm.PackA(a.AsSpan(cuts[c] * k), k, false, cuts[c + 1] - cuts[c], k, cuts[c], 0, k, pieces);
            Assert.That(pieces, Is.EqualTo(whole), $"cuts {string.Join(", ", cuts)}");
        }
    }

    [TestCase(10, 3, 5)]
    [TestCase(17, 32, 40)]
    [TestCase(64, 8, 64)]
    public void PackA_StacksPiecesAlongKAndRows(int m, int k1, int k2)
    {
        // [P | Q] packed by two calls equals packing the concatenation (long pieces take the 8×8 transpose path).
        var p = Random(m * k1, 8);
        var q = Random(m * k2, 9);
        var whole = new float[m * (k1 + k2)];
        for (int r = 0; r < m; r++)
        {
            p.AsSpan(r * k1, k1).CopyTo(whole.AsSpan(r * (k1 + k2)));
            q.AsSpan(r * k2, k2).CopyTo(whole.AsSpan(r * (k1 + k2) + k1));
        }
        var stacked = new float[Gemm.PackedASize(m, k1 + k2)];
        Gemm.PackA(p, k1, false, m, k1, 0, 0, k1 + k2, stacked);
        Gemm.PackA(q, k2, false, m, k2, 0, k1, k1 + k2, stacked);
        var direct = new float[stacked.Length];
        Gemm.PackA(whole, k1 + k2, false, m, k1 + k2, 0, 0, k1 + k2, direct);
        Assert.That(stacked, Is.EqualTo(direct));
        for (int r = 0; r < m; r++)
            for (int kk = 0; kk < k1 + k2; kk++)
                Assert.That(direct[r / Gemm.MR * Gemm.MR * (k1 + k2) + kk * Gemm.MR + r % Gemm.MR], Is.EqualTo(whole[r * (k1 + k2) + kk]), $"A[{r}, {kk}]");
    }

    [TestCase(32, 8, 0, 8)]
    [TestCase(64, 32, 32, 96)]
    [TestCase(40, 19, 3, 30)]
    public void PackB_TransposedPiecesLandAtTheirRows(int n, int kLength, int kOffset, int kTotal)
    {
        // source is [n, kLength] (row j = column j of B); packed B element (kOffset + kk, j) = source[j·ld + kk].
        int ld = kLength + 2;
        var source = Random(n * ld, 40);
        var packed = new float[Gemm.PackedBSize(kTotal, n)];
        Gemm.PackB(source, ld, true, kLength, n, kOffset, kTotal, packed);
        for (int kk = 0; kk < kLength; kk++)
            for (int j = 0; j < n; j++)
                Assert.That(packed[j / Gemm.NR * Gemm.NR * kTotal + (kOffset + kk) * Gemm.NR + j % Gemm.NR], Is.EqualTo(source[j * ld + kk]), $"B[{kOffset + kk}, {j}]");
    }

    [Test]
    public void Multiply_RejectsShortOutput()
    {
        using var pool = new WorkerPool(1);
        Assert.Throws<ArgumentException>(() => new GemmRunner(pool).Multiply(new float[Gemm.PackedASize(4, 4)], new float[Gemm.PackedBSize(4, 4)], 4, 4, 4, new float[15], 4, false));
    }

    public static IEnumerable<TestCaseData> VectorShapes()
    {
        foreach (int n in new[] { 1, 7, 15, 16, 17, 31, 48, 63, 64, 65, 127, 128, 129, 192, 256, 300 })
            yield return new TestCaseData(n, n % 7 + 1);
        yield return new TestCaseData(256, 64);
        yield return new TestCaseData(1024, 256);
    }

    [TestCaseSource(nameof(VectorShapes))]
    public void MultiplyVector_MatchesDoubleReferenceForEveryTail(int n, int k)
    {
        var w = Random(n * k, 10);
        var x = Random(k, 11);
        var packed = new float[Gemm.PackedVectorSize(n, k)];
        Gemm.PackVector(w, k, n, k, packed);
        var expected = Reference(w, false, x, false, n, 1, k);
        using var pool = new WorkerPool(1);
        var runner = new GemmRunner(pool);
        var y = new float[n];
        runner.MultiplyVector(packed, x, n, k, y, 1, accumulate: false);
        // Strided output, accumulating into what is there.
        var strided = new float[3 * n];
        Array.Fill(strided, 0.5f);
        runner.MultiplyVector(packed, x, n, k, strided, 3, accumulate: true);
        for (int i = 0; i < n; i++)
        {
            Assert.That(y[i], Is.EqualTo(expected[i]).Within(1e-5 * k), $"y[{i}]");
            Assert.That(strided[3 * i], Is.EqualTo(0.5f + y[i]), $"strided y[{i}]");
            Assert.That(strided[3 * i + 1], Is.EqualTo(0.5f), $"gap after y[{i}]");
        }
    }

    [TestCase(8, 256, 64)]
    [TestCase(1, 300, 129)]
    public void MultiplyVector_IsBitIdenticalToTheTileKernelColumn(int columns, int n, int k)
    {
        // y = W·x from the matrix-vector kernel equals column j of W·X from the tile kernel, bit for bit.
        var w = Random(n * k, 12);
        var xs = Random(k * columns, 13);
        var tiled = Multiply(w, false, xs, false, n, columns, k, threads: 1);
        var packed = new float[Gemm.PackedVectorSize(n, k)];
        Gemm.PackVector(w, k, n, k, packed);
        using var pool = new WorkerPool(1);
        for (int j = 0; j < columns; j++)
        {
            var x = Enumerable.Range(0, k).Select(kk => xs[kk * columns + j]).ToArray();
            var y = new float[n];
            new GemmRunner(pool).MultiplyVector(packed, x, n, k, y, 1, accumulate: false);
            for (int i = 0; i < n; i++) Assert.That(y[i], Is.EqualTo(tiled[i * columns + j]), $"column {j} row {i}");
        }
    }

    [TestCase(256, 64, 30, 32)]
    [TestCase(13, 5, 4, 7)]
    [TestCase(40, 1, 3, 1)]
    public void MultiplyPanels_WritesEachStepsProductAtItsStride(int m, int k, int panels, int columns)
    {
        columns = Math.Min(columns, Gemm.NR); // a panel is NR wide: 32 with Vector512, 16 with Vector256, 8 without
        // One GEMM over T panels of [K, columns] writes C_t = A × X_t at t·stride, as T separate products would.
        var a = Random(m * k, 14);
        var packedA = new float[Gemm.PackedASize(m, k)];
        Gemm.PackA(a, k, false, m, k, 0, 0, k, packedA);
        var packedB = new float[panels * Gemm.NR * k];
        var steps = new float[panels][];
        for (int t = 0; t < panels; t++)
        {
            steps[t] = Random(k * columns, 20 + (ulong)t);
            Gemm.PackB(steps[t], columns, false, k, columns, 0, k, packedB.AsSpan(t * Gemm.NR * k, Gemm.NR * k));
        }
        int stride = m * columns + 3;
        var c = new float[panels * stride];
        Array.Fill(c, 1f);
        using var pool = new WorkerPool(1);
        new GemmRunner(pool).MultiplyPanels(packedA, packedB, m, k, panels, columns, c, columns, stride, accumulate: true);
        // With a row bias instead of accumulating: product + bias[row], the same bits as a bias-filled C.
        var rowBias = Random(m, 15);
        var biased = new float[panels * stride];
        Array.Fill(biased, 7f);
        new GemmRunner(pool).MultiplyPanels(packedA, packedB, m, k, panels, columns, biased, columns, stride, accumulate: false, rowBias: rowBias);
        var filled = new float[panels * stride];
        for (int t = 0; t < panels; t++)
            for (int i = 0; i < m * columns; i++) filled[t * stride + i] = rowBias[i / columns];
        new GemmRunner(pool).MultiplyPanels(packedA, packedB, m, k, panels, columns, filled, columns, stride, accumulate: true);
        for (int t = 0; t < panels; t++)
        {
            var expected = Reference(a, false, steps[t], false, m, columns, k);
            for (int i = 0; i < m * columns; i++)
            {
                Assert.That(c[t * stride + i], Is.EqualTo(1 + expected[i]).Within(1e-5 * k), $"step {t} element {i}");
                Assert.That(biased[t * stride + i], Is.EqualTo(filled[t * stride + i]), $"step {t} biased element {i}");
            }
            for (int i = m * columns; i < stride; i++)
            {
                Assert.That(c[t * stride + i], Is.EqualTo(1f), $"step {t} gap {i}");
                Assert.That(biased[t * stride + i], Is.EqualTo(7f), $"step {t} biased gap {i}");
            }
        }
    }

    [Test]
    public void MultiplyPanels_RejectsTooManyColumnsAndShortOutput()
    {
        using var pool = new WorkerPool(1);
        var runner = new GemmRunner(pool);
        var a = new float[Gemm.PackedASize(8, 4)];
        var b = new float[2 * Gemm.NR * 4];
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => runner.MultiplyPanels(a, b, 8, 4, 2, Gemm.NR + 1, new float[1000], Gemm.NR + 1, 500, false));
        Assert.That(ex!.ParamName, Is.EqualTo("columns"));
        Assert.Throws<ArgumentException>(() => runner.MultiplyPanels(a, b, 8, 4, 2, 4, new float[40], 4, 32, false));
        Assert.Throws<ArgumentException>(() => runner.MultiplyPanels(a, b, 8, 4, 2, 4, new float[1000], 4, 32, true, new float[8]));
        Assert.Throws<ArgumentException>(() => runner.MultiplyPanels(a, b, 8, 4, 2, 4, new float[1000], 4, 32, false, new float[7]));
    }

    [Test]
    public void TileShape_FollowsTheWidestAcceleratedVector()
    {
        // CI runs the engine tests twice, the second time with DOTNET_EnableAVX512=0: the line below shows which
        // kernels a run exercised.
        TestContext.Out.WriteLine($"GEMM tiles {Gemm.MR}x{Gemm.NR}, vector width {Gemm.VectorWidth}");
        TestContext.Out.WriteLine($"Vector512.IsHardwareAccelerated {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, Avx512F {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}");
        var (mr, nr, width) = Simd.VectorBits switch { 512 => (8, 32, 16), 256 => (6, 16, 8), 128 => (8, 8, 4), _ => (4, 8, 1) };
        Assert.That((Gemm.MR, Gemm.NR, Gemm.VectorWidth), Is.EqualTo((mr, nr, width)));
    }
}
