using SeqForecast.Engine.Kernels;

namespace SeqForecast.Engine.Managed.Layers;

/// <summary>
/// The linear head, as torch.nn.Linear: <c>y[B, O] = x[B, H] · Wᵀ + b</c> with W [O, H]. It reads the last hidden
/// state feature-major, <c>[H, B]</c>, and writes outputs batch-major, <c>[B, O]</c>.
/// </summary>
internal sealed class DenseLayer
{
    private readonly ComputeContext _context;
    private readonly int _weight, _bias;
    private AlignedBuffer _packedWeight = AlignedBuffer.Empty;    // packed [O, H]
    private AlignedBuffer _packedWeightT = AlignedBuffer.Empty;   // packed [H, O]
    private AlignedBuffer _packedInput = AlignedBuffer.Empty;     // packed [H, B] (forward) or [B, H] (backward)
    private AlignedBuffer _packedGradient = AlignedBuffer.Empty;  // packed [O, B] (backward, as A)
    private AlignedBuffer _outputT = AlignedBuffer.Empty;         // [O, B]
    private AlignedBuffer _dOutputT = AlignedBuffer.Empty;        // [O, B]
    private int _batch;

    public DenseLayer(ComputeContext context, int inputSize, int outputSize, ParameterLayout layout)
    {
        _context = context;
        InputSize = inputSize;
        OutputSize = outputSize;
        _weight = layout["head.weight"].Offset;
        _bias = layout["head.bias"].Offset;
    }

    public int InputSize { get; }

    public int OutputSize { get; }

    /// <summary>outputs[B, O] = bias + input[H, B]ᵀ · Wᵀ.</summary>
    public void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> parameters, int batch, bool weightsChanged, Span<float> outputs)
    {
        int h = InputSize, o = OutputSize;
        _batch = batch;
        Buffers.Ensure(ref _packedWeight, Gemm.PackedASize(o, h));
        Buffers.Ensure(ref _packedWeightT, Gemm.PackedASize(h, o));
        Buffers.Ensure(ref _packedInput, Math.Max(Gemm.PackedBSize(Math.Max(h, o), batch), Gemm.PackedBSize(batch, h)));
        Buffers.Ensure(ref _packedGradient, Gemm.PackedASize(o, batch));
        Buffers.Ensure(ref _outputT, o * batch);
        Buffers.Ensure(ref _dOutputT, o * batch);
        if (weightsChanged)
        {
            Gemm.PackA(parameters.Slice(_weight, o * h), h, false, o, h, 0, 0, h, _packedWeight);
            Gemm.PackA(parameters.Slice(_weight, o * h), h, true, h, o, 0, 0, o, _packedWeightT);
        }
        var outputT = _outputT.AsSpan(0, o * batch);
        Elementwise.BroadcastRows(parameters.Slice(_bias, o), o, batch, outputT);
        Gemm.PackB(input, batch, false, h, batch, 0, h, _packedInput);
        _context.Gemm.Multiply(_packedWeight, _packedInput, o, batch, h, outputT, batch, accumulate: true);
        Elementwise.Transpose(outputT, o, batch, outputs);
    }

    /// <summary>Adds dW and db to <paramref name="gradients"/> and writes dInput [H, B].</summary>
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> dOutputs, Span<float> gradients, Span<float> dInput)
    {
        int h = InputSize, o = OutputSize, b = _batch;
        var dOutputT = _dOutputT.AsSpan(0, o * b);
        Elementwise.Transpose(dOutputs, b, o, dOutputT);
        Elementwise.AddRowSums(dOutputT, o, b, gradients.Slice(_bias, o));
        // dW[O, H] += dOutputT[O, B] × inputᵀ[B, H]
        Gemm.PackA(dOutputT, b, false, o, b, 0, 0, b, _packedGradient);
        Gemm.PackB(input, b, true, b, h, 0, b, _packedInput);
        _context.Gemm.Multiply(_packedGradient, _packedInput, o, h, b, gradients.Slice(_weight, o * h), h, accumulate: true);
        // dInput[H, B] = Wᵀ[H, O] × dOutputT[O, B]
        Gemm.PackB(dOutputT, b, false, o, b, 0, o, _packedInput);
        _context.Gemm.Multiply(_packedWeightT, _packedInput, h, b, o, dInput, b, accumulate: false);
    }
}
