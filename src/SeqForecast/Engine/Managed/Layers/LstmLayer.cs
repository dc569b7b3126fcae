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
/// [W_hh | W_ih]ᵀ once per step, giving [dh_{t−1}; dx_t] together.
/// </summary>
internal sealed class LstmLayer : RecurrentLayer
{
    private readonly AlignedBuffer _packedWeightsT;              // packed [H + in, 4H]: [W_hh | W_ih]ᵀ, for the backward pass (the owner's)
    private AlignedBuffer _bias = AlignedBuffer.Empty;            // [4H]: b_ih + b_hh
    private AlignedBuffer _packedStep = AlignedBuffer.Empty;      // packed [4H, B]: dGates_t of slot 0, backward (batches other than NR)
    private AlignedBuffer _packedStepOdd = AlignedBuffer.Empty;   // packed [4H, B]: dGates_t of slot 1
    private AlignedBuffer _gates = AlignedBuffer.Empty;           // [T, 4H, B] activated gates i, f, g, o
    private AlignedBuffer _cells = AlignedBuffer.Empty;           // [T + 1, H, B] cell states, zero initial state at step 0
    private AlignedBuffer _tanhCells = AlignedBuffer.Empty;       // [T, H, B] tanh(c_t)
    private AlignedBuffer _dGates = AlignedBuffer.Empty;          // [2, 4H, B] pre-activation gradients of a step, in slot SlotOf(t)
    private AlignedBuffer _dCell = AlignedBuffer.Empty;           // [H, B] gradient reaching c_t
    private AlignedBuffer _dStacked = AlignedBuffer.Empty;        // [H + in, B]: [dh_{t−1}; dx_t], whose dh rows the next step reads as dh_t

    /// <summary>A layer that packs its own weights, or, with <paramref name="weightsOwner"/>, reads that replica's (see <see cref="RecurrentLayer"/>).</summary>
    public LstmLayer(ComputeContext context, int layerIndex, int inputSize, int hiddenSize, ParameterLayout layout, LstmLayer? weightsOwner = null)
        : base(context, layerIndex, inputSize, hiddenSize, 4, layout, weightsOwner)
    {
        _packedWeightsT = weightsOwner?._packedWeightsT ?? new AlignedBuffer(Gemm.PackedASize(inputSize + hiddenSize, GateRows));
    }

    protected override void EnsureCapacity(int timeSteps, int batch)
    {
        int h = HiddenSize, g = GateRows, k = InputSize + HiddenSize;
        Buffers.Ensure(ref _bias, g);
        Buffers.Ensure(ref _packedStep, Gemm.PackedBSize(g, batch));
        Buffers.Ensure(ref _packedStepOdd, Gemm.PackedBSize(g, batch));
        Buffers.Ensure(ref _gates, (long)timeSteps * g * batch);
        Buffers.Ensure(ref _cells, (long)(timeSteps + 1) * h * batch);
        Buffers.Ensure(ref _tanhCells, (long)timeSteps * h * batch);
        Buffers.Ensure(ref _dGates, 2 * g * batch);
        Buffers.Ensure(ref _dCell, h * batch);
        Buffers.Ensure(ref _dStacked, k * batch);
    }

    protected override void PackWeights(ReadOnlySpan<float> parameters, int part, int parts)
    {
        int g = GateRows, i = InputSize, h = HiddenSize;
        // [W_hh | W_ih]ᵀ: the dh rows first, so that they start at a row block whatever the input size.
        var (start, end) = RowsOfPart(h + i, part, parts);
        PackRows(parameters.Slice(WeightHh, g * h), h, true, g, 0, _packedWeightsT, g, start, Math.Min(end, h));
        PackRows(parameters.Slice(WeightIh, g * i), i, true, g, h, _packedWeightsT, g, Math.Max(start, h) - h, end - h);
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
        var (unitStart, unitEnd) = Units(member);
        bool oneSync = SplitByUnits(member);
        PackState(Hidden.AsSpan(0, hb), 0, unitStart, unitEnd);
        member.Sync();
        for (int t = 0; t < steps; t++)
        {
            var gates = allGates.Slice(t * gb, gb);
            if (oneSync) ProjectStateOfUnits(Hidden.AsSpan(t * hb, hb), SlotOf(t, oneSync), gates, 4, unitStart, unitEnd, member);
            else
            {
                ProjectState(Hidden.AsSpan(t * hb, hb), gates, member);
                member.Sync();
            }
            Activations.LstmCell(gates, hb, unitStart * b, unitEnd * b, _cells.AsSpan(t * hb, hb), _cells.AsSpan((t + 1) * hb, hb), _tanhCells.AsSpan(t * hb, hb), Hidden.AsSpan((t + 1) * hb, hb));
            PackState(Hidden.AsSpan((t + 1) * hb, hb), SlotOf(t + 1, oneSync), unitStart, unitEnd);
            member.Sync();
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput, ReadOnlySpan<float> parameters, Span<float> gradients, TeamMember member)
    {
        int b = Batch, h = HiddenSize, g = GateRows, i = InputSize;
        int hb = h * b;
        // Rows of the stacked product: dh_{t−1}, then dx_t unless the input gradient is not wanted.
        int k = dInput.IsEmpty ? h : h + i;
        var dCell = _dCell.AsSpan(0, hb);
        var dStacked = _dStacked.AsSpan(0, k * b);
        // The gradient reaching h_t is the dh_{t−1} block of the previous step's stacked product: read it in place.
        var dHidden = dStacked[..hb];
        if (member.IsLeader)
        {
            dHidden.Clear();
            dCell.Clear();
            ClearBiasSums();
        }
        member.Sync();
        var (unitStart, unitEnd) = Units(member);
        bool oneSync = SplitByUnits(member);
        // Two syncs a step: this member's row blocks of the whole stacked product. One sync: its units of dh (what its
        // next cell reads) and its row blocks of dx_t, written straight into the input gradient.
        var (blockStart, blockEnd) = member.Range((k + Gemm.MR - 1) / Gemm.MR);
        int stackedStart = Math.Min(blockStart * Gemm.MR, k), stackedEnd = Math.Min(blockEnd * Gemm.MR, k);
        var (inputStart, inputEnd) = dInput.IsEmpty ? (0, 0) : OwnRowsOf(i, member);
        for (int t = TimeSteps - 1; t >= 0; t--)
        {
            int slot = SlotOf(t, oneSync);
            var dGates = _dGates.AsSpan(slot * g * b, g * b);
            var packedStep = slot == 0 ? _packedStep : _packedStepOdd;
            Elementwise.LstmCellBackward(_gates.AsSpan(t * g * b, g * b), _tanhCells.AsSpan(t * hb, hb), _cells.AsSpan(t * hb, hb), dOutput.Slice(t * hb, hb), dHidden, dCell, dGates, hb, unitStart * b, unitEnd * b);
            // The initial state is a constant zero, so dh_{−1} is never read: at t = 0 only dx_0 is wanted, if anything.
            bool first = t == 0, product = !first || !dInput.IsEmpty;
            // This member's hidden units of each of the four gate blocks.
            for (int q = 0; q < 4; q++)
            {
                CollectGradientStep(0, dGates, t, q * h + unitStart, q * h + unitEnd);
                if (product) PackPanelRows(dGates, g, q * h + unitStart, q * h + unitEnd, packedStep);
            }
            member.Sync();
            if (!product) continue;

            // [dh_{t−1}; dx_t] = [W_hh | W_ih]ᵀ × dGates_t; a batch of exactly NR is already a packed panel.
            var panel = PanelOf(dGates, g, packedStep);
            if (oneSync)
            {
                if (unitEnd > unitStart && !first)
                    Context.Gemm.MultiplyOnThread(_packedWeightsT.AsSpan(unitStart * g, Gemm.PackedASize(unitEnd - unitStart, g)), panel, unitEnd - unitStart, b, g, dHidden[(unitStart * b)..], b, accumulate: false, member.Index);
                if (inputEnd > inputStart)
                    Context.Gemm.MultiplyOnThread(_packedWeightsT.AsSpan((h + inputStart) * g, Gemm.PackedASize(inputEnd - inputStart, g)), panel, inputEnd - inputStart, b, g, dInput[((t * i + inputStart) * b)..], b, accumulate: false, member.Index);
                continue;
            }
            if (first && h % Gemm.MR == 0)
            {
                // dx_0 only: the W_ihᵀ rows start at a row block, so they are a packed A of their own. The team splits
                // those rows otherwise than the stacked ones, so every member's rows are done before any is copied.
                Context.Gemm.Multiply(_packedWeightsT.AsSpan(h * g), panel, i, b, g, dStacked[(h * b)..], b, accumulate: false, member);
                member.Sync();
            }
            else Context.Gemm.Multiply(_packedWeightsT, panel, k, b, g, dStacked, b, accumulate: false, member);
            if (stackedEnd > h)
            {
                int from = Math.Max(stackedStart, h);
                dStacked[(from * b)..(stackedEnd * b)].CopyTo(dInput[((t * i + from - h) * b)..]);
            }
            member.Sync();
        }
        if (oneSync) member.Sync();

        AccumulateWeightGradient(0, input, i, WeightIh, gradients, member);
        AccumulateWeightGradient(0, PreviousStates, h, WeightHh, gradients, member);
        AddBiasGradient(0, BiasIh, BiasHh, gradients, member);
        member.Sync();
    }
}
