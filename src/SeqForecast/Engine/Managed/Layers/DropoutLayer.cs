using System.Numerics.Tensors;
using SeqForecast.Randomness;

namespace SeqForecast.Engine.Managed.Layers;

/// <summary>
/// Inverted dropout between stacked layers, as torch.nn.LSTM's <c>dropout</c>: in training each value is zeroed with
/// probability p and the rest scaled by 1/(1 − p), so inference needs no rescaling. The mask comes from the network's
/// seeded stream; PyTorch's stream differs, so masks match in distribution, not value.
/// </summary>
internal sealed class DropoutLayer
{
    private readonly float _probability;
    private readonly float _scale;
    private AlignedBuffer _mask = AlignedBuffer.Empty;     // [T, H, B] 0 or 1/(1 − p)
    private AlignedBuffer _output = AlignedBuffer.Empty;   // [T, H, B]

    public DropoutLayer(double probability)
    {
        _probability = (float)probability;
        _scale = (float)(1.0 / (1.0 - probability));
    }

    /// <summary>The last training output, <c>[T, H, B]</c>.</summary>
    public ReadOnlySpan<float> Output(int length) => _output.AsSpan(0, length);

    /// <summary>Draws a new mask and writes input ⊙ mask.</summary>
    public void Forward(ReadOnlySpan<float> input, DeterministicRandom random)
    {
        Buffers.Ensure(ref _mask, input.Length);
        Buffers.Ensure(ref _output, input.Length);
        var mask = _mask.AsSpan(0, input.Length);
        for (int i = 0; i < mask.Length; i++) mask[i] = random.NextSingle() < _probability ? 0f : _scale;
        TensorPrimitives.Multiply(input, mask, _output.AsSpan(0, input.Length));
    }

    /// <summary>gradient ⊙= mask, in place.</summary>
    public void Backward(Span<float> gradient) => TensorPrimitives.Multiply(gradient, _mask.AsSpan(0, gradient.Length), gradient);
}
