using System.Numerics.Tensors;
using SeqForecast.Engine.Kernels;

namespace SeqForecast.Engine.Managed.Layers;

/// <summary>
/// One GRU layer with PyTorch's equations and gate order (r, z, n):
/// <code>
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)    z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h' = (1 − z) ⊙ n + z ⊙ h
/// </code>
/// Because r multiplies only the hidden part of n, each step runs two GEMMs: x-projection [3H, B] = b_ih + W_ih × x_t
/// and h-projection [3H, B] = b_hh + W_hh × h_{t−1}.
/// </summary>
internal sealed class GruLayer : RecurrentLayer
{
    private float[] _packedIh = [];        // packed [3H, in]
    private float[] _packedHh = [];        // packed [3H, H]
    private float[] _packedIhT = [];       // packed [in, 3H]
    private float[] _packedHhT = [];       // packed [H, 3H]
    private float[] _biasIh = [];          // [3H, B]
    private float[] _biasHh = [];          // [3H, B]
    private float[] _packedStep = [];      // packed [max(in, H, 3H), B]
    private float[] _gates = [];           // [T, 3H, B] activated r, z, n
    private float[] _hiddenNew = [];       // [T, H, B] W_hn h_{t−1} + b_hn
    private float[] _hiddenProjection = [];// [3H, B] scratch
    private float[] _dInputPre = [];       // [T, 3H, B] gradients of the x-projection: dr, dz, dn pre-activations
    private float[] _dHiddenPre = [];      // [T, 3H, B] gradients of the h-projection: dr, dz, r ⊙ dn
    private float[] _dHidden = [];         // [H, B]
    private float[] _scratch = [];         // [H, B]
    private float[] _vectorIh = [];        // W_ihᵀ packed as B [in, 3H], for batches of at most Gemm.NarrowColumns
    private float[] _vectorHh = [];        // W_hhᵀ packed as B [H, 3H]
    private float[] _column = [];          // [max(in, H)]
    private bool _vectorStale = true;

    public GruLayer(ComputeContext context, int layerIndex, int inputSize, int hiddenSize, ParameterLayout layout)
        : base(context, layerIndex, inputSize, hiddenSize, 3, layout)
    {
    }

    protected override void EnsureCapacity(int timeSteps, int batch)
    {
        int h = HiddenSize, g = GateRows, i = InputSize;
        Buffers.Ensure(ref _packedIh, Gemm.PackedASize(g, i));
        Buffers.Ensure(ref _packedHh, Gemm.PackedASize(g, h));
        Buffers.Ensure(ref _packedIhT, Gemm.PackedASize(i, g));
        Buffers.Ensure(ref _packedHhT, Gemm.PackedASize(h, g));
        Buffers.Ensure(ref _biasIh, g * batch);
        Buffers.Ensure(ref _biasHh, g * batch);
        Buffers.Ensure(ref _packedStep, Gemm.PackedBSize(Math.Max(g, Math.Max(i, h)), batch));
        Buffers.Ensure(ref _gates, (long)timeSteps * g * batch);
        Buffers.Ensure(ref _hiddenNew, (long)timeSteps * h * batch);
        Buffers.Ensure(ref _hiddenProjection, g * batch);
        Buffers.Ensure(ref _dInputPre, (long)timeSteps * g * batch);
        Buffers.Ensure(ref _dHiddenPre, (long)timeSteps * g * batch);
        Buffers.Ensure(ref _dHidden, h * batch);
        Buffers.Ensure(ref _scratch, h * batch);
    }

    protected override void PackWeights(ReadOnlySpan<float> parameters)
    {
        int g = GateRows, i = InputSize, h = HiddenSize;
        Gemm.PackA(parameters.Slice(WeightIh, g * i), i, false, g, i, 0, 0, i, _packedIh);
        Gemm.PackA(parameters.Slice(WeightHh, g * h), h, false, g, h, 0, 0, h, _packedHh);
        Gemm.PackA(parameters.Slice(WeightIh, g * i), i, true, i, g, 0, 0, g, _packedIhT);
        Gemm.PackA(parameters.Slice(WeightHh, g * h), h, true, h, g, 0, 0, g, _packedHhT);
        _vectorStale = true;
    }

    protected override void ForwardSteps(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters)
    {
        int b = Batch, h = HiddenSize, g = GateRows, i = InputSize;
        int hb = h * b;
        Elementwise.BroadcastRows(parameters.Slice(BiasIh, g), g, b, _biasIh);
        Elementwise.BroadcastRows(parameters.Slice(BiasHh, g), g, b, _biasHh);
        var hiddenProjection = _hiddenProjection.AsSpan(0, g * b);
        bool narrow = b <= Gemm.NarrowColumns;
        if (narrow && _vectorStale)
        {
            Buffers.Ensure(ref _vectorIh, Gemm.PackedBSize(i, g));
            Buffers.Ensure(ref _vectorHh, Gemm.PackedBSize(h, g));
            Buffers.Ensure(ref _column, Math.Max(i, h));
            Gemm.PackB(parameters.Slice(WeightIh, g * i), i, true, i, g, 0, i, _vectorIh);
            Gemm.PackB(parameters.Slice(WeightHh, g * h), h, true, h, g, 0, h, _vectorHh);
            _vectorStale = false;
        }
        for (int t = 0; t < TimeSteps; t++)
        {
            var gates = _gates.AsSpan(t * g * b, g * b);
            var previous = Hidden.AsSpan(t * hb, hb);
            _biasIh.AsSpan(0, g * b).CopyTo(gates);
            _biasHh.AsSpan(0, g * b).CopyTo(hiddenProjection);
            if (narrow)
            {
                ProjectColumns(_vectorIh, input.Slice(t * i * b, i * b), i, [], 0, g, gates, _column);
                ProjectColumns(_vectorHh, previous, h, [], 0, g, hiddenProjection, _column);
            }
            else
            {
                Gemm.PackB(input.Slice(t * i * b, i * b), b, false, i, b, 0, i, _packedStep);
                Context.Gemm.Multiply(_packedIh, _packedStep, g, b, i, gates, b, accumulate: true);
                Gemm.PackB(previous, b, false, h, b, 0, h, _packedStep);
                Context.Gemm.Multiply(_packedHh, _packedStep, g, b, h, hiddenProjection, b, accumulate: true);
            }

            Activations.GruCell(gates, hiddenProjection, hb, previous, _hiddenNew.AsSpan(t * hb, hb), Hidden.AsSpan((t + 1) * hb, hb));
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutput, Span<float> dInput, ReadOnlySpan<float> parameters, Span<float> gradients)
    {
        int b = Batch, h = HiddenSize, g = GateRows, i = InputSize;
        int hb = h * b;
        var dHidden = _dHidden.AsSpan(0, hb);
        var scratch = _scratch.AsSpan(0, hb);
        dHidden.Clear();
        for (int t = TimeSteps - 1; t >= 0; t--)
        {
            var gates = _gates.AsSpan(t * g * b, g * b);
            var reset = gates[..hb];
            var update = gates.Slice(hb, hb);
            var candidate = gates.Slice(2 * hb, hb);
            var previous = Hidden.AsSpan(t * hb, hb);
            var dInputPre = _dInputPre.AsSpan(t * g * b, g * b);
            var dHiddenPre = _dHiddenPre.AsSpan(t * g * b, g * b);

            TensorPrimitives.Add(dHidden, dOutput.Slice(t * hb, hb), dHidden);
            // dz = dh ⊙ (h_{t−1} − n) through σ'
            TensorPrimitives.Subtract(previous, candidate, scratch);
            TensorPrimitives.Multiply(scratch, dHidden, scratch);
            Elementwise.SigmoidBackward(scratch, update, dInputPre.Slice(hb, hb));
            // dn = dh ⊙ (1 − z) = dh − dh ⊙ z, through tanh'
            TensorPrimitives.Multiply(dHidden, update, scratch);
            TensorPrimitives.Subtract(dHidden, scratch, dInputPre.Slice(2 * hb, hb));
            Elementwise.TanhBackward(dInputPre.Slice(2 * hb, hb), candidate, dInputPre.Slice(2 * hb, hb));
            // the direct path: dh_{t−1} = dh ⊙ z (+ the recurrent GEMM below)
            scratch.CopyTo(dHidden);
            // dr = dn_pre ⊙ (W_hn h + b_hn) through σ'
            var dCandidate = dInputPre.Slice(2 * hb, hb);
            TensorPrimitives.Multiply(dCandidate, _hiddenNew.AsSpan(t * hb, hb), scratch);
            Elementwise.SigmoidBackward(scratch, reset, dInputPre[..hb]);
            // h-projection gradients: dr, dz shared; the n part is r ⊙ dn_pre
            dInputPre[..(2 * hb)].CopyTo(dHiddenPre);
            TensorPrimitives.Multiply(dCandidate, reset, dHiddenPre.Slice(2 * hb, hb));

            Gemm.PackB(dHiddenPre, b, false, g, b, 0, g, _packedStep);
            Context.Gemm.Multiply(_packedHhT, _packedStep, h, b, g, dHidden, b, accumulate: true);
            if (!dInput.IsEmpty)
            {
                Gemm.PackB(dInputPre, b, false, g, b, 0, g, _packedStep);
                Context.Gemm.Multiply(_packedIhT, _packedStep, i, b, g, dInput.Slice(t * i * b, i * b), b, accumulate: false);
            }
        }

        int length = TimeSteps * g * b;
        AccumulateWeightGradient(_dInputPre.AsSpan(0, length), g, 0, g, input, i, WeightIh, gradients, packA: true);
        AccumulateBiasGradient(_dInputPre.AsSpan(0, length), g, 0, g, BiasIh, -1, gradients);
        AccumulateWeightGradient(_dHiddenPre.AsSpan(0, length), g, 0, g, PreviousStates, h, WeightHh, gradients, packA: true);
        AccumulateBiasGradient(_dHiddenPre.AsSpan(0, length), g, 0, g, BiasHh, -1, gradients);
    }
}
