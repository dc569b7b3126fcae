using System.Numerics.Tensors;
using SeqForecast.Engine.Kernels;

namespace SeqForecast.Engine.Managed.Layers;

/// <summary>
/// One LSTM layer with PyTorch's equations and gate order (i, f, g, o):
/// <code>
/// i = σ(W_ii x + b_ii + W_hi h + b_hi)    f = σ(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg) o = σ(W_io x + b_io + W_ho h + b_ho)
/// c' = f ⊙ c + i ⊙ g                      h' = o ⊙ tanh(c')
/// </code>
/// Each step is one GEMM, gates[4H, B] = bias + [W_ih | W_hh] × [x_t; h_{t−1}], with the stacked weights packed once per
/// forward pass.
/// </summary>
internal sealed class LstmLayer : RecurrentLayer
{
    private float[] _packedWeights = [];   // packed [4H, in + H]: [W_ih | W_hh]
    private float[] _packedWeightsT = [];  // packed [in + H, 4H]: [W_ih | W_hh]ᵀ, for the backward pass
    private float[] _bias = [];            // [4H, B]: b_ih + b_hh broadcast over the batch
    private float[] _packedStep = [];      // packed [in + H, B]: [x_t; h_{t−1}]
    private float[] _gates = [];           // [T, 4H, B] activated gates i, f, g, o
    private float[] _cells = [];           // [T + 1, H, B] cell states, zero initial state at step 0
    private float[] _tanhCells = [];       // [T, H, B] tanh(c_t)
    private float[] _dGates = [];          // [T, 4H, B] pre-activation gradients
    private float[] _dHidden = [];         // [H, B] gradient reaching h_t
    private float[] _dCell = [];           // [H, B] gradient reaching c_t
    private float[] _dStacked = [];        // [in + H, B]: [dx_t; dh_{t−1}]
    private float[] _scratch = [];         // [H, B]
    private float[] _packedVector = [];    // Wᵀ packed as B [in + H, 4H], for batches of at most Gemm.NarrowColumns
    private float[] _column = [];          // [in + H] one column of [x_t; h_{t−1}]
    private bool _vectorStale = true;

    public LstmLayer(ComputeContext context, int layerIndex, int inputSize, int hiddenSize, ParameterLayout layout)
        : base(context, layerIndex, inputSize, hiddenSize, 4, layout)
    {
    }

    protected override void EnsureCapacity(int timeSteps, int batch)
    {
        int h = HiddenSize, g = GateRows, k = InputSize + HiddenSize;
        Buffers.Ensure(ref _packedWeights, Gemm.PackedASize(g, k));
        Buffers.Ensure(ref _packedWeightsT, Gemm.PackedASize(k, g));
        Buffers.Ensure(ref _bias, g * batch);
        Buffers.Ensure(ref _packedStep, Gemm.PackedBSize(Math.Max(k, g), batch)); // [x; h] forward, dGates backward
        Buffers.Ensure(ref _gates, (long)timeSteps * g * batch);
        Buffers.Ensure(ref _cells, (long)(timeSteps + 1) * h * batch);
        Buffers.Ensure(ref _tanhCells, (long)timeSteps * h * batch);
        Buffers.Ensure(ref _dGates, (long)timeSteps * g * batch);
        Buffers.Ensure(ref _dHidden, h * batch);
        Buffers.Ensure(ref _dCell, h * batch);
        Buffers.Ensure(ref _dStacked, k * batch);
        Buffers.Ensure(ref _scratch, h * batch);
    }

    protected override void PackWeights(ReadOnlySpan<float> parameters)
    {
        int g = GateRows, i = InputSize, h = HiddenSize, k = i + h;
        Gemm.PackA(parameters.Slice(WeightIh, g * i), i, false, g, i, 0, 0, k, _packedWeights);
        Gemm.PackA(parameters.Slice(WeightHh, g * h), h, false, g, h, 0, i, k, _packedWeights);
        Gemm.PackA(parameters.Slice(WeightIh, g * i), i, true, i, g, 0, 0, g, _packedWeightsT);
        Gemm.PackA(parameters.Slice(WeightHh, g * h), h, true, h, g, i, 0, g, _packedWeightsT);
        _vectorStale = true;
    }

    protected override void ForwardSteps(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters)
    {
        int b = Batch, h = HiddenSize, g = GateRows, i = InputSize, k = i + h;
        int hb = h * b;
        Elementwise.BroadcastRows(parameters.Slice(BiasIh, g), parameters.Slice(BiasHh, g), g, b, _bias);
        _cells.AsSpan(0, hb).Clear();
        bool narrow = b <= Gemm.NarrowColumns;
        if (narrow && _vectorStale)
        {
            Buffers.Ensure(ref _packedVector, Gemm.PackedBSize(k, g));
            Buffers.Ensure(ref _column, k);
            Gemm.PackB(parameters.Slice(WeightIh, g * i), i, true, i, g, 0, k, _packedVector);
            Gemm.PackB(parameters.Slice(WeightHh, g * h), h, true, h, g, i, k, _packedVector);
            _vectorStale = false;
        }
        for (int t = 0; t < TimeSteps; t++)
        {
            var gates = _gates.AsSpan(t * g * b, g * b);
            _bias.AsSpan(0, g * b).CopyTo(gates);
            if (narrow)
            {
                ProjectColumns(_packedVector, input.Slice(t * i * b, i * b), i, Hidden.AsSpan(t * hb, hb), h, g, gates, _column);
            }
            else
            {
                Gemm.PackB(input.Slice(t * i * b, i * b), b, false, i, b, 0, k, _packedStep);
                Gemm.PackB(Hidden.AsSpan(t * hb, hb), b, false, h, b, i, k, _packedStep);
                Context.Gemm.Multiply(_packedWeights, _packedStep, g, b, k, gates, b, accumulate: true);
            }

            Activations.LstmCell(gates, hb, _cells.AsSpan(t * hb, hb), _cells.AsSpan((t + 1) * hb, hb), _tanhCells.AsSpan(t * hb, hb), Hidden.AsSpan((t + 1) * hb, hb));
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput, ReadOnlySpan<float> parameters, Span<float> gradients)
    {
        int b = Batch, h = HiddenSize, g = GateRows, i = InputSize, k = i + h;
        int hb = h * b;
        var dHidden = _dHidden.AsSpan(0, hb);
        var dCell = _dCell.AsSpan(0, hb);
        var scratch = _scratch.AsSpan(0, hb);
        dHidden.Clear();
        dCell.Clear();
        for (int t = TimeSteps - 1; t >= 0; t--)
        {
            var gates = _gates.AsSpan(t * g * b, g * b);
            var inputGate = gates[..hb];
            var forgetGate = gates.Slice(hb, hb);
            var cellGate = gates.Slice(2 * hb, hb);
            var outputGate = gates.Slice(3 * hb, hb);
            var tanhCell = _tanhCells.AsSpan(t * hb, hb);
            var previousCell = _cells.AsSpan(t * hb, hb);
            var dGates = _dGates.AsSpan(t * g * b, g * b);

            // dh = dOutput_t + dh from step t + 1
            TensorPrimitives.Add(dHidden, dOutput.Slice(t * hb, hb), dHidden);
            // do: dh ⊙ tanh(c) through σ'
            TensorPrimitives.Multiply(dHidden, tanhCell, scratch);
            Elementwise.SigmoidBackward(scratch, outputGate, dGates.Slice(3 * hb, hb));
            // dc += dh ⊙ o ⊙ (1 − tanh²(c))
            TensorPrimitives.Multiply(dHidden, outputGate, scratch);
            Elementwise.TanhBackward(scratch, tanhCell, scratch);
            TensorPrimitives.Add(dCell, scratch, dCell);
            // di = dc ⊙ g through σ'; df = dc ⊙ c_{t−1} through σ'; dg = dc ⊙ i through tanh'
            TensorPrimitives.Multiply(dCell, cellGate, scratch);
            Elementwise.SigmoidBackward(scratch, inputGate, dGates[..hb]);
            TensorPrimitives.Multiply(dCell, previousCell, scratch);
            Elementwise.SigmoidBackward(scratch, forgetGate, dGates.Slice(hb, hb));
            TensorPrimitives.Multiply(dCell, inputGate, scratch);
            Elementwise.TanhBackward(scratch, cellGate, dGates.Slice(2 * hb, hb));
            // dc_{t−1} = dc ⊙ f
            TensorPrimitives.Multiply(dCell, forgetGate, dCell);

            // [dx_t; dh_{t−1}] = [W_ih | W_hh]ᵀ × dGates_t
            Gemm.PackB(dGates, b, false, g, b, 0, g, _packedStep);
            var dStacked = _dStacked.AsSpan(0, k * b);
            Context.Gemm.Multiply(_packedWeightsT, _packedStep, k, b, g, dStacked, b, accumulate: false);
            if (!dInput.IsEmpty) dStacked[..(i * b)].CopyTo(dInput.Slice(t * i * b, i * b));
            dStacked.Slice(i * b, hb).CopyTo(dHidden);
        }

        var dPre = _dGates.AsSpan(0, TimeSteps * g * b);
        AccumulateWeightGradient(dPre, g, 0, g, input, i, WeightIh, gradients, packA: true);
        AccumulateWeightGradient(dPre, g, 0, g, PreviousStates, h, WeightHh, gradients, packA: false);
        AccumulateBiasGradient(dPre, g, 0, g, BiasIh, BiasHh, gradients);
    }
}
