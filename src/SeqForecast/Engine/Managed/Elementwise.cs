using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SeqForecast.Engine.Managed;

/// <summary>
/// Fused elementwise kernels for the backward passes, where one pass replaces several TensorPrimitives calls.
/// Conventions: inputs, then outputs; all spans have the same length; nothing is allocated.
/// Forward activations are fused in <see cref="Kernels.Activations"/>.
/// </summary>
internal static class Elementwise
{
    /// <summary>
    /// One LSTM step backward, fused. Inputs: the activated gates [i, f, g, o] (each n long), tanh(c_t), c_{t−1}, the
    /// output gradient of step t and <paramref name="dHidden"/> (the gradient reaching h_t from step t + 1). Writes the
    /// pre-activation gradients <paramref name="dGates"/> [di, df, dg, do] and replaces <paramref name="dCell"/>
    /// (the gradient reaching c_t) with the one reaching c_{t−1}:
    /// <code>
    /// dh = dHidden + dOutput      do = dh·tanh(c)·o(1−o)      dc = dCell + dh·o·(1 − tanh²(c))
    /// di = dc·g·i(1−i)   df = dc·c_{t−1}·f(1−f)   dg = dc·i·(1 − g²)   dCell ← dc·f
    /// </code>
    /// </summary>
    public static void LstmCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> tanhCell, ReadOnlySpan<float> previousCell, ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dHidden, Span<float> dCell, Span<float> dGates, int n)
        => LstmCellBackward(gates, tanhCell, previousCell, dOutput, dHidden, dCell, dGates, n, 0, n);

    /// <summary>The values [start, end) of each gate only (a team member's hidden units); the same bits as a whole call.</summary>
    public static void LstmCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> tanhCell, ReadOnlySpan<float> previousCell, ReadOnlySpan<float> dOutput, ReadOnlySpan<float> dHidden, Span<float> dCell, Span<float> dGates, int n, int start, int end)
    {
        if (gates.Length < 4 * n || dGates.Length < 4 * n || tanhCell.Length < n || previousCell.Length < n || dOutput.Length < n || dHidden.Length < n || dCell.Length < n)
            throw new ArgumentException($"every span must hold n = {n} values per gate");
        if (start < 0 || end > n || start > end)
            throw new ArgumentOutOfRangeException(nameof(start), $"[start, end) = [{start}, {end}) must lie in [0, {n}]");
        int j = start;
        if (Kernels.Simd.Vector512Enabled)
        {
            ref float g0 = ref MemoryMarshal.GetReference(gates);
            ref float tc0 = ref MemoryMarshal.GetReference(tanhCell);
            ref float cp0 = ref MemoryMarshal.GetReference(previousCell);
            ref float dy0 = ref MemoryMarshal.GetReference(dOutput);
            ref float dh0 = ref MemoryMarshal.GetReference(dHidden);
            ref float dc0 = ref MemoryMarshal.GetReference(dCell);
            ref float dg0 = ref MemoryMarshal.GetReference(dGates);
            var one = Vector512<float>.One;
            for (; j + 16 <= end; j += 16)
            {
                nuint u = (nuint)j, un = (nuint)n;
                var i = Vector512.LoadUnsafe(ref g0, u);
                var f = Vector512.LoadUnsafe(ref g0, un + u);
                var g = Vector512.LoadUnsafe(ref g0, 2 * un + u);
                var o = Vector512.LoadUnsafe(ref g0, 3 * un + u);
                var tc = Vector512.LoadUnsafe(ref tc0, u);
                var dh = Vector512.LoadUnsafe(ref dh0, u) + Vector512.LoadUnsafe(ref dy0, u);
                (dh * tc * o * (one - o)).StoreUnsafe(ref dg0, 3 * un + u);
                var dc = Vector512.LoadUnsafe(ref dc0, u) + dh * o * (one - tc * tc);
                (dc * g * i * (one - i)).StoreUnsafe(ref dg0, u);
                (dc * Vector512.LoadUnsafe(ref cp0, u) * f * (one - f)).StoreUnsafe(ref dg0, un + u);
                (dc * i * (one - g * g)).StoreUnsafe(ref dg0, 2 * un + u);
                (dc * f).StoreUnsafe(ref dc0, u);
            }
        }
        else if (Kernels.Simd.Vector256Enabled)
        {
            // The same operations in the same order as the Vector512 loop and the scalar tail: the same bits.
            ref float g0 = ref MemoryMarshal.GetReference(gates);
            ref float tc0 = ref MemoryMarshal.GetReference(tanhCell);
            ref float cp0 = ref MemoryMarshal.GetReference(previousCell);
            ref float dy0 = ref MemoryMarshal.GetReference(dOutput);
            ref float dh0 = ref MemoryMarshal.GetReference(dHidden);
            ref float dc0 = ref MemoryMarshal.GetReference(dCell);
            ref float dg0 = ref MemoryMarshal.GetReference(dGates);
            var one = Vector256<float>.One;
            for (; j + 8 <= end; j += 8)
            {
                nuint u = (nuint)j, un = (nuint)n;
                var i = Vector256.LoadUnsafe(ref g0, u);
                var f = Vector256.LoadUnsafe(ref g0, un + u);
                var g = Vector256.LoadUnsafe(ref g0, 2 * un + u);
                var o = Vector256.LoadUnsafe(ref g0, 3 * un + u);
                var tc = Vector256.LoadUnsafe(ref tc0, u);
                var dh = Vector256.LoadUnsafe(ref dh0, u) + Vector256.LoadUnsafe(ref dy0, u);
                (dh * tc * o * (one - o)).StoreUnsafe(ref dg0, 3 * un + u);
                var dc = Vector256.LoadUnsafe(ref dc0, u) + dh * o * (one - tc * tc);
                (dc * g * i * (one - i)).StoreUnsafe(ref dg0, u);
                (dc * Vector256.LoadUnsafe(ref cp0, u) * f * (one - f)).StoreUnsafe(ref dg0, un + u);
                (dc * i * (one - g * g)).StoreUnsafe(ref dg0, 2 * un + u);
                (dc * f).StoreUnsafe(ref dc0, u);
            }
        }
        else if (Kernels.Simd.Vector128Enabled)
        {
            // The same operations in the same order as the wider loops and the scalar tail: the same bits.
            ref float g0 = ref MemoryMarshal.GetReference(gates);
            ref float tc0 = ref MemoryMarshal.GetReference(tanhCell);
            ref float cp0 = ref MemoryMarshal.GetReference(previousCell);
            ref float dy0 = ref MemoryMarshal.GetReference(dOutput);
            ref float dh0 = ref MemoryMarshal.GetReference(dHidden);
            ref float dc0 = ref MemoryMarshal.GetReference(dCell);
            ref float dg0 = ref MemoryMarshal.GetReference(dGates);
            var one = Vector128<float>.One;
            for (; j + 4 <= end; j += 4)
            {
                nuint u = (nuint)j, un = (nuint)n;
                var i = Vector128.LoadUnsafe(ref g0, u);
                var f = Vector128.LoadUnsafe(ref g0, un + u);
                var g = Vector128.LoadUnsafe(ref g0, 2 * un + u);
                var o = Vector128.LoadUnsafe(ref g0, 3 * un + u);
                var tc = Vector128.LoadUnsafe(ref tc0, u);
                var dh = Vector128.LoadUnsafe(ref dh0, u) + Vector128.LoadUnsafe(ref dy0, u);
                (dh * tc * o * (one - o)).StoreUnsafe(ref dg0, 3 * un + u);
                var dc = Vector128.LoadUnsafe(ref dc0, u) + dh * o * (one - tc * tc);
                (dc * g * i * (one - i)).StoreUnsafe(ref dg0, u);
                (dc * Vector128.LoadUnsafe(ref cp0, u) * f * (one - f)).StoreUnsafe(ref dg0, un + u);
                (dc * i * (one - g * g)).StoreUnsafe(ref dg0, 2 * un + u);
                (dc * f).StoreUnsafe(ref dc0, u);
            }
        }
        for (; j < end; j++)
        {
            float i = gates[j], f = gates[n + j], g = gates[2 * n + j], o = gates[3 * n + j], tc = tanhCell[j];
            float dh = dHidden[j] + dOutput[j];
            dGates[3 * n + j] = dh * tc * o * (1 - o);
            float dc = dCell[j] + dh * o * (1 - tc * tc);
            dGates[j] = dc * g * i * (1 - i);
            dGates[n + j] = dc * previousCell[j] * f * (1 - f);
            dGates[2 * n + j] = dc * i * (1 - g * g);
            dCell[j] = dc * f;
        }
    }

    /// <summary>
    /// One GRU step backward, fused. Inputs: the activated gates [r, z, n] (each n long), W_hn h_{t−1} + b_hn, h_{t−1},
    /// the output gradient of step t and <paramref name="dHidden"/> (the gradient reaching h_t from step t + 1, replaced
    /// by the direct part of the gradient reaching h_{t−1}, dh·z; the recurrent GEMM adds the rest). Writes the x-projection
    /// pre-activation gradients [dr, dz, dn] and the h-projection ones [dr, dz, r·dn]:
    /// <code>
    /// dh = dHidden + dOutput   dz = dh·(h_{t−1} − n)·z(1−z)   dn = (dh − dh·z)·(1 − n²)   dr = dn·(W_hn h + b_hn)·r(1−r)
    /// </code>
    /// </summary>
    public static void GruCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> hiddenNew, ReadOnlySpan<float> previous, ReadOnlySpan<float> dOutput, Span<float> dHidden, Span<float> dInputPre, Span<float> dHiddenPre, int n)
        => GruCellBackward(gates, hiddenNew, previous, dOutput, dHidden, dInputPre, dHiddenPre, n, 0, n);

    /// <summary>The values [start, end) of each gate only (a team member's hidden units); the same bits as a whole call.</summary>
    public static void GruCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> hiddenNew, ReadOnlySpan<float> previous, ReadOnlySpan<float> dOutput, Span<float> dHidden, Span<float> dInputPre, Span<float> dHiddenPre, int n, int start, int end)
    {
        if (gates.Length < 3 * n || dInputPre.Length < 3 * n || dHiddenPre.Length < 3 * n || hiddenNew.Length < n || previous.Length < n || dOutput.Length < n || dHidden.Length < n)
            throw new ArgumentException($"every span must hold n = {n} values per gate");
        if (start < 0 || end > n || start > end)
            throw new ArgumentOutOfRangeException(nameof(start), $"[start, end) = [{start}, {end}) must lie in [0, {n}]");
        int j = start;
        if (Kernels.Simd.Vector512Enabled)
        {
            ref float g0 = ref MemoryMarshal.GetReference(gates);
            ref float hn0 = ref MemoryMarshal.GetReference(hiddenNew);
            ref float hp0 = ref MemoryMarshal.GetReference(previous);
            ref float dy0 = ref MemoryMarshal.GetReference(dOutput);
            ref float dh0 = ref MemoryMarshal.GetReference(dHidden);
            ref float dx0 = ref MemoryMarshal.GetReference(dInputPre);
            ref float dp0 = ref MemoryMarshal.GetReference(dHiddenPre);
            var one = Vector512<float>.One;
            for (; j + 16 <= end; j += 16)
            {
                nuint u = (nuint)j, un = (nuint)n;
                var r = Vector512.LoadUnsafe(ref g0, u);
                var z = Vector512.LoadUnsafe(ref g0, un + u);
                var candidate = Vector512.LoadUnsafe(ref g0, 2 * un + u);
                var dh = Vector512.LoadUnsafe(ref dh0, u) + Vector512.LoadUnsafe(ref dy0, u);
                var dz = (Vector512.LoadUnsafe(ref hp0, u) - candidate) * dh * z * (one - z);
                var direct = dh * z;
                var dn = (dh - direct) * (one - candidate * candidate);
                var dr = dn * Vector512.LoadUnsafe(ref hn0, u) * r * (one - r);
                dr.StoreUnsafe(ref dx0, u);
                dz.StoreUnsafe(ref dx0, un + u);
                dn.StoreUnsafe(ref dx0, 2 * un + u);
                dr.StoreUnsafe(ref dp0, u);
                dz.StoreUnsafe(ref dp0, un + u);
                (dn * r).StoreUnsafe(ref dp0, 2 * un + u);
                direct.StoreUnsafe(ref dh0, u);
            }
        }
        else if (Kernels.Simd.Vector256Enabled)
        {
            // The same operations in the same order as the Vector512 loop and the scalar tail: the same bits.
            ref float g0 = ref MemoryMarshal.GetReference(gates);
            ref float hn0 = ref MemoryMarshal.GetReference(hiddenNew);
            ref float hp0 = ref MemoryMarshal.GetReference(previous);
            ref float dy0 = ref MemoryMarshal.GetReference(dOutput);
            ref float dh0 = ref MemoryMarshal.GetReference(dHidden);
            ref float dx0 = ref MemoryMarshal.GetReference(dInputPre);
            ref float dp0 = ref MemoryMarshal.GetReference(dHiddenPre);
            var one = Vector256<float>.One;
            for (; j + 8 <= end; j += 8)
            {
                nuint u = (nuint)j, un = (nuint)n;
                var r = Vector256.LoadUnsafe(ref g0, u);
                var z = Vector256.LoadUnsafe(ref g0, un + u);
                var candidate = Vector256.LoadUnsafe(ref g0, 2 * un + u);
                var dh = Vector256.LoadUnsafe(ref dh0, u) + Vector256.LoadUnsafe(ref dy0, u);
                var dz = (Vector256.LoadUnsafe(ref hp0, u) - candidate) * dh * z * (one - z);
                var direct = dh * z;
                var dn = (dh - direct) * (one - candidate * candidate);
                var dr = dn * Vector256.LoadUnsafe(ref hn0, u) * r * (one - r);
                dr.StoreUnsafe(ref dx0, u);
                dz.StoreUnsafe(ref dx0, un + u);
                dn.StoreUnsafe(ref dx0, 2 * un + u);
                dr.StoreUnsafe(ref dp0, u);
                dz.StoreUnsafe(ref dp0, un + u);
                (dn * r).StoreUnsafe(ref dp0, 2 * un + u);
                direct.StoreUnsafe(ref dh0, u);
            }
        }
        else if (Kernels.Simd.Vector128Enabled)
        {
            // The same operations in the same order as the wider loops and the scalar tail: the same bits.
            ref float g0 = ref MemoryMarshal.GetReference(gates);
            ref float hn0 = ref MemoryMarshal.GetReference(hiddenNew);
            ref float hp0 = ref MemoryMarshal.GetReference(previous);
            ref float dy0 = ref MemoryMarshal.GetReference(dOutput);
            ref float dh0 = ref MemoryMarshal.GetReference(dHidden);
            ref float dx0 = ref MemoryMarshal.GetReference(dInputPre);
            ref float dp0 = ref MemoryMarshal.GetReference(dHiddenPre);
            var one = Vector128<float>.One;
            for (; j + 4 <= end; j += 4)
            {
                nuint u = (nuint)j, un = (nuint)n;
                var r = Vector128.LoadUnsafe(ref g0, u);
                var z = Vector128.LoadUnsafe(ref g0, un + u);
                var candidate = Vector128.LoadUnsafe(ref g0, 2 * un + u);
                var dh = Vector128.LoadUnsafe(ref dh0, u) + Vector128.LoadUnsafe(ref dy0, u);
                var dz = (Vector128.LoadUnsafe(ref hp0, u) - candidate) * dh * z * (one - z);
                var direct = dh * z;
                var dn = (dh - direct) * (one - candidate * candidate);
                var dr = dn * Vector128.LoadUnsafe(ref hn0, u) * r * (one - r);
                dr.StoreUnsafe(ref dx0, u);
                dz.StoreUnsafe(ref dx0, un + u);
                dn.StoreUnsafe(ref dx0, 2 * un + u);
                dr.StoreUnsafe(ref dp0, u);
                dz.StoreUnsafe(ref dp0, un + u);
                (dn * r).StoreUnsafe(ref dp0, 2 * un + u);
                direct.StoreUnsafe(ref dh0, u);
            }
        }
        for (; j < end; j++)
        {
            float r = gates[j], z = gates[n + j], candidate = gates[2 * n + j];
            float dh = dHidden[j] + dOutput[j];
            float dz = (previous[j] - candidate) * dh * z * (1 - z);
            float direct = dh * z;
            float dn = (dh - direct) * (1 - candidate * candidate);
            float dr = dn * hiddenNew[j] * r * (1 - r);
            dInputPre[j] = dr;
            dInputPre[n + j] = dz;
            dInputPre[2 * n + j] = dn;
            dHiddenPre[j] = dr;
            dHiddenPre[n + j] = dz;
            dHiddenPre[2 * n + j] = dn * r;
            dHidden[j] = direct;
        }
    }

    /// <summary>
    /// Column <paramref name="column"/> of a row-major matrix with <paramref name="columns"/> columns:
    /// <c>destination[q] = matrix[q·columns + column]</c> for every q of <paramref name="destination"/>.
    /// </summary>
    public static void GatherColumn(ReadOnlySpan<float> matrix, int columns, int column, Span<float> destination)
    {
        if ((uint)column >= (uint)columns || (long)(destination.Length - 1) * columns + column >= matrix.Length)
            throw new ArgumentException($"column {column} of {columns} needs {destination.Length} rows; the matrix has {matrix.Length} floats");
        ref float from = ref Unsafe.Add(ref MemoryMarshal.GetReference(matrix), column);
        ref float to = ref MemoryMarshal.GetReference(destination);
        for (int q = 0; q < destination.Length; q++) Unsafe.Add(ref to, q) = Unsafe.Add(ref from, (nint)q * columns);
    }

    /// <summary>
    /// Adds <paramref name="values"/> to column <paramref name="column"/> of a row-major matrix with
    /// <paramref name="columns"/> columns: <c>matrix[q·columns + column] += values[q]</c>.
    /// </summary>
    public static void AddToColumn(ReadOnlySpan<float> values, Span<float> matrix, int columns, int column)
    {
        if ((uint)column >= (uint)columns || (long)(values.Length - 1) * columns + column >= matrix.Length)
            throw new ArgumentException($"column {column} of {columns} needs {values.Length} rows; the matrix has {matrix.Length} floats");
        ref float from = ref MemoryMarshal.GetReference(values);
        ref float to = ref Unsafe.Add(ref MemoryMarshal.GetReference(matrix), column);
        for (int q = 0; q < values.Length; q++) Unsafe.Add(ref to, (nint)q * columns) += Unsafe.Add(ref from, q);
    }

    /// <summary>Lanes per row of a row-sum accumulator (<see cref="AccumulateRowSums"/>).</summary>
    public const int RowSumLanes = 16;

    /// <summary>
    /// Adds the rows of a [rows, columns] block to a [rows, <see cref="RowSumLanes"/>] accumulator: column c of row r goes
    /// to lane c mod 16 (whole vectors), so a bias gradient is summed over time steps and the batch one step at a time,
    /// while the block is in L1, and reduced once by <see cref="AddAccumulatedRowSums"/>.
    /// </summary>
    public static void AccumulateRowSums(ReadOnlySpan<float> block, int rows, int columns, Span<float> accumulator)
    {
        if (block.Length < rows * columns || accumulator.Length < rows * RowSumLanes)
            throw new ArgumentException($"block needs {rows}×{columns} floats and accumulator {rows}×{RowSumLanes}");
        int vectorEnd = Kernels.Simd.Vector128Enabled ? columns / 16 * 16 : 0;
        // Rows are reached through offsets from the spans' starts, not slices: a slice per row cost as much as the sums
        // when the block is a step of a small batch.
        ref float from = ref MemoryMarshal.GetReference(block);
        ref float to = ref MemoryMarshal.GetReference(accumulator);
        for (int r = 0; r < rows; r++)
        {
            nuint rowStart = (nuint)(r * columns), laneStart = (nuint)(r * RowSumLanes);
            if (vectorEnd > 0 && Kernels.Simd.Vector512Enabled)
            {
                var sum = Vector512.LoadUnsafe(ref to, laneStart);
                for (int c = 0; c < vectorEnd; c += 16) sum += Vector512.LoadUnsafe(ref from, rowStart + (nuint)c);
                sum.StoreUnsafe(ref to, laneStart);
            }
            else if (vectorEnd > 0 && Kernels.Simd.Vector256Enabled)
            {
                // Lanes 0–7 and 8–15 as two vectors: each lane adds the same values in the same order.
                var low = Vector256.LoadUnsafe(ref to, laneStart);
                var high = Vector256.LoadUnsafe(ref to, laneStart + 8);
                for (int c = 0; c < vectorEnd; c += 16)
                {
                    low += Vector256.LoadUnsafe(ref from, rowStart + (nuint)c);
                    high += Vector256.LoadUnsafe(ref from, rowStart + (nuint)c + 8);
                }
                low.StoreUnsafe(ref to, laneStart);
                high.StoreUnsafe(ref to, laneStart + 8);
            }
            else if (vectorEnd > 0)
            {
                // Four vectors of four lanes (the 128-bit path); again each lane adds the same values in the same order.
                var q0 = Vector128.LoadUnsafe(ref to, laneStart);
                var q1 = Vector128.LoadUnsafe(ref to, laneStart + 4);
                var q2 = Vector128.LoadUnsafe(ref to, laneStart + 8);
                var q3 = Vector128.LoadUnsafe(ref to, laneStart + 12);
                for (int c = 0; c < vectorEnd; c += 16)
                {
                    nuint at = rowStart + (nuint)c;
                    q0 += Vector128.LoadUnsafe(ref from, at);
                    q1 += Vector128.LoadUnsafe(ref from, at + 4);
                    q2 += Vector128.LoadUnsafe(ref from, at + 8);
                    q3 += Vector128.LoadUnsafe(ref from, at + 12);
                }
                q0.StoreUnsafe(ref to, laneStart);
                q1.StoreUnsafe(ref to, laneStart + 4);
                q2.StoreUnsafe(ref to, laneStart + 8);
                q3.StoreUnsafe(ref to, laneStart + 12);
            }
            for (int c = vectorEnd; c < columns; c++)
                Unsafe.Add(ref to, laneStart + (nuint)(c % RowSumLanes)) += Unsafe.Add(ref from, rowStart + (nuint)c);
        }
    }

    /// <summary>
    /// destination[r] += Σ lanes of accumulator row r (see <see cref="AccumulateRowSums"/>), and the same sum to
    /// <paramref name="second"/> unless it is empty (two biases that receive one gradient).
    /// </summary>
    public static void AddAccumulatedRowSums(ReadOnlySpan<float> accumulator, int rows, Span<float> destination, Span<float> second = default)
    {
        for (int r = 0; r < rows; r++)
        {
            float sum = TensorPrimitives.Sum(accumulator.Slice(r * RowSumLanes, RowSumLanes));
            destination[r] += sum;
            if (!second.IsEmpty) second[r] += sum;
        }
    }

    /// <summary>Adds each row's sum to <paramref name="destination"/>: <c>destination[r] += Σ_c matrix[r·columns + c]</c>.</summary>
    public static void AddRowSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> destination)
    {
        for (int r = 0; r < rows; r++) destination[r] += TensorPrimitives.Sum(matrix.Slice(r * columns, columns));
    }

    /// <summary>Fills each row r of a [rows, columns] block with <c>a[r] + b[r]</c> (two biases broadcast over the batch).</summary>
    public static void BroadcastRows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int rows, int columns, Span<float> destination)
    {
        if (columns == 1)
        {
            TensorPrimitives.Add(a[..rows], b[..rows], destination[..rows]);
            return;
        }
        for (int r = 0; r < rows; r++) destination.Slice(r * columns, columns).Fill(a[r] + b[r]);
    }

    /// <summary>Fills each row r of a [rows, columns] block with <c>bias[r]</c> (a bias broadcast over the batch).</summary>
    public static void BroadcastRows(ReadOnlySpan<float> bias, int rows, int columns, Span<float> destination)
    {
        if (columns == 1)
        {
            bias[..rows].CopyTo(destination);
            return;
        }
        for (int r = 0; r < rows; r++) destination.Slice(r * columns, columns).Fill(bias[r]);
    }

    /// <summary>Transposes a [rows, columns] matrix into [columns, rows].</summary>
    public static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++)
                destination[c * rows + r] = source[r * columns + c];
    }
}
