using System.Numerics;
using System.Numerics.Tensors;

namespace SeqForecast.Engine.Managed;

/// <summary>
/// Fused elementwise kernels for the backward passes, where one pass replaces several TensorPrimitives calls.
/// Conventions: inputs, then outputs; all spans have the same length; nothing is allocated.
/// Forward activations use TensorPrimitives (Sigmoid, Tanh, Multiply, FusedMultiplyAdd) directly.
/// </summary>
internal static class Elementwise
{
    /// <summary><c>destination[i] = gradient[i] · s[i] · (1 − s[i])</c>: backward of a sigmoid whose output is s.</summary>
    public static void SigmoidBackward(ReadOnlySpan<float> gradient, ReadOnlySpan<float> s, Span<float> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            for (; i + Vector<float>.Count <= destination.Length; i += Vector<float>.Count)
            {
                var sv = new Vector<float>(s[i..]);
                (new Vector<float>(gradient[i..]) * sv * (one - sv)).CopyTo(destination[i..]);
            }
        }
        for (; i < destination.Length; i++) destination[i] = gradient[i] * s[i] * (1 - s[i]);
    }

    /// <summary><c>destination[i] = gradient[i] · (1 − t[i]²)</c>: backward of a tanh whose output is t.</summary>
    public static void TanhBackward(ReadOnlySpan<float> gradient, ReadOnlySpan<float> t, Span<float> destination)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var one = Vector<float>.One;
            for (; i + Vector<float>.Count <= destination.Length; i += Vector<float>.Count)
            {
                var tv = new Vector<float>(t[i..]);
                (new Vector<float>(gradient[i..]) * (one - tv * tv)).CopyTo(destination[i..]);
            }
        }
        for (; i < destination.Length; i++) destination[i] = gradient[i] * (1 - t[i] * t[i]);
    }

    /// <summary>Adds each row's sum to <paramref name="destination"/>: <c>destination[r] += Σ_c matrix[r·columns + c]</c>.</summary>
    public static void AddRowSums(ReadOnlySpan<float> matrix, int rows, int columns, Span<float> destination)
    {
        for (int r = 0; r < rows; r++) destination[r] += TensorPrimitives.Sum(matrix.Slice(r * columns, columns));
    }

    /// <summary>Fills each row r of a [rows, columns] block with <c>a[r] + b[r]</c> (two biases broadcast over the batch).</summary>
    public static void BroadcastRows(ReadOnlySpan<float> a, ReadOnlySpan<float> b, int rows, int columns, Span<float> destination)
    {
        for (int r = 0; r < rows; r++) destination.Slice(r * columns, columns).Fill(a[r] + b[r]);
    }

    /// <summary>Fills each row r of a [rows, columns] block with <c>bias[r]</c> (a bias broadcast over the batch).</summary>
    public static void BroadcastRows(ReadOnlySpan<float> bias, int rows, int columns, Span<float> destination)
    {
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
