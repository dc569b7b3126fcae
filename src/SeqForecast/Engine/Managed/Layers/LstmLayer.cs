using SeqForecast.Engine.Kernels;

namespace SeqForecast.Engine.Managed.Layers;

/// <summary>
/// One LSTM layer with PyTorch's equations and gate order (i, f, g, o):
/// <code>
/// i = σ(W_ii x + b_ii + W_hi h + b_hi)    f = σ(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg) o = σ(W_io x + b_io + W_ho h + b_ho)
/// c' = f ⊙ c + i ⊙ g                      h' = o ⊙ tanh(c')
/// </code>
/// The input projection of all steps is one GEMM before the recurrence (gates_t = b_ih + b_hh + W_ih x_t); each step
/// then adds W_hh h_{t−1} and applies the fused cell kernel. The backward pass multiplies by the stacked
/// [W_ih | W_hh]ᵀ once per step, giving [dx_t; dh_{t−1}] together.
/// </summary>
internal sealed class LstmLayer : RecurrentLayer
{
    private AlignedBuffer _packedWeightsT = AlignedBuffer.Empty;  // packed [in + H, 4H]: [W_ih | W_hh]ᵀ, for the backward pass
    private AlignedBuffer _bias = AlignedBuffer.Empty;            // [4H]: b_ih + b_hh
    private AlignedBuffer _packedStep = AlignedBuffer.Empty;      // packed [4H, B]: dGates_t, backward (batches narrower than NR)
    private AlignedBuffer _gates = AlignedBuffer.Empty;           // [T, 4H, B] activated gates i, f, g, o
    private AlignedBuffer _cells = AlignedBuffer.Empty;           // [T + 1, H, B] cell states, zero initial state at step 0
    private AlignedBuffer _tanhCells = AlignedBuffer.Empty;       // [T, H, B] tanh(c_t)
    private AlignedBuffer _dGates = AlignedBuffer.Empty;          // [4H, B] pre-activation gradients of one step
    private AlignedBuffer _dCell = AlignedBuffer.Empty;           // [H, B] gradient reaching c_t
    private AlignedBuffer _dStacked = AlignedBuffer.Empty;        // [in + H, B]: [dx_t; dh_{t−1}], whose dh rows the next step reads as dh_t

    public LstmLayer(ComputeContext context, int layerIndex, int inputSize, int hiddenSize, ParameterLayout layout)
        : base(context, layerIndex, inputSize, hiddenSize, 4, layout)
    {
    }

    protected override void EnsureCapacity(int timeSteps, int batch)
    {
        int h = HiddenSize, g = GateRows, k = InputSize + HiddenSize;
        Buffers.Ensure(ref _packedWeightsT, Gemm.PackedASize(k, g));
        Buffers.Ensure(ref _bias, g);
        Buffers.Ensure(ref _packedStep, Gemm.PackedBSize(g, batch));
        Buffers.Ensure(ref _gates, (long)timeSteps * g * batch);
        Buffers.Ensure(ref _cells, (long)(timeSteps + 1) * h * batch);
        Buffers.Ensure(ref _tanhCells, (long)timeSteps * h * batch);
        Buffers.Ensure(ref _dGates, g * batch);
        Buffers.Ensure(ref _dCell, h * batch);
        Buffers.Ensure(ref _dStacked, k * batch);
    }

    protected override void PackWeights(ReadOnlySpan<float> parameters, TeamMember member)
    {
        // Rows [0, in) of [W_ih | W_hh]ᵀ come from W_ih, rows [in, in + H) from W_hh.
        int g = GateRows, i = InputSize, h = HiddenSize;
        var (start, end) = OwnRowsOf(i + h, member);
        PackRows(parameters.Slice(WeightIh, g * i), i, true, g, 0, _packedWeightsT, g, start, Math.Min(end, i));
        PackRows(parameters.Slice(WeightHh, g * h), h, true, g, i, _packedWeightsT, g, Math.Max(start, i) - i, end - i);
    }

    protected override void PrepareSteps(ReadOnlySpan<float> parameters)
    {
        int g = GateRows;
        Elementwise.BroadcastRows(parameters.Slice(BiasIh, g), parameters.Slice(BiasHh, g), g, 1, _bias.AsSpan(0, g));
        _cells.AsSpan(0, HiddenSize * Batch).Clear();
    }

    protected override void ForwardSteps(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters, TeamMember member)
    {
        int b = Batch, h = HiddenSize, g = GateRows, steps = TimeSteps;
        int hb = h * b, gb = g * b;
        var allGates = _gates.AsSpan(0, steps * gb);
        ProjectInputs(input, _bias.AsSpan(0, g), allGates, member);
        var (unitStart, unitEnd) = member.Range(h);
        PackState(Hidden.AsSpan(0, hb), unitStart, unitEnd);
        member.Sync();
        for (int t = 0; t < steps; t++)
        {
            var gates = allGates.Slice(t * gb, gb);
            ProjectState(Hidden.AsSpan(t * hb, hb), gates, member);
            member.Sync();
            Activations.LstmCell(gates, hb, unitStart * b, unitEnd * b, _cells.AsSpan(t * hb, hb), _cells.AsSpan((t + 1) * hb, hb), _tanhCells.AsSpan(t * hb, hb), Hidden.AsSpan((t + 1) * hb, hb));
            PackState(Hidden.AsSpan((t + 1) * hb, hb), unitStart, unitEnd);
            member.Sync();
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput, ReadOnlySpan<float> parameters, Span<float> gradients, TeamMember member)
    {
        int b = Batch, h = HiddenSize, g = GateRows, i = InputSize, k = i + h;
        int hb = h * b;
        var dCell = _dCell.AsSpan(0, hb);
        var dGates = _dGates.AsSpan(0, g * b);
        var dStacked = _dStacked.AsSpan(0, k * b);
        // The gradient reaching h_t is the dh_{t−1} block of the previous step's stacked product: read it in place.
        var dHidden = dStacked.Slice(i * b, hb);
        if (member.IsLeader)
        {
            dHidden.Clear();
            dCell.Clear();
            ClearBiasSums();
        }
        member.Sync();
        var (unitStart, unitEnd) = member.Range(h);
        var (blockStart, blockEnd) = member.Range((k + Gemm.MR - 1) / Gemm.MR);
        int stackedStart = Math.Min(blockStart * Gemm.MR, k), stackedEnd = Math.Min(blockEnd * Gemm.MR, k);
        for (int t = TimeSteps - 1; t >= 0; t--)
        {
            Elementwise.LstmCellBackward(_gates.AsSpan(t * g * b, g * b), _tanhCells.AsSpan(t * hb, hb), _cells.AsSpan(t * hb, hb), dOutput.Slice(t * hb, hb), dHidden, dCell, dGates, hb, unitStart * b, unitEnd * b);
            // This member's hidden units of each of the four gate blocks.
            for (int q = 0; q < 4; q++)
            {
                CollectGradientStep(0, dGates, t, q * h + unitStart, q * h + unitEnd);
                PackPanelRows(dGates, g, q * h + unitStart, q * h + unitEnd, _packedStep);
            }
            member.Sync();

            // [dx_t; dh_{t−1}] = [W_ih | W_hh]ᵀ × dGates_t, this member's rows; a batch of exactly NR is already a packed panel.
            Context.Gemm.Multiply(_packedWeightsT, PanelOf(dGates, g, _packedStep), k, b, g, dStacked, b, accumulate: false, member);
            if (!dInput.IsEmpty && stackedStart < i)
                dStacked[(stackedStart * b)..(Math.Min(stackedEnd, i) * b)].CopyTo(dInput[((t * i + stackedStart) * b)..]);
            member.Sync();
        }

        AccumulateWeightGradient(0, input, i, WeightIh, gradients, member);
        AccumulateWeightGradient(0, PreviousStates, h, WeightHh, gradients, member);
        AddBiasGradient(0, BiasIh, BiasHh, gradients, member);
        member.Sync();
    }
}
