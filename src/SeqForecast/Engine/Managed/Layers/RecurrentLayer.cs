using SeqForecast.Engine.Kernels;

namespace SeqForecast.Engine.Managed.Layers;

/// <summary>
/// What LSTM and GRU layers share: parameter offsets, the feature-major activation layout, weight packing, the input
/// projection of all time steps as one GEMM, the per-step recurrent projection (tiles, or matrix-vector products for
/// batches of up to <see cref="Gemm.NarrowColumns"/>), and the weight and bias gradients collected step by step and
/// multiplied out as one GEMM over all time steps.
/// </summary>
/// <remarks>
/// Layout: every per-step activation is feature-major, <c>[features, batch]</c>, so each gate block is one contiguous
/// span; sequences are <c>[time, features, batch]</c>. <see cref="Hidden"/> is <c>[time + 1, hidden, batch]</c> with the
/// zero initial state at step 0, so steps 1..T are the layer's output and steps 0..T−1 are the previous states.
/// </remarks>
internal abstract class RecurrentLayer
{
    protected readonly ComputeContext Context;
    protected AlignedBuffer Hidden = AlignedBuffer.Empty;          // [T + 1, H, B]
    private readonly AlignedBuffer[] _packedGradA = [AlignedBuffer.Empty, AlignedBuffer.Empty]; // packed [G·H, T·B] pre-activation gradients, two slots
    private readonly AlignedBuffer[] _biasSums = [AlignedBuffer.Empty, AlignedBuffer.Empty];    // [G·H, 16] bias-gradient lanes, two slots
    private AlignedBuffer _packedGradB = AlignedBuffer.Empty;       // packed [T·B, in or H] inputs or previous states
    private AlignedBuffer _packedIh = AlignedBuffer.Empty;          // packed A [G·H, in]
    private AlignedBuffer _packedHh = AlignedBuffer.Empty;          // packed A [G·H, H]
    private AlignedBuffer _packedInputs = AlignedBuffer.Empty;      // packed B: one [in, NR] panel per step (batches narrower than NR)
    private AlignedBuffer _packedState = AlignedBuffer.Empty;       // packed B [H, B]: h_{t−1} (batches narrower than NR)
    private AlignedBuffer _vectorIhT = AlignedBuffer.Empty;         // W_ihᵀ packed as B [in, G·H], for the narrow input projection
    private AlignedBuffer _vectorHh = AlignedBuffer.Empty;          // W_hh packed for Gemm.MultiplyVector, for the narrow recurrence
    private AlignedBuffer _columnInputs = AlignedBuffer.Empty;      // [T, in] or [H]: one column of the inputs or of h_{t−1}
    private AlignedBuffer _packedColumn = AlignedBuffer.Empty;      // packed A [T, in]
    private AlignedBuffer _columnProjection = AlignedBuffer.Empty;  // [T, G·H]
    private bool _vectorStale = true;

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
        if (weightsChanged)
        {
            int g = GateRows, i = InputSize, h = HiddenSize;
            Buffers.Ensure(ref _packedIh, Gemm.PackedASize(g, i));
            Buffers.Ensure(ref _packedHh, Gemm.PackedASize(g, h));
            Gemm.PackA(parameters.Slice(WeightIh, g * i), i, false, g, i, 0, 0, i, _packedIh);
            Gemm.PackA(parameters.Slice(WeightHh, g * h), h, false, g, h, 0, 0, h, _packedHh);
            _vectorStale = true;
            PackWeights(parameters);
        }
        if (Narrow && _vectorStale) PackVectorWeights(parameters);
        ForwardSteps(input, parameters);
    }

    /// <summary>
    /// Batches of at most <see cref="Gemm.NarrowColumns"/> columns (prediction) run the recurrence as matrix-vector
    /// products, one per column, instead of NR-wide tiles.
    /// </summary>
    protected bool Narrow => Batch <= Gemm.NarrowColumns;

    private void PackVectorWeights(ReadOnlySpan<float> parameters)
    {
        int g = GateRows, i = InputSize, h = HiddenSize;
        Buffers.Ensure(ref _vectorIhT, Gemm.PackedBSize(i, g));
        Buffers.Ensure(ref _vectorHh, Gemm.PackedVectorSize(g, h));
        Gemm.PackB(parameters.Slice(WeightIh, g * i), i, true, i, g, 0, i, _vectorIhT);
        Gemm.PackVector(parameters.Slice(WeightHh, g * h), h, g, h, _vectorHh);
        _vectorStale = false;
    }

    /// <summary>
    /// The input projection of every step as one GEMM: gates_t[G·H, B] = bias + W_ih × x_t for t &lt; T, into
    /// <paramref name="gates"/> <c>[T, G·H, B]</c>, with <paramref name="bias"/> [G·H]. Wide batches put one step in each B panel
    /// (a batch of exactly NR is already in panel layout and is not copied); narrow ones compute
    /// [T, in] × W_ihᵀ per column. Either way every element is its bias plus one FMA chain over the inputs in order.
    /// </summary>
    protected void ProjectInputs(ReadOnlySpan<float> input, ReadOnlySpan<float> bias, Span<float> gates)
    {
        int t = TimeSteps, b = Batch, g = GateRows, i = InputSize;
        if (!Narrow && b <= Gemm.NR)
        {
            ReadOnlySpan<float> panels = input;
            if (b != Gemm.NR)
            {
                Buffers.Ensure(ref _packedInputs, (long)t * Gemm.NR * i);
                for (int s = 0; s < t; s++)
                    Gemm.PackB(input.Slice(s * i * b, i * b), b, false, i, b, 0, i, _packedInputs.AsSpan(s * Gemm.NR * i, Gemm.NR * i));
                panels = _packedInputs;
            }
            Context.Gemm.MultiplyPanels(_packedIh, panels, g, i, t, b, gates, b, g * b, accumulate: false, rowBias: bias);
            return;
        }

        for (int s = 0; s < t; s++) Elementwise.BroadcastRows(bias, g, b, gates.Slice(s * g * b, g * b));
        if (!Narrow)
        {
            // A step wider than one panel (SIMD widths below 512 bits): one GEMM per step, onto the biases.
            Buffers.Ensure(ref _packedInputs, Gemm.PackedBSize(i, b));
            for (int s = 0; s < t; s++)
            {
                Gemm.PackB(input.Slice(s * i * b, i * b), b, false, i, b, 0, i, _packedInputs);
                Context.Gemm.Multiply(_packedIh, _packedInputs, g, b, i, gates.Slice(s * g * b, g * b), b, accumulate: true);
            }
            return;
        }

        Buffers.Ensure(ref _packedColumn, Gemm.PackedASize(t, i));
        if (b == 1)
        {
            // A single column is already [T, in], row-major.
            Gemm.PackA(input, i, false, t, i, 0, 0, i, _packedColumn);
            Context.Gemm.Multiply(_packedColumn, _vectorIhT, t, g, i, gates, g, accumulate: true);
            return;
        }
        Buffers.Ensure(ref _columnInputs, t * i);
        Buffers.Ensure(ref _columnProjection, t * g);
        var columnInputs = _columnInputs.AsSpan(0, t * i);
        for (int j = 0; j < b; j++)
        {
            for (int q = 0; q < columnInputs.Length; q++) columnInputs[q] = input[q * b + j];
            Gemm.PackA(columnInputs, i, false, t, i, 0, 0, i, _packedColumn);
            Context.Gemm.Multiply(_packedColumn, _vectorIhT, t, g, i, _columnProjection, g, accumulate: false);
            for (int s = 0; s < t; s++)
                for (int r = 0; r < g; r++)
                    gates[(s * g + r) * b + j] += _columnProjection[s * g + r];
        }
    }

    /// <summary>The recurrent projection of one step: target[G·H, B] += W_hh × previous[H, B].</summary>
    protected void ProjectState(ReadOnlySpan<float> previous, Span<float> target)
    {
        int b = Batch, g = GateRows, h = HiddenSize;
        if (Narrow)
        {
            Buffers.Ensure(ref _columnInputs, h);
            for (int j = 0; j < b; j++)
            {
                var column = previous;
                if (b > 1)
                {
                    var gathered = _columnInputs.AsSpan(0, h);
                    for (int r = 0; r < h; r++) gathered[r] = previous[r * b + j];
                    column = gathered;
                }
                Context.Gemm.MultiplyVector(_vectorHh, column, g, h, target[j..], b, accumulate: true);
            }
            return;
        }
        Context.Gemm.Multiply(_packedHh, AsPanel(previous, h, ref _packedState), g, b, h, target, b, accumulate: true);
    }

    /// <summary>
    /// A per-step block [rows, B] as the B operand of a GEMM: a batch of exactly NR already is one packed panel and is
    /// used in place; other batches are packed into <paramref name="scratch"/>.
    /// </summary>
    protected ReadOnlySpan<float> AsPanel(ReadOnlySpan<float> block, int rows, ref AlignedBuffer scratch)
    {
        int b = Batch;
        if (b == Gemm.NR) return block[..(rows * b)];
        Buffers.Ensure(ref scratch, Gemm.PackedBSize(rows, b));
        Gemm.PackB(block, b, false, rows, b, 0, rows, scratch);
        return scratch;
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
    /// Packs step t's pre-activation gradients [G·H, B] as columns t·B.. of the weight gradient's A operand in
    /// <paramref name="slot"/> (0 or 1).
    /// </summary>
    private void PackGradientStep(int slot, ReadOnlySpan<float> dPreStep, int t)
    {
        int b = Batch, rows = GateRows, k = TimeSteps * b;
        Buffers.Ensure(ref _packedGradA[slot], Gemm.PackedASize(rows, k));
        Gemm.PackA(dPreStep[..(rows * b)], b, false, rows, b, 0, t * b, k, _packedGradA[slot]);
    }

    /// <summary>
    /// dW[G·H, columns] += Σ_t dPre_t[G·H, B] × source_tᵀ[B, columns], as one GEMM with K = T·B over the gradients
    /// packed into <paramref name="slot"/> by <see cref="CollectGradientStep"/>; the time steps of the source are
    /// concatenated along K while packing.
    /// </summary>
    /// <param name="slot">The packed pre-activation gradients to use.</param>
    /// <param name="source">Layer inputs or previous states, <c>[T, columns, B]</c>.</param>
    /// <param name="columns">Columns of the weight.</param>
    /// <param name="weightOffset">Offset of the weight in <paramref name="gradients"/>.</param>
    /// <param name="gradients">The whole gradient buffer; the weight's slice is accumulated.</param>
    protected void AccumulateWeightGradient(int slot, ReadOnlySpan<float> source, int columns, int weightOffset, Span<float> gradients)
    {
        int t = TimeSteps, b = Batch, k = t * b, rows = GateRows;
        Buffers.Ensure(ref _packedGradB, Gemm.PackedBSize(k, columns));
        for (int s = 0; s < t; s++)
            Gemm.PackB(source.Slice(s * columns * b, columns * b), b, true, b, columns, s * b, k, _packedGradB);
        Context.Gemm.Multiply(_packedGradA[slot], _packedGradB, rows, columns, k, gradients.Slice(weightOffset, rows * columns), columns, accumulate: true);
    }

    /// <summary>Clears the bias-gradient accumulators (both slots) before a backward pass.</summary>
    protected void ClearBiasSums()
    {
        for (int slot = 0; slot < 2; slot++)
        {
            Buffers.Ensure(ref _biasSums[slot], GateRows * Elementwise.RowSumLanes);
            _biasSums[slot].AsSpan().Clear();
        }
    }

    /// <summary>
    /// Takes in step t's pre-activation gradients [G·H, B], while they are in L1: packs them for the weight gradient
    /// and adds them to the bias sums, both in <paramref name="slot"/>.
    /// </summary>
    protected void CollectGradientStep(int slot, ReadOnlySpan<float> dPreStep, int t)
    {
        PackGradientStep(slot, dPreStep, t);
        Elementwise.AccumulateRowSums(dPreStep, GateRows, Batch, _biasSums[slot]);
    }

    /// <summary>
    /// dBias += the bias sums of <paramref name="slot"/>, for the bias at <paramref name="biasOffset"/> and, unless
    /// <paramref name="secondBiasOffset"/> is negative, a second bias that receives the same gradient.
    /// </summary>
    protected void AddBiasGradient(int slot, int biasOffset, int secondBiasOffset, Span<float> gradients)
    {
        var second = secondBiasOffset >= 0 ? gradients.Slice(secondBiasOffset, GateRows) : Span<float>.Empty;
        Elementwise.AddAccumulatedRowSums(_biasSums[slot], GateRows, gradients.Slice(biasOffset, GateRows), second);
    }

    /// <summary>The previous hidden states, <c>[T, H, B]</c> (steps 0..T−1 of <see cref="Hidden"/>).</summary>
    protected ReadOnlySpan<float> PreviousStates => Hidden.AsSpan(0, TimeSteps * HiddenSize * Batch);
}
