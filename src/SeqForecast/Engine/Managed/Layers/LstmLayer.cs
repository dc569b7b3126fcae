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
    private AlignedBuffer _dHidden = AlignedBuffer.Empty;         // [H, B] gradient reaching h_t
    private AlignedBuffer _dCell = AlignedBuffer.Empty;           // [H, B] gradient reaching c_t
    private AlignedBuffer _dStacked = AlignedBuffer.Empty;        // [in + H, B]: [dx_t; dh_{t−1}]

    public LstmLayer(ComputeContext context, int layerIndex, int inputSize, int hiddenSize, ParameterLayout layout)
        : base(context, layerIndex, inputSize, hiddenSize, 4, layout)
    {
    }

    protected override void EnsureCapacity(int timeSteps, int batch)
    {
        int h = HiddenSize, g = GateRows, k = InputSize + HiddenSize;
        Buffers.Ensure(ref _packedWeightsT, Gemm.PackedASize(k, g));
        Buffers.Ensure(ref _bias, g);
        Buffers.Ensure(ref _gates, (long)timeSteps * g * batch);
        Buffers.Ensure(ref _cells, (long)(timeSteps + 1) * h * batch);
        Buffers.Ensure(ref _tanhCells, (long)timeSteps * h * batch);
        Buffers.Ensure(ref _dGates, g * batch);
        Buffers.Ensure(ref _dHidden, h * batch);
        Buffers.Ensure(ref _dCell, h * batch);
        Buffers.Ensure(ref _dStacked, k * batch);
    }

    protected override void PackWeights(ReadOnlySpan<float> parameters)
    {
        int g = GateRows, i = InputSize, h = HiddenSize, k = i + h;
        Gemm.PackA(parameters.Slice(WeightIh, g * i), i, true, i, g, 0, 0, g, _packedWeightsT);
        Gemm.PackA(parameters.Slice(WeightHh, g * h), h, true, h, g, i, 0, g, _packedWeightsT);
    }

    protected override void ForwardSteps(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters)
    {
        int b = Batch, h = HiddenSize, g = GateRows, steps = TimeSteps;
        int hb = h * b, gb = g * b;
        var bias = _bias.AsSpan(0, g);
        Elementwise.BroadcastRows(parameters.Slice(BiasIh, g), parameters.Slice(BiasHh, g), g, 1, bias);
        _cells.AsSpan(0, hb).Clear();
        var allGates = _gates.AsSpan(0, steps * gb);
        ProjectInputs(input, bias, allGates);
        for (int t = 0; t < steps; t++)
        {
            var gates = allGates.Slice(t * gb, gb);
            ProjectState(Hidden.AsSpan(t * hb, hb), gates);
            Activations.LstmCell(gates, hb, _cells.AsSpan(t * hb, hb), _cells.AsSpan((t + 1) * hb, hb), _tanhCells.AsSpan(t * hb, hb), Hidden.AsSpan((t + 1) * hb, hb));
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput, ReadOnlySpan<float> parameters, Span<float> gradients)
    {
        int b = Batch, h = HiddenSize, g = GateRows, i = InputSize, k = i + h;
        int hb = h * b;
        var dHidden = _dHidden.AsSpan(0, hb);
        var dCell = _dCell.AsSpan(0, hb);
        dHidden.Clear();
        dCell.Clear();
        ClearBiasSums();
        for (int t = TimeSteps - 1; t >= 0; t--)
        {
            var dGates = _dGates.AsSpan(0, g * b);
            Elementwise.LstmCellBackward(_gates.AsSpan(t * g * b, g * b), _tanhCells.AsSpan(t * hb, hb), _cells.AsSpan(t * hb, hb), dOutput.Slice(t * hb, hb), dHidden, dCell, dGates, hb);
            CollectGradientStep(0, dGates, t);

            // [dx_t; dh_{t−1}] = [W_ih | W_hh]ᵀ × dGates_t; a batch of exactly NR is already a packed panel.
            var dStacked = _dStacked.AsSpan(0, k * b);
            Context.Gemm.Multiply(_packedWeightsT, AsPanel(dGates, g, ref _packedStep), k, b, g, dStacked, b, accumulate: false);
            if (!dInput.IsEmpty) dStacked[..(i * b)].CopyTo(dInput.Slice(t * i * b, i * b));
            dStacked.Slice(i * b, hb).CopyTo(dHidden);
        }

        AccumulateWeightGradient(0, input, i, WeightIh, gradients);
        AccumulateWeightGradient(0, PreviousStates, h, WeightHh, gradients);
        AddBiasGradient(0, BiasIh, BiasHh, gradients);
    }
}
