using SeqForecast.Randomness;

namespace SeqForecast.Engine;

/// <summary>
/// PyTorch-style initial weights: every parameter (recurrent weights and biases, and the linear head, whose fan-in is
/// also H) drawn from U(−1/√H, 1/√H). Every backend uses this, so one seed gives the same starting weights everywhere.
/// </summary>
public static class ParameterInitializer
{
    /// <summary>Fills <paramref name="parameters"/> (in <see cref="ParameterLayout"/> order) from <paramref name="seed"/>.</summary>
    /// <exception cref="ArgumentException">The span's length is not the layout's total.</exception>
    public static void Initialize(NetworkOptions options, ulong seed, Span<float> parameters)
    {
        var layout = ParameterLayout.For(options);
        if (parameters.Length != layout.TotalLength)
            throw new ArgumentException($"parameters has {parameters.Length} floats; the network has {layout.TotalLength}", nameof(parameters));
        var random = new DeterministicRandom(seed);
        float bound = 1f / MathF.Sqrt(options.HiddenSize);
        for (int i = 0; i < parameters.Length; i++) parameters[i] = (random.NextSingle() * 2 - 1) * bound;
    }
}
