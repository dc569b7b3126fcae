namespace SeqForecast.Training;

/// <summary>Training loss. Every loss is the mean over all batch × horizon × target values, as PyTorch's reduction="mean".</summary>
public enum LossKind
{
    /// <summary>Mean squared error, torch.nn.MSELoss: <c>mean((p − y)²)</c>.</summary>
    Mse,
    /// <summary>Mean absolute error, torch.nn.L1Loss: <c>mean(|p − y|)</c>; the gradient at p = y is 0.</summary>
    Mae,
    /// <summary>Huber, torch.nn.HuberLoss: <c>0.5·d²</c> where |d| ≤ δ, else <c>δ·(|d| − 0.5·δ)</c>, with d = p − y.</summary>
    Huber,
}

/// <summary>Loss choice.</summary>
/// <param name="Kind">MSE, MAE or Huber.</param>
public sealed record LossOptions(LossKind Kind = LossKind.Mse)
{
    /// <summary>δ of the Huber loss. Range: &gt; 0. Default 1.</summary>
    public double HuberDelta { get; init; } = 1.0;

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unknown kind or δ not positive.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "loss must be Mse, Mae or Huber");
        if (!(HuberDelta > 0) || !double.IsFinite(HuberDelta)) throw new ArgumentOutOfRangeException(nameof(HuberDelta), HuberDelta, $"Huber delta ({HuberDelta}) must be finite and > 0");
    }
}

/// <summary>Loss values and gradients. Inputs, then outputs; allocates nothing.</summary>
public static class LossFunctions
{
    /// <summary>
    /// Returns the mean loss of <paramref name="predictions"/> against <paramref name="targets"/> and writes
    /// dLoss/dPrediction into <paramref name="gradient"/> (may be empty to skip it). The sum is accumulated in double.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ, are zero, or the gradient span is non-empty and too short.</exception>
    public static double Compute(LossOptions options, ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Span<float> gradient)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (predictions.Length == 0 || predictions.Length != targets.Length)
            throw new ArgumentException($"predictions has {predictions.Length} values and targets {targets.Length}; they must match and be non-empty", nameof(targets));
        if (!gradient.IsEmpty && gradient.Length < predictions.Length)
            throw new ArgumentException($"gradient has {gradient.Length} slots; {predictions.Length} are needed", nameof(gradient));
        int n = predictions.Length;
        float scale = 1f / n;
        double sum = 0;
        float delta = (float)options.HuberDelta;
        bool withGradient = !gradient.IsEmpty;
        for (int i = 0; i < n; i++)
        {
            float d = predictions[i] - targets[i];
            switch (options.Kind)
            {
                case LossKind.Mse:
                    sum += (double)d * d;
                    if (withGradient) gradient[i] = 2 * d * scale;
                    break;
                case LossKind.Mae:
                    sum += Math.Abs(d);
                    if (withGradient) gradient[i] = MathF.Sign(d) * scale;
                    break;
                default:
                    float a = Math.Abs(d);
                    sum += a <= delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
                    if (withGradient) gradient[i] = (a <= delta ? d : delta * MathF.Sign(d)) * scale;
                    break;
            }
        }
        return sum / n;
    }
}
