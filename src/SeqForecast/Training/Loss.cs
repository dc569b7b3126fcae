namespace SeqForecast.Training;

/// <summary>
/// Training loss. Predictions are <c>[batch, K·Q]</c> and targets <c>[batch, K]</c>, where K = horizon × targets and
/// Q is the number of quantile levels (1 for every loss but <see cref="Pinball"/>). Each loss is a mean over all of
/// its terms, as PyTorch's <c>reduction="mean"</c>.
/// </summary>
public enum LossKind
{
    /// <summary>Mean squared error, torch.nn.MSELoss: <c>mean((p − y)²)</c>.</summary>
    Mse,
    /// <summary>Mean absolute error, torch.nn.L1Loss: <c>mean(|p − y|)</c>; the gradient at p = y is 0.</summary>
    Mae,
    /// <summary>Huber, torch.nn.HuberLoss: <c>0.5·d²</c> where |d| ≤ δ, else <c>δ·(|d| − 0.5·δ)</c>, with d = p − y.</summary>
    Huber,
    /// <summary>
    /// Pinball (quantile) loss over the levels τ of <see cref="LossOptions.Quantiles"/>:
    /// <c>mean over (b, k, q) of max(τ_q·u, (τ_q − 1)·u)</c> with <c>u = y_k − p_(k,q)</c>. Prediction element
    /// (k, q) sits at <c>k·Q + q</c>. The gradient at u = 0 is <c>(0.5 − τ)/n</c>, the mean of the two sides.
    /// </summary>
    Pinball,
    /// <summary>
    /// MASE-like scaled absolute error in original units: <c>mean(w_b · s_(b,k) · |p − y|)</c>, where
    /// <c>s</c> is <see cref="Engine.LossContext.Scale"/> (normalised → original units) and <c>w</c> is
    /// <see cref="Engine.LossContext.Weight"/> (one over the series' in-sample naive MAE). Without a context it is MAE.
    /// </summary>
    ScaledMae,
    /// <summary>
    /// sMAPE-like loss in original units, as M4's metric: <c>mean(200·|p' − y'| / (|p'| + |y'|))</c> with
    /// <c>x' = x·s + o</c> (<see cref="Engine.LossContext.Scale"/>, <see cref="Engine.LossContext.Offset"/>); a term
    /// where both are 0 is 0. Without a context, <c>x' = x</c>.
    /// </summary>
    Smape,
}

/// <summary>Loss choice.</summary>
/// <param name="Kind">Which loss.</param>
public sealed record LossOptions(LossKind Kind = LossKind.Mse)
{
    /// <summary>δ of the Huber loss. Range: &gt; 0. Default 1.</summary>
    public double HuberDelta { get; init; } = 1.0;

    /// <summary>
    /// Quantile levels of the <see cref="LossKind.Pinball"/> loss, strictly increasing, each in (0, 1); the network
    /// then has one output per level for every step and target. Empty for every other loss. Default: empty.
    /// </summary>
    public IReadOnlyList<double> Quantiles { get; init; } = [];

    /// <summary>Most quantile levels one loss may have.</summary>
    public const int MaxQuantiles = 99;

    /// <summary>Outputs per forecast value: the number of quantile levels for <see cref="LossKind.Pinball"/>, else 1.</summary>
    public int OutputsPerValue => Kind == LossKind.Pinball ? Quantiles.Count : 1;

    /// <summary>A pinball loss over <paramref name="quantiles"/>.</summary>
    public static LossOptions Pinball(params double[] quantiles) => new(LossKind.Pinball) { Quantiles = quantiles };

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Unknown kind, δ not positive, or a quantile level outside (0, 1).</exception>
    /// <exception cref="ArgumentException">Quantiles missing for the pinball loss, given for another loss, or not strictly increasing.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentOutOfRangeException(nameof(Kind), Kind, $"loss ({Kind}) must be one of {string.Join(", ", Enum.GetNames<LossKind>())}");
        if (!(HuberDelta > 0) || !double.IsFinite(HuberDelta)) throw new ArgumentOutOfRangeException(nameof(HuberDelta), HuberDelta, $"Huber delta ({HuberDelta}) must be finite and > 0");
        ArgumentNullException.ThrowIfNull(Quantiles);
        if (Quantiles.Count > MaxQuantiles)
            throw new ArgumentOutOfRangeException(nameof(Quantiles), Quantiles.Count, $"{Quantiles.Count} quantile levels are given; at most {MaxQuantiles} are supported");
        if (Kind == LossKind.Pinball && Quantiles.Count == 0)
            throw new ArgumentException("the pinball loss needs at least one quantile level in Quantiles, for example 0.1, 0.5, 0.9", nameof(Quantiles));
        if (Kind != LossKind.Pinball && Quantiles.Count > 0)
            throw new ArgumentException($"quantile levels ({string.Join(", ", Quantiles)}) are given for the {Kind} loss; they belong to the Pinball loss only", nameof(Quantiles));
        for (int q = 0; q < Quantiles.Count; q++)
        {
            double tau = Quantiles[q];
            if (!(tau > 0 && tau < 1)) throw new ArgumentOutOfRangeException(nameof(Quantiles), tau, $"quantile level {tau} must be in (0, 1)");
            if (q > 0 && !(tau > Quantiles[q - 1]))
                throw new ArgumentException($"quantile levels must be strictly increasing; {tau} follows {Quantiles[q - 1]}", nameof(Quantiles));
        }
    }

    /// <inheritdoc />
    public bool Equals(LossOptions? other) =>
        other is not null && Kind == other.Kind && HuberDelta.Equals(other.HuberDelta) && Quantiles.SequenceEqual(other.Quantiles);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, HuberDelta, Quantiles.Count);
}

/// <summary>Loss values and gradients. Inputs, then outputs; allocates nothing.</summary>
public static class LossFunctions
{
    /// <summary>
    /// Returns the mean loss of <paramref name="predictions"/> against <paramref name="targets"/> and writes
    /// dLoss/dPrediction into <paramref name="gradient"/> (may be empty to skip it). The sum is accumulated in double.
    /// </summary>
    /// <exception cref="ArgumentException">Lengths differ, are zero, or the gradient span is non-empty and too short.</exception>
    public static double Compute(LossOptions options, ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Span<float> gradient) =>
        Compute(options, predictions, targets, default, gradient);

    /// <summary>
    /// Like <see cref="Compute(LossOptions, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>, with the
    /// per-window <paramref name="context"/> the scaled and original-unit losses use (ignored by the others).
    /// </summary>
    /// <param name="options">The loss.</param>
    /// <param name="predictions">[batch, K·Q].</param>
    /// <param name="targets">[batch, K].</param>
    /// <param name="context">Empty, or Scale and Offset [batch, K] and Weight [batch].</param>
    /// <param name="gradient">[batch, K·Q], or empty.</param>
    /// <exception cref="ArgumentException">A length does not match its shape.</exception>
    public static double Compute(LossOptions options, ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Engine.LossContext context, Span<float> gradient)
    {
        ArgumentNullException.ThrowIfNull(options);
        int q = options.OutputsPerValue;
        if (targets.Length == 0 || predictions.Length != targets.Length * q)
            throw new ArgumentException($"predictions has {predictions.Length} values and targets {targets.Length}; with {q} output(s) per value predictions needs {targets.Length * q}, and both must be non-empty", nameof(targets));
        if (!gradient.IsEmpty && gradient.Length < predictions.Length)
            throw new ArgumentException($"gradient has {gradient.Length} slots; {predictions.Length} are needed", nameof(gradient));
        bool withContext = !context.IsEmpty;
        if (withContext && (context.Scale.Length != targets.Length || context.Offset.Length != targets.Length || context.Weight.Length == 0 || targets.Length % context.Weight.Length != 0))
            throw new ArgumentException($"loss context has scale {context.Scale.Length}, offset {context.Offset.Length} and weight {context.Weight.Length} values; targets has {targets.Length} (scale and offset need one per target value, weight one per window)", nameof(context));
        int perWindow = withContext ? targets.Length / context.Weight.Length : targets.Length;
        return options.Kind switch
        {
            LossKind.Pinball => Pinball(options.Quantiles, predictions, targets, gradient),
            LossKind.ScaledMae => ScaledMae(predictions, targets, context, perWindow, gradient),
            LossKind.Smape => Smape(predictions, targets, context, gradient),
            _ => Pointwise(options, predictions, targets, gradient),
        };
    }

    private static double Pointwise(LossOptions options, ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Span<float> gradient)
    {
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

    private static double Pinball(IReadOnlyList<double> quantiles, ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Span<float> gradient)
    {
        int levels = quantiles.Count, n = predictions.Length;
        float scale = 1f / n;
        bool withGradient = !gradient.IsEmpty;
        double sum = 0;
        for (int k = 0; k < targets.Length; k++)
        {
            float y = targets[k];
            for (int q = 0; q < levels; q++)
            {
                float t = (float)quantiles[q];
                int i = k * levels + q;
                float u = y - predictions[i];
                sum += u >= 0 ? (double)t * u : (double)(t - 1) * u;
                if (withGradient) gradient[i] = (u > 0 ? -t : u < 0 ? 1 - t : 0.5f - t) * scale;
            }
        }
        return sum / n;
    }

    private static double ScaledMae(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Engine.LossContext context, int perWindow, Span<float> gradient)
    {
        int n = predictions.Length;
        float scale = 1f / n;
        bool withContext = !context.IsEmpty, withGradient = !gradient.IsEmpty;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            float w = withContext ? context.Weight[i / perWindow] * context.Scale[i] : 1f;
            float d = predictions[i] - targets[i];
            sum += (double)w * Math.Abs(d);
            if (withGradient) gradient[i] = w * MathF.Sign(d) * scale;
        }
        return sum / n;
    }

    private static double Smape(ReadOnlySpan<float> predictions, ReadOnlySpan<float> targets, Engine.LossContext context, Span<float> gradient)
    {
        int n = predictions.Length;
        bool withContext = !context.IsEmpty, withGradient = !gradient.IsEmpty;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            double s = withContext ? context.Scale[i] : 1, o = withContext ? context.Offset[i] : 0;
            double p = predictions[i] * s + o, y = targets[i] * s + o;
            double diff = p - y, denominator = Math.Abs(p) + Math.Abs(y);
            if (denominator == 0)
            {
                if (withGradient) gradient[i] = 0;
                continue;
            }
            sum += 200 * Math.Abs(diff) / denominator;
            if (withGradient)
            {
                // d/dp [200·|p − y| / (|p| + |y|)] = 200·(sign(p − y)·D − |p − y|·sign(p)) / D², times dp'/dp = s.
                double derivative = 200 * (Math.Sign(diff) * denominator - Math.Abs(diff) * Math.Sign(p)) / (denominator * denominator);
                gradient[i] = (float)(derivative * s / n);
            }
        }
        return sum / n;
    }
}
