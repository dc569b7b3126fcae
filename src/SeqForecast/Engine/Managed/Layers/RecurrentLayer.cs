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
/// <para>Teams: every pass takes a <see cref="TeamMember"/>. All members of a team call the same methods with the
/// same arguments; the leader sets up (buffers, packed weights), then each member computes its row blocks of every
/// GEMM (<see cref="GemmRunner.Multiply(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, int, Span{float}, int, bool, TeamMember)"/>)
/// and its hidden units of every cell, with <see cref="TeamMember.Sync"/> wherever one member reads what another
/// wrote. Where H is a multiple of MR (<see cref="SplitByUnits"/>), each member owns whole row blocks of hidden
/// units and computes, in every per-step GEMM, the rows its own cell reads next (its units' rows of each gate block,
/// its units of dh), so a step of the recurrence syncs once, after the cell; the per-step operands that the others
/// still read while a member runs ahead (packed states, step gradients) alternate between two buffers by step.
/// Otherwise a step syncs twice: after the recurrent GEMM and after the cell. The splits are of independent outputs,
/// so a team gets the same bits as one thread.</para>
/// </remarks>
internal abstract class RecurrentLayer
{
    protected readonly ComputeContext Context;
    protected AlignedBuffer Hidden = AlignedBuffer.Empty;          // [T + 1, H, B]
    private readonly AlignedBuffer[] _packedGradA = [AlignedBuffer.Empty, AlignedBuffer.Empty]; // packed [G·H, T·B] pre-activation gradients, two slots
    private readonly AlignedBuffer[] _biasSums = [AlignedBuffer.Empty, AlignedBuffer.Empty];    // [G·H, 16] bias-gradient lanes, two slots
    private AlignedBuffer _packedGradB = AlignedBuffer.Empty;       // packed [T·B, in or H] inputs or previous states
    private readonly AlignedBuffer _packedIh;                       // packed A [G·H, in], the owner's (see WeightsOwner)
    private readonly AlignedBuffer _packedHh;                       // packed A [G·H, H], the owner's
    private AlignedBuffer _packedInputs = AlignedBuffer.Empty;      // packed B: one [in, NR] panel per step (batches narrower than NR)
    private AlignedBuffer[] _memberInputs = [];                     // per team member: packed B [in, B] of one step (batches wider than NR)
    private AlignedBuffer _packedState = AlignedBuffer.Empty;       // packed B [H, B]: a state in slot 0 (batches other than NR; see SlotOf)
    private AlignedBuffer _packedStateOdd = AlignedBuffer.Empty;    // packed B [H, B]: a state in slot 1
    private AlignedBuffer _vectorIhT = AlignedBuffer.Empty;         // W_ihᵀ packed as B [in, G·H], for the narrow input projection
    private AlignedBuffer _vectorHh = AlignedBuffer.Empty;          // W_hh packed for Gemm.MultiplyVector, for the narrow recurrence
    private AlignedBuffer _columnInputs = AlignedBuffer.Empty;      // [T, in] or [H]: one column of the inputs or of h_{t−1}
    private AlignedBuffer _packedColumn = AlignedBuffer.Empty;      // packed A [T, in]
    private AlignedBuffer _columnProjection = AlignedBuffer.Empty;  // [T, G·H]
    private bool _vectorStale = true;

    /// <summary>
    /// With <paramref name="weightsOwner"/> (another replica of this layer, same shape) the layer reads that one's packed
    /// weights instead of packing its own; without, it owns and packs them. A pass packs its owners' weights once per
    /// weights version (<see cref="PackWeightRows"/>) before any replica reads them.
    /// </summary>
    protected RecurrentLayer(ComputeContext context, int layerIndex, int inputSize, int hiddenSize, int gateCount, ParameterLayout layout, RecurrentLayer? weightsOwner)
    {
        Context = context;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        GateRows = gateCount * hiddenSize;
        WeightIh = layout[$"rnn.weight_ih_l{layerIndex}"].Offset;
        WeightHh = layout[$"rnn.weight_hh_l{layerIndex}"].Offset;
        BiasIh = layout[$"rnn.bias_ih_l{layerIndex}"].Offset;
        BiasHh = layout[$"rnn.bias_hh_l{layerIndex}"].Offset;
        if (weightsOwner is null)
        {
            // Fixed by the shape, so allocated once: a replica reading them never sees them reallocated.
            _packedIh = new AlignedBuffer(Gemm.PackedASize(GateRows, inputSize));
            _packedHh = new AlignedBuffer(Gemm.PackedASize(GateRows, hiddenSize));
            return;
        }
        if (weightsOwner.GetType() != GetType() || weightsOwner.InputSize != inputSize || weightsOwner.HiddenSize != hiddenSize || weightsOwner.WeightIh != WeightIh || !weightsOwner.OwnsWeights)
            throw new ArgumentException($"weightsOwner is a {weightsOwner.GetType().Name} (input {weightsOwner.InputSize}, hidden {weightsOwner.HiddenSize}, owns its weights: {weightsOwner.OwnsWeights}); it must be an owner of the same type, shape and parameters as this {GetType().Name} (input {inputSize}, hidden {hiddenSize})", nameof(weightsOwner));
        WeightsOwner = weightsOwner;
        _packedIh = weightsOwner._packedIh;
        _packedHh = weightsOwner._packedHh;
    }

    /// <summary>The layer whose packed weights this one reads, or null where it packs its own.</summary>
    protected RecurrentLayer? WeightsOwner { get; }

    /// <summary>Whether this layer packs its weights (it has no <see cref="WeightsOwner"/>).</summary>
    public bool OwnsWeights => WeightsOwner is null;

    /// <summary>
    /// Packs part <paramref name="part"/> of <paramref name="parts"/> of every packed weight (whole row blocks, so
    /// the parts write disjoint memory and may run on different threads at once). Owners only.
    /// </summary>
    public void PackWeightRows(ReadOnlySpan<float> parameters, int part, int parts)
    {
        if (!OwnsWeights) throw new InvalidOperationException("this layer reads another layer's packed weights; pack that one");
        int g = GateRows, i = InputSize, h = HiddenSize;
        var (start, end) = RowsOfPart(g, part, parts);
        PackRows(parameters.Slice(WeightIh, g * i), i, false, i, 0, _packedIh, i, start, end);
        PackRows(parameters.Slice(WeightHh, g * h), h, false, h, 0, _packedHh, h, start, end);
        PackWeights(parameters, part, parts);
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

    /// <summary>
    /// Runs the layer over <paramref name="input"/> <c>[T, in, B]</c>; the result is <see cref="Output"/>. Every member of
    /// <paramref name="member"/>'s team calls it with the same arguments; on return the whole output is written.
    /// <paramref name="weightsChanged"/>: the parameters changed since this layer's last pass. With
    /// <paramref name="weightsPacked"/> the packed weights already hold them (the pass packed them with
    /// <see cref="PackWeightRows"/>); otherwise, when they changed, the team packs them here, which only an owner may do.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters, int timeSteps, int batch, bool weightsChanged, TeamMember member, bool weightsPacked = false)
    {
        if (weightsChanged && !weightsPacked && !OwnsWeights)
            throw new InvalidOperationException("this layer reads another layer's packed weights, which must be packed before its pass");
        if (member.IsLeader)
        {
            TimeSteps = timeSteps;
            Batch = batch;
            int step = HiddenSize * batch;
            Buffers.Ensure(ref Hidden, (long)(timeSteps + 1) * step);
            Hidden.AsSpan(0, step).Clear();
            EnsureSharedCapacity(timeSteps, batch, member.Size);
            EnsureCapacity(timeSteps, batch);
            if (weightsChanged) _vectorStale = true;
            if (Narrow && _vectorStale) PackVectorWeights(parameters);
            PrepareSteps(parameters);
        }
        member.Sync();
        if (weightsChanged && !weightsPacked)
        {
            // Each member packs its row blocks of every packed weight.
            PackWeightRows(parameters, member.Index, member.Size);
            member.Sync();
        }
        ForwardSteps(input, parameters, member);
        member.Sync();
    }

    /// <summary>
    /// Packs rows [start, end) of a source matrix (row r is <c>source[r·ld ..]</c>, or column r when
    /// <paramref name="transpose"/> is set) as rows <paramref name="rowOffset"/> + r of a packed A with
    /// <paramref name="k"/> columns.
    /// </summary>
    protected static void PackRows(ReadOnlySpan<float> source, int ld, bool transpose, int k, int rowOffset, Span<float> packed, int kTotal, int start, int end)
    {
        if (start >= end) return;
        var from = transpose ? source[start..] : source[(start * ld)..];
        Gemm.PackA(from, ld, transpose, end - start, k, rowOffset + start, 0, kTotal, packed);
    }

    /// <summary>
    /// Whether <paramref name="member"/>'s team runs each step of this pass with one sync: it needs a team, a batch
    /// wider than the narrow path and H a multiple of MR, so that the row blocks of each gate block start at a block
    /// boundary of the packed weights.
    /// </summary>
    protected bool SplitByUnits(TeamMember member) => member.Size > 1 && !Narrow && HiddenSize % Gemm.MR == 0;

    /// <summary>The hidden units [start, end) whose cells <paramref name="member"/> computes: whole row blocks where <see cref="SplitByUnits"/>.</summary>
    protected (int Start, int End) Units(TeamMember member) => SplitByUnits(member) ? OwnRowsOf(HiddenSize, member) : member.Range(HiddenSize);

    /// <summary>The rows [start, end) of <paramref name="member"/>'s row blocks in a packed A of <paramref name="rows"/> rows.</summary>
    protected static (int Start, int End) OwnRowsOf(int rows, TeamMember member) => RowsOfPart(rows, member.Index, member.Size);

    /// <summary>The rows [start, end) of part <paramref name="part"/> of <paramref name="parts"/>, in whole row blocks of a packed A of <paramref name="rows"/> rows.</summary>
    protected static (int Start, int End) RowsOfPart(int rows, int part, int parts)
    {
        var (first, last) = TeamMember.Split((rows + Gemm.MR - 1) / Gemm.MR, part, parts);
        return (Math.Min(first * Gemm.MR, rows), Math.Min(last * Gemm.MR, rows));
    }

    /// <summary>Grows the buffers this class owns for a pass of <paramref name="timeSteps"/> × <paramref name="batch"/> (leader only).</summary>
    private void EnsureSharedCapacity(int timeSteps, int batch, int teamSize)
    {
        int g = GateRows, i = InputSize, h = HiddenSize, k = timeSteps * batch;
        if (batch <= Gemm.NR) Buffers.Ensure(ref _packedInputs, (long)timeSteps * Gemm.NR * i);
        else
        {
            if (_memberInputs.Length < teamSize) Array.Resize(ref _memberInputs, teamSize);
            for (int m = 0; m < teamSize; m++)
            {
                _memberInputs[m] ??= AlignedBuffer.Empty;
                Buffers.Ensure(ref _memberInputs[m], Gemm.PackedBSize(i, batch));
            }
        }
        Buffers.Ensure(ref _packedState, Gemm.PackedBSize(h, batch));
        Buffers.Ensure(ref _packedStateOdd, Gemm.PackedBSize(h, batch));
        for (int slot = 0; slot < 2; slot++)
        {
            Buffers.Ensure(ref _packedGradA[slot], Gemm.PackedASize(g, k));
            Buffers.Ensure(ref _biasSums[slot], g * Elementwise.RowSumLanes);
        }
        Buffers.Ensure(ref _packedGradB, Gemm.PackedBSize(k, Math.Max(i, h)));
        if (batch <= Gemm.NarrowColumns)
        {
            Buffers.Ensure(ref _packedColumn, Gemm.PackedASize(timeSteps, i));
            Buffers.Ensure(ref _columnInputs, Math.Max(timeSteps * i, h));
            Buffers.Ensure(ref _columnProjection, timeSteps * g);
        }
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
    /// A member writes its row blocks of every step (the same rows its <see cref="ProjectState"/> adds to, so no sync is
    /// needed between the two); a narrow batch is computed by the leader alone.
    /// </summary>
    protected void ProjectInputs(ReadOnlySpan<float> input, ReadOnlySpan<float> bias, Span<float> gates, TeamMember member)
    {
        int t = TimeSteps, b = Batch, g = GateRows, i = InputSize;
        if (!Narrow && b <= Gemm.NR)
        {
            ReadOnlySpan<float> panels = input;
            if (b != Gemm.NR)
            {
                var (first, last) = member.Range(t);
                for (int s = first; s < last; s++)
                    Gemm.PackB(input.Slice(s * i * b, i * b), b, false, i, b, 0, i, _packedInputs.AsSpan(s * Gemm.NR * i, Gemm.NR * i));
                member.Sync();
                panels = _packedInputs;
            }
            Context.Gemm.MultiplyPanels(_packedIh, panels, g, i, t, b, gates, b, g * b, accumulate: false, member, rowBias: bias);
            return;
        }

        if (!Narrow)
        {
            // A step wider than one panel (SIMD widths below 512 bits): one GEMM per step, onto the biases. Each member
            // packs the whole step into its own scratch (in × B floats against G·H × in × B multiply-adds), so the
            // members need no sync, and the panel is still in L1 when its GEMM runs.
            var packed = _memberInputs[member.Index];
            var (rowStart, rowEnd) = OwnRows(member);
            for (int s = 0; s < t; s++)
            {
                Elementwise.BroadcastRows(bias[rowStart..], rowEnd - rowStart, b, gates.Slice((s * g + rowStart) * b, (rowEnd - rowStart) * b));
                Gemm.PackB(input.Slice(s * i * b, i * b), b, false, i, b, 0, i, packed);
                Context.Gemm.Multiply(_packedIh, packed, g, b, i, gates.Slice(s * g * b, g * b), b, accumulate: true, member);
            }
            return;
        }

        if (!member.IsLeader) return;
        for (int s = 0; s < t; s++) Elementwise.BroadcastRows(bias, g, b, gates.Slice(s * g * b, g * b));
        if (b == 1)
        {
            // A single column is already [T, in], row-major.
            Gemm.PackA(input, i, false, t, i, 0, 0, i, _packedColumn);
            Context.Gemm.Multiply(_packedColumn, _vectorIhT, t, g, i, gates, g, accumulate: true);
            return;
        }
        var columnInputs = _columnInputs.AsSpan(0, t * i);
        for (int j = 0; j < b; j++)
        {
            Elementwise.GatherColumn(input, b, j, columnInputs);
            Gemm.PackA(columnInputs, i, false, t, i, 0, 0, i, _packedColumn);
            Context.Gemm.Multiply(_packedColumn, _vectorIhT, t, g, i, _columnProjection, g, accumulate: false);
            Elementwise.AddToColumn(_columnProjection.AsSpan(0, t * g), gates, b, j);
        }
    }

    /// <summary>The gate rows [start, end) of <paramref name="member"/>'s row blocks (the rows its GEMMs write).</summary>
    protected (int Start, int End) OwnRows(TeamMember member) => OwnRowsOf(GateRows, member);

    /// <summary>
    /// The recurrent projection of one step: target[G·H, B] += W_hh × previous[H, B], <paramref name="member"/>'s row
    /// blocks. The previous state must have been packed by <see cref="PackState"/> (batches other than NR) and
    /// visible to every member (synced). A narrow batch is computed by the leader alone.
    /// </summary>
    protected void ProjectState(ReadOnlySpan<float> previous, Span<float> target, TeamMember member)
    {
        int b = Batch, g = GateRows, h = HiddenSize;
        if (Narrow)
        {
            if (!member.IsLeader) return;
            for (int j = 0; j < b; j++)
            {
                var column = previous;
                if (b > 1)
                {
                    var gathered = _columnInputs.AsSpan(0, h);
                    Elementwise.GatherColumn(previous[..(h * b)], b, j, gathered);
                    column = gathered;
                }
                Context.Gemm.MultiplyVector(_vectorHh, column, g, h, target[j..], b, accumulate: true);
            }
            return;
        }
        Context.Gemm.Multiply(_packedHh, PanelOf(previous, h, _packedState), g, b, h, target, b, accumulate: true, member);
    }

    /// <summary>
    /// The rows of the recurrent projection that hidden units [unitStart, unitEnd) of the cell read: in each of the
    /// <paramref name="gateCount"/> gate blocks, target[q·H + u, B] += W_hh[q·H + u] × previous for u in the range,
    /// on the calling thread (<see cref="SplitByUnits"/>; the range is whole row blocks). Same bits as
    /// <see cref="ProjectState"/>.
    /// </summary>
    protected void ProjectStateOfUnits(ReadOnlySpan<float> previous, int slot, Span<float> target, int gateCount, int unitStart, int unitEnd, TeamMember member)
    {
        int b = Batch, h = HiddenSize, count = unitEnd - unitStart;
        if (count == 0) return;
        var panel = PanelOf(previous, h, StateBuffer(slot));
        for (int q = 0; q < gateCount; q++)
        {
            int row = q * h + unitStart;
            Context.Gemm.MultiplyOnThread(_packedHh.AsSpan(row * h, Gemm.PackedASize(count, h)), panel, count, b, h, target[(row * b)..], b, accumulate: true, member.Index);
        }
    }

    /// <summary>
    /// Which of a pair of per-step buffers step <paramref name="step"/> uses: alternating by parity where the team
    /// syncs once a step (<see cref="SplitByUnits"/>), so a member writing step t+1's never overwrites step t's that
    /// another member may still read; else always the first (the sync after the GEMM orders them), so one thread keeps
    /// one buffer hot.
    /// </summary>
    protected static int SlotOf(int step, bool oneSync) => oneSync ? step & 1 : 0;

    /// <summary>The packed copy of a state (batches other than NR) in <paramref name="slot"/> (<see cref="SlotOf"/>).</summary>
    private AlignedBuffer StateBuffer(int slot) => slot == 0 ? _packedState : _packedStateOdd;

    /// <summary>
    /// Packs hidden units [unitStart, unitEnd) of a state [H, B] as rows of the recurrent GEMM's B operand (batches
    /// other than NR, which are used in place): each member packs the units its cell just wrote.
    /// </summary>
    protected void PackState(ReadOnlySpan<float> state, int slot, int unitStart, int unitEnd)
    {
        if (!Narrow) PackPanelRows(state, HiddenSize, unitStart, unitEnd, StateBuffer(slot));
    }

    /// <summary>
    /// Packs rows [rowStart, rowEnd) of a per-step block [rows, B] into <paramref name="scratch"/>, the B operand of a
    /// GEMM with K = <paramref name="rows"/>; a batch of exactly NR is already one packed panel and needs no copy (see
    /// <see cref="PanelOf"/>).
    /// </summary>
    protected void PackPanelRows(ReadOnlySpan<float> block, int rows, int rowStart, int rowEnd, AlignedBuffer scratch)
    {
        int b = Batch;
        if (b == Gemm.NR || rowStart == rowEnd) return;
        Gemm.PackB(block.Slice(rowStart * b, (rowEnd - rowStart) * b), b, false, rowEnd - rowStart, b, rowStart, rows, scratch);
    }

    /// <summary>The B operand for a block [rows, B]: the block itself for a batch of NR, else the scratch it was packed into.</summary>
    protected ReadOnlySpan<float> PanelOf(ReadOnlySpan<float> block, int rows, AlignedBuffer scratch)
        => Batch == Gemm.NR ? block[..(rows * Batch)] : scratch;

    /// <summary>
    /// Backpropagates <paramref name="dOutput"/> <c>[T, H, B]</c> through the last forward pass: adds the weight and
    /// bias gradients to <paramref name="gradients"/> and, unless <paramref name="dInput"/> is empty, writes the input
    /// gradient <c>[T, in, B]</c> there.
    /// </summary>
    /// <remarks>
    /// Every member of <paramref name="member"/>'s team calls it with the same arguments; on return
    /// <paramref name="dInput"/> is written and this member's rows of the weight and bias gradients are added.
    /// </remarks>
    public abstract void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput, ReadOnlySpan<float> parameters, Span<float> gradients, TeamMember member);

    /// <summary>Grows the subclass's buffers (leader only, before the members start).</summary>
    protected abstract void EnsureCapacity(int timeSteps, int batch);

    /// <summary>Packs part <paramref name="part"/> of <paramref name="parts"/> (whole row blocks) of the subclass's copies of the weights.</summary>
    protected abstract void PackWeights(ReadOnlySpan<float> parameters, int part, int parts);

    /// <summary>Per-pass setup of the steps, such as bias sums (leader only).</summary>
    protected abstract void PrepareSteps(ReadOnlySpan<float> parameters);

    /// <summary>The recurrence; every member runs it, each with its share.</summary>
    protected abstract void ForwardSteps(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters, TeamMember member);

    /// <summary>
    /// dW[G·H, columns] += Σ_t dPre_t[G·H, B] × source_tᵀ[B, columns], as one GEMM with K = T·B over the gradients
    /// packed into <paramref name="slot"/> by <see cref="CollectGradientStep"/>; the time steps of the source are
    /// concatenated along K while packing. Members pack their share of the steps, then compute their row blocks.
    /// </summary>
    /// <param name="slot">The packed pre-activation gradients to use.</param>
    /// <param name="source">Layer inputs or previous states, <c>[T, columns, B]</c>.</param>
    /// <param name="columns">Columns of the weight.</param>
    /// <param name="weightOffset">Offset of the weight in <paramref name="gradients"/>.</param>
    /// <param name="gradients">The whole gradient buffer; the weight's slice is accumulated.</param>
    /// <param name="member">This thread's place in the team.</param>
    /// <param name="sharedRows">
    /// Rows [0, sharedRows) (a multiple of MR) whose pre-activation gradients are the same values as slot 0's and were
    /// collected there only (the GRU's r and z rows): they are read from slot 0, the rows from there on from
    /// <paramref name="slot"/>. The same bits as one product over a slot holding every row.
    /// </param>
    protected void AccumulateWeightGradient(int slot, ReadOnlySpan<float> source, int columns, int weightOffset, Span<float> gradients, TeamMember member, int sharedRows = 0)
    {
        int t = TimeSteps, b = Batch, k = t * b, rows = GateRows;
        if (sharedRows < 0 || sharedRows % Gemm.MR != 0 || sharedRows >= rows)
            throw new ArgumentOutOfRangeException(nameof(sharedRows), sharedRows, $"must be a multiple of MR = {Gemm.MR} in [0, {rows})");
        var (first, last) = member.Range(t);
        for (int s = first; s < last; s++)
            Gemm.PackB(source.Slice(s * columns * b, columns * b), b, true, b, columns, s * b, k, _packedGradB);
        member.Sync();
        if (sharedRows > 0)
            Context.Gemm.Multiply(_packedGradA[0].AsSpan(0, Gemm.PackedASize(sharedRows, k)), _packedGradB, sharedRows, columns, k, gradients.Slice(weightOffset, sharedRows * columns), columns, accumulate: true, member);
        // The rows of a packed A from an MR-aligned row r are the packed A of those rows, at offset r·K.
        Context.Gemm.Multiply(_packedGradA[slot].AsSpan(sharedRows * k), _packedGradB, rows - sharedRows, columns, k, gradients.Slice(weightOffset + sharedRows * columns, (rows - sharedRows) * columns), columns, accumulate: true, member);
        // The next call packs into the same buffer.
        member.Sync();
    }

    /// <summary>Clears the bias-gradient accumulators (both slots) before a backward pass (leader only).</summary>
    protected void ClearBiasSums()
    {
        for (int slot = 0; slot < 2; slot++) _biasSums[slot].AsSpan(0, GateRows * Elementwise.RowSumLanes).Clear();
    }

    /// <summary>
    /// Takes in gate rows [rowStart, rowEnd) of step t's pre-activation gradients [G·H, B], while they are in L1: packs
    /// them as columns t·B.. of the weight gradient's A operand and adds them to the bias sums, both in
    /// <paramref name="slot"/> (0 or 1).
    /// </summary>
    protected void CollectGradientStep(int slot, ReadOnlySpan<float> dPreStep, int t, int rowStart, int rowEnd)
    {
        int b = Batch, k = TimeSteps * b, count = rowEnd - rowStart;
        if (count == 0) return;
        Gemm.PackA(dPreStep.Slice(rowStart * b, count * b), b, false, count, b, rowStart, t * b, k, _packedGradA[slot]);
        Elementwise.AccumulateRowSums(dPreStep.Slice(rowStart * b, count * b), count, b, _biasSums[slot].AsSpan(rowStart * Elementwise.RowSumLanes));
    }

    /// <summary>
    /// dBias += the bias sums of <paramref name="slot"/> for <paramref name="member"/>'s share of the rows, for the bias
    /// at <paramref name="biasOffset"/> and, unless <paramref name="secondBiasOffset"/> is negative, a second bias that
    /// receives the same gradient.
    /// </summary>
    protected void AddBiasGradient(int slot, int biasOffset, int secondBiasOffset, Span<float> gradients, TeamMember member)
        => AddBiasGradient(slot, biasOffset, secondBiasOffset, gradients, member, 0, GateRows);

    /// <summary>
    /// <see cref="AddBiasGradient(int, int, int, Span{float}, TeamMember)"/> for gate rows [rowStart, rowEnd) only, split
    /// among the team.
    /// </summary>
    protected void AddBiasGradient(int slot, int biasOffset, int secondBiasOffset, Span<float> gradients, TeamMember member, int rowStart, int rowEnd)
    {
        var (first, last) = member.Range(rowEnd - rowStart);
        int start = rowStart + first, end = rowStart + last;
        var second = secondBiasOffset >= 0 ? gradients.Slice(secondBiasOffset + start, end - start) : Span<float>.Empty;
        Elementwise.AddAccumulatedRowSums(_biasSums[slot].AsSpan(start * Elementwise.RowSumLanes), end - start, gradients.Slice(biasOffset + start, end - start), second);
    }

    /// <summary>The previous hidden states, <c>[T, H, B]</c> (steps 0..T−1 of <see cref="Hidden"/>).</summary>
    protected ReadOnlySpan<float> PreviousStates => Hidden.AsSpan(0, TimeSteps * HiddenSize * Batch);
}
