using SeqForecast.Engine.Kernels;

namespace SeqForecast.Engine.Managed.Layers;

/// <summary>
/// One GRU layer with PyTorch's equations and gate order (r, z, n):
/// <code>
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)    z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h' = (1 − z) ⊙ n + z ⊙ h
/// </code>
/// Because r multiplies only the hidden part of n, the two projections stay apart: the x-projections of all steps
/// ([3H, B] = b_ih + W_ih × x_t) are one GEMM before the recurrence, and each step computes its h-projection
/// [3H, B] = b_hh + W_hh × h_{t−1}.
/// </summary>
internal sealed class GruLayer : RecurrentLayer
{
    private readonly AlignedBuffer _packedIhT;                    // packed [in, 3H] (the owner's)
    private readonly AlignedBuffer _packedHhT;                    // packed [H, 3H] (the owner's)
    private AlignedBuffer _biasHh = AlignedBuffer.Empty;          // [3H, B]
    private AlignedBuffer _packedStep = AlignedBuffer.Empty;      // packed [3H, B]: h-projection gradients of slot 0, backward (batches other than NR)
    private AlignedBuffer _packedStepOdd = AlignedBuffer.Empty;   // packed [3H, B]: h-projection gradients of slot 1
    private AlignedBuffer _packedInputStep = AlignedBuffer.Empty; // packed [3H, B]: x-projection gradients of slot 0, backward (batches other than NR)
    private AlignedBuffer _packedInputStepOdd = AlignedBuffer.Empty; // packed [3H, B]: x-projection gradients of slot 1
    private AlignedBuffer _gates = AlignedBuffer.Empty;           // [T, 3H, B] activated r, z, n
    private AlignedBuffer _hiddenNew = AlignedBuffer.Empty;       // [T, H, B] W_hn h_{t−1} + b_hn
    private AlignedBuffer _hiddenProjection = AlignedBuffer.Empty;// [3H, B] scratch
    private AlignedBuffer _dInputPre = AlignedBuffer.Empty;       // [2, 3H, B] a step's x-projection gradients (dr, dz, dn pre-activations), in slot SlotOf(t)
    private AlignedBuffer _dHiddenPre = AlignedBuffer.Empty;      // [2, 3H, B] a step's h-projection gradients (dr, dz, r ⊙ dn), in slot SlotOf(t)
    private AlignedBuffer _dHidden = AlignedBuffer.Empty;         // [H, B]

    /// <summary>A layer that packs its own weights, or, with <paramref name="weightsOwner"/>, reads that replica's (see <see cref="RecurrentLayer"/>).</summary>
    public GruLayer(ComputeContext context, int layerIndex, int inputSize, int hiddenSize, ParameterLayout layout, GruLayer? weightsOwner = null)
        : base(context, layerIndex, inputSize, hiddenSize, 3, layout, weightsOwner)
    {
        _packedIhT = weightsOwner?._packedIhT ?? new AlignedBuffer(Gemm.PackedASize(inputSize, GateRows));
        _packedHhT = weightsOwner?._packedHhT ?? new AlignedBuffer(Gemm.PackedASize(hiddenSize, GateRows));
    }

    protected override void EnsureCapacity(int timeSteps, int batch)
    {
        int h = HiddenSize, g = GateRows, i = InputSize;
        Buffers.Ensure(ref _packedStep, Gemm.PackedBSize(g, batch));
        Buffers.Ensure(ref _packedStepOdd, Gemm.PackedBSize(g, batch));
        Buffers.Ensure(ref _packedInputStep, Gemm.PackedBSize(g, batch));
        Buffers.Ensure(ref _packedInputStepOdd, Gemm.PackedBSize(g, batch));
        Buffers.Ensure(ref _biasHh, g * batch);
        Buffers.Ensure(ref _gates, (long)timeSteps * g * batch);
        Buffers.Ensure(ref _hiddenNew, (long)timeSteps * h * batch);
        Buffers.Ensure(ref _hiddenProjection, g * batch);
        Buffers.Ensure(ref _dInputPre, 2 * g * batch);
        Buffers.Ensure(ref _dHiddenPre, 2 * g * batch);
        Buffers.Ensure(ref _dHidden, h * batch);
    }

    protected override void PackWeights(ReadOnlySpan<float> parameters, int part, int parts)
    {
        int g = GateRows, i = InputSize, h = HiddenSize;
        var (inputStart, inputEnd) = RowsOfPart(i, part, parts);
        var (hiddenStart, hiddenEnd) = RowsOfPart(h, part, parts);
        PackRows(parameters.Slice(WeightIh, g * i), i, true, g, 0, _packedIhT, g, inputStart, inputEnd);
        PackRows(parameters.Slice(WeightHh, g * h), h, true, g, 0, _packedHhT, g, hiddenStart, hiddenEnd);
    }

    protected override void PrepareSteps(ReadOnlySpan<float> parameters)
        => Elementwise.BroadcastRows(parameters.Slice(BiasHh, GateRows), GateRows, Batch, _biasHh);

    protected override void ForwardSteps(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters, TeamMember member)
    {
        int b = Batch, h = HiddenSize, g = GateRows, steps = TimeSteps;
        int hb = h * b, gb = g * b;
        var hiddenProjection = _hiddenProjection.AsSpan(0, gb);
        var allGates = _gates.AsSpan(0, steps * gb);
        ProjectInputs(input, parameters.Slice(BiasIh, g), allGates, member);
        var (unitStart, unitEnd) = Units(member);
        bool oneSync = SplitByUnits(member);
        var (rowStart, rowEnd) = Narrow ? (member.IsLeader ? (0, g) : (0, 0)) : OwnRows(member);
        PackState(Hidden.AsSpan(0, hb), 0, unitStart, unitEnd);
        member.Sync();
        for (int t = 0; t < steps; t++)
        {
            var previous = Hidden.AsSpan(t * hb, hb);
            if (oneSync)
            {
                // The rows of b_hh + W_hh h_{t−1} that this member's cells read: its units of each gate block.
                for (int q = 0; q < 3; q++)
                {
                    int row = q * h + unitStart;
                    _biasHh.AsSpan(row * b, (unitEnd - unitStart) * b).CopyTo(hiddenProjection[(row * b)..]);
                }
                ProjectStateOfUnits(previous, SlotOf(t, oneSync), hiddenProjection, 3, unitStart, unitEnd, member);
            }
            else
            {
                // This member's rows of b_hh + W_hh h_{t−1} (a narrow batch: the leader's, all of them).
                _biasHh.AsSpan(rowStart * b, (rowEnd - rowStart) * b).CopyTo(hiddenProjection[(rowStart * b)..]);
                ProjectState(previous, hiddenProjection, member);
                member.Sync();
            }
            Activations.GruCell(allGates.Slice(t * gb, gb), hiddenProjection, hb, unitStart * b, unitEnd * b, previous, _hiddenNew.AsSpan(t * hb, hb), Hidden.AsSpan((t + 1) * hb, hb));
            PackState(Hidden.AsSpan((t + 1) * hb, hb), SlotOf(t + 1, oneSync), unitStart, unitEnd);
            member.Sync();
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput, ReadOnlySpan<float> parameters, Span<float> gradients, TeamMember member)
    {
        int b = Batch, h = HiddenSize, g = GateRows, i = InputSize;
        int hb = h * b;
        var dHidden = _dHidden.AsSpan(0, hb);
        if (member.IsLeader)
        {
            dHidden.Clear();
            ClearBiasSums();
        }
        member.Sync();
        var (unitStart, unitEnd) = Units(member);
        bool oneSync = SplitByUnits(member);
        var (inputStart, inputEnd) = dInput.IsEmpty ? (0, 0) : OwnRowsOf(i, member);
        // dr and dz are the same values in both gradients, so slot 1 (the h-projection's) collects only the rows from
        // the row block that holds the first n row; the rows before it are read from slot 0.
        int shared = SharedGateRows;
        for (int t = TimeSteps - 1; t >= 0; t--)
        {
            int slot = SlotOf(t, oneSync);
            var dInputPre = _dInputPre.AsSpan(slot * g * b, g * b);
            var dHiddenPre = _dHiddenPre.AsSpan(slot * g * b, g * b);
            var packedStep = slot == 0 ? _packedStep : _packedStepOdd;
            var packedInputStep = slot == 0 ? _packedInputStep : _packedInputStepOdd;
            Elementwise.GruCellBackward(_gates.AsSpan(t * g * b, g * b), _hiddenNew.AsSpan(t * hb, hb), Hidden.AsSpan(t * hb, hb), dOutput.Slice(t * hb, hb), dHidden, dInputPre, dHiddenPre, hb, unitStart * b, unitEnd * b);
            // The initial state is a constant zero, so dh_{−1} is never read: at t = 0 only dx_0 is wanted, if anything.
            bool first = t == 0;
            // This member's hidden units of each of the three gate blocks.
            for (int q = 0; q < 3; q++)
            {
                int rowStart = q * h + unitStart, rowEnd = q * h + unitEnd;
                CollectGradientStep(0, dInputPre, t, rowStart, rowEnd);
                if (rowEnd > shared) CollectGradientStep(1, dHiddenPre, t, Math.Max(rowStart, shared), rowEnd);
                if (!first) PackPanelRows(dHiddenPre, g, rowStart, rowEnd, packedStep);
                if (!dInput.IsEmpty) PackPanelRows(dInputPre, g, rowStart, rowEnd, packedInputStep);
            }
            member.Sync();
            if (first && dInput.IsEmpty) continue;

            if (oneSync)
            {
                // This member's units of dh_{t−1} (what its next cell reads) and its row blocks of dx_t.
                if (unitEnd > unitStart && !first)
                    Context.Gemm.MultiplyOnThread(_packedHhT.AsSpan(unitStart * g, Gemm.PackedASize(unitEnd - unitStart, g)), PanelOf(dHiddenPre, g, packedStep), unitEnd - unitStart, b, g, dHidden[(unitStart * b)..], b, accumulate: true, member.Index);
                if (inputEnd > inputStart)
                    Context.Gemm.MultiplyOnThread(_packedIhT.AsSpan(inputStart * g, Gemm.PackedASize(inputEnd - inputStart, g)), PanelOf(dInputPre, g, packedInputStep), inputEnd - inputStart, b, g, dInput[((t * i + inputStart) * b)..], b, accumulate: false, member.Index);
                continue;
            }

            // dh_{t−1} += W_hhᵀ × dHiddenPre and dx_t = W_ihᵀ × dInputPre, this member's rows; a batch of exactly NR is
            // already a packed panel.
            if (!first) Context.Gemm.Multiply(_packedHhT, PanelOf(dHiddenPre, g, packedStep), h, b, g, dHidden, b, accumulate: true, member);
            if (!dInput.IsEmpty)
                Context.Gemm.Multiply(_packedIhT, PanelOf(dInputPre, g, packedInputStep), i, b, g, dInput.Slice(t * i * b, i * b), b, accumulate: false, member);
            member.Sync();
        }
        if (oneSync) member.Sync();

        AccumulateWeightGradient(0, input, i, WeightIh, gradients, member);
        AddBiasGradient(0, BiasIh, BiasHh, gradients, member, 0, shared);
        AddBiasGradient(0, BiasIh, -1, gradients, member, shared, g);
        AccumulateWeightGradient(1, PreviousStates, h, WeightHh, gradients, member, sharedRows: shared);
        AddBiasGradient(1, BiasHh, -1, gradients, member, shared, g);
        member.Sync();
    }

    /// <summary>
    /// The gate rows before the row block that holds the first n row (2H rounded down to a multiple of MR): their
    /// pre-activation gradients (dr, dz) are the same for the x- and the h-projection, so they are collected once, in
    /// slot 0, and serve both weight and bias gradients.
    /// </summary>
    private int SharedGateRows => 2 * HiddenSize / Gemm.MR * Gemm.MR;
}
