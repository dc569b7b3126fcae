using SeqForecast.Engine.Kernels;

namespace SeqForecast.Engine.Managed.Layers;

/// <summary>
/// What LSTM and GRU layers share: parameter offsets, the feature-major activation layout, weight packing, and the
/// weight-gradient GEMMs batched over all time steps.
/// </summary>
/// <remarks>
/// Layout: every per-step activation is feature-major, <c>[features, batch]</c>, so each gate block is one contiguous
/// span; sequences are <c>[time, features, batch]</c>. <see cref="Hidden"/> is <c>[time + 1, hidden, batch]</c> with the
/// zero initial state at step 0, so steps 1..T are the layer's output and steps 0..T−1 are the previous states.
/// </remarks>
internal abstract class RecurrentLayer
{
    protected readonly ComputeContext Context;
    protected float[] Hidden = [];          // [T + 1, H, B]
    private float[] _packedGradA = [];       // packed [G·H, T·B] pre-activation gradients
    private float[] _packedGradB = [];       // packed [T·B, in or H] inputs or previous states

    protected RecurrentLayer(ComputeContext context, int layerIndex, int inputSize, int hiddenSize, int gateCount, ParameterLayout layout)
    {
        Context = context;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        GateRows = gateCount * hiddenSize;
        WeightIh = layout[$"rnn.weight_ih_l{layerIndex}"].Offset;
        WeightHh = layout[$"rnn.weight_hh_l{layerIndex}"].Offset;
        BiasIh = layout[$"rnn.bias_ih_l{layerIndex}"].Offset;
        BiasHh = layout[$"rnn.bias_hh_l{layerIndex}"].Offset;
    }

    public int InputSize { get; }

    public int HiddenSize { get; }

    /// <summary>Rows of the gate block: G·H.</summary>
    protected int GateRows { get; }

    protected int WeightIh { get; }

    protected int WeightHh { get; }

    protected int BiasIh { get; }

    protected int BiasHh { get; }

    protected int TimeSteps { get; private set; }

    protected int Batch { get; private set; }

    /// <summary>The layer output of the last forward pass, <c>[T, H, B]</c>.</summary>
    public ReadOnlySpan<float> Output => Hidden.AsSpan(HiddenSize * Batch, TimeSteps * HiddenSize * Batch);

    /// <summary>Runs the layer over <paramref name="input"/> <c>[T, in, B]</c>; the result is <see cref="Output"/>.</summary>
    public void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters, int timeSteps, int batch, bool weightsChanged)
    {
        TimeSteps = timeSteps;
        Batch = batch;
        int step = HiddenSize * batch;
        Buffers.Ensure(ref Hidden, (long)(timeSteps + 1) * step);
        Hidden.AsSpan(0, step).Clear();
        EnsureCapacity(timeSteps, batch);
        if (weightsChanged) PackWeights(parameters);
        ForwardSteps(input, parameters);
    }

    /// <summary>
    /// Backpropagates <paramref name="dOutput"/> <c>[T, H, B]</c> through the last forward pass: adds the weight and
    /// bias gradients to <paramref name="gradients"/> and, unless <paramref name="dInput"/> is empty, writes the input
    /// gradient <c>[T, in, B]</c> there.
    /// </summary>
    public abstract void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput, ReadOnlySpan<float> parameters, Span<float> gradients);

    protected abstract void EnsureCapacity(int timeSteps, int batch);

    protected abstract void PackWeights(ReadOnlySpan<float> parameters);

    protected abstract void ForwardSteps(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters);

    /// <summary>
    /// dW[rows, columns] += Σ_t dPre_t[rows, B] × source_tᵀ[B, columns], as one GEMM with K = T·B: the time steps are
    /// concatenated along K while packing.
    /// </summary>
    /// <param name="dPre">Pre-activation gradients <c>[T, rowStride, B]</c>; rows [rowStart, rowStart + rows) are used.</param>
    /// <param name="rowStride">Rows per step in <paramref name="dPre"/>.</param>
    /// <param name="rowStart">First row used.</param>
    /// <param name="rows">Rows of the weight.</param>
    /// <param name="source">Layer inputs or previous states, <c>[T, columns, B]</c>.</param>
    /// <param name="columns">Columns of the weight.</param>
    /// <param name="weightOffset">Offset of the weight in <paramref name="gradients"/>.</param>
    /// <param name="gradients">The whole gradient buffer; the weight's slice is accumulated.</param>
    /// <param name="packA">Pack <paramref name="dPre"/> again; false reuses the previous call's packing of the same rows.</param>
    protected void AccumulateWeightGradient(ReadOnlySpan<float> dPre, int rowStride, int rowStart, int rows, ReadOnlySpan<float> source, int columns, int weightOffset, Span<float> gradients, bool packA)
    {
        int t = TimeSteps, b = Batch, k = t * b;
        if (packA)
        {
            Buffers.Ensure(ref _packedGradA, Gemm.PackedASize(rows, k));
            for (int s = 0; s < t; s++)
                Gemm.PackA(dPre.Slice((s * rowStride + rowStart) * b, rows * b), b, false, rows, b, 0, s * b, k, _packedGradA);
        }
        Buffers.Ensure(ref _packedGradB, Gemm.PackedBSize(k, columns));
        for (int s = 0; s < t; s++)
            Gemm.PackB(source.Slice(s * columns * b, columns * b), b, true, b, columns, s * b, k, _packedGradB);
        Context.Gemm.Multiply(_packedGradA, _packedGradB, rows, columns, k, gradients.Slice(weightOffset, rows * columns), columns, accumulate: true);
    }

    /// <summary>
    /// dBias[r] += Σ_t Σ_b dPre_t[rowStart + r, b] for the bias at <paramref name="biasOffset"/> and, when
    /// <paramref name="secondBiasOffset"/> is not negative, the same sum for a second bias that receives the same gradient.
    /// </summary>
    protected void AccumulateBiasGradient(ReadOnlySpan<float> dPre, int rowStride, int rowStart, int rows, int biasOffset, int secondBiasOffset, Span<float> gradients)
    {
        int b = Batch;
        for (int s = 0; s < TimeSteps; s++)
        {
            var block = dPre.Slice((s * rowStride + rowStart) * b, rows * b);
            for (int r = 0; r < rows; r++)
            {
                float sum = System.Numerics.Tensors.TensorPrimitives.Sum(block.Slice(r * b, b));
                gradients[biasOffset + r] += sum;
                if (secondBiasOffset >= 0) gradients[secondBiasOffset + r] += sum;
            }
        }
    }

    /// <summary>
    /// Batch ≤ <see cref="Gemm.NarrowColumns"/> (prediction): gates[:, j] (+)= W·z_j for each column j, where z_j is column j
    /// of <paramref name="first"/> [firstRows, B] stacked on column j of <paramref name="second"/> [secondRows, B] (either may
    /// be empty), and W is given transposed and packed as <paramref name="packedWeightT"/>.
    /// </summary>
    protected void ProjectColumns(ReadOnlySpan<float> packedWeightT, ReadOnlySpan<float> first, int firstRows, ReadOnlySpan<float> second, int secondRows, int rows, Span<float> gates, Span<float> column)
    {
        int b = Batch;
        for (int j = 0; j < b; j++)
        {
            for (int r = 0; r < firstRows; r++) column[r] = first[r * b + j];
            for (int r = 0; r < secondRows; r++) column[firstRows + r] = second[r * b + j];
            Context.Gemm.MultiplyVector(packedWeightT, column, rows, firstRows + secondRows, gates[j..], b, accumulate: true);
        }
    }

    /// <summary>The previous hidden states, <c>[T, H, B]</c> (steps 0..T−1 of <see cref="Hidden"/>).</summary>
    protected ReadOnlySpan<float> PreviousStates => Hidden.AsSpan(0, TimeSteps * HiddenSize * Batch);
}
