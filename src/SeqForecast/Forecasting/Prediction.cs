namespace SeqForecast.Forecasting;

/// <summary>A forecast of one series, in original units.</summary>
/// <param name="SeriesId">Series identifier.</param>
/// <param name="Timestamps">Timestamps of the forecast steps; empty when the series has none.</param>
/// <param name="Targets">Target column names.</param>
/// <param name="Values">The point forecast, one array per target: <c>Values[target][step]</c> (the median for a quantile forecaster).</param>
public sealed record Prediction(string SeriesId, IReadOnlyList<DateTime> Timestamps, IReadOnlyList<string> Targets, IReadOnlyList<double[]> Values)
{
    /// <summary>Quantile levels of <see cref="Quantiles"/>, increasing; empty for a point forecast.</summary>
    public IReadOnlyList<double> QuantileLevels { get; init; } = [];

    /// <summary>
    /// Quantile forecasts: <c>Quantiles[target][level][step]</c>, never crossing (each step's values increase with the
    /// level); empty for a point forecast.
    /// </summary>
    public IReadOnlyList<double[][]> Quantiles { get; init; } = [];

    /// <summary>The forecast of the first (often only) target.</summary>
    public IReadOnlyList<double> FirstTarget => Values[0];

    /// <summary>Number of forecast steps.</summary>
    public int Horizon => Values.Count == 0 ? 0 : Values[0].Length;

    /// <summary>The forecast of quantile level <paramref name="level"/> for <paramref name="target"/> (index).</summary>
    /// <exception cref="ArgumentException">The forecast has no such level.</exception>
    public double[] Quantile(double level, int target = 0)
    {
        for (int q = 0; q < QuantileLevels.Count; q++)
            if (Math.Abs(QuantileLevels[q] - level) < 1e-9) return Quantiles[target][q];
        throw new ArgumentException($"the forecast of series '{SeriesId}' has no quantile level {level}; it has: {(QuantileLevels.Count == 0 ? "none (a point forecast)" : string.Join(", ", QuantileLevels))}", nameof(level));
    }

    /// <summary>
    /// The central interval of coverage <paramref name="coverage"/> (0.9 for a 90% interval): the quantiles
    /// (1 − coverage)/2 and (1 + coverage)/2.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="coverage"/> is not in (0, 1).</exception>
    /// <exception cref="ArgumentException">The forecast lacks one of the two quantile levels.</exception>
    public (double[] Lower, double[] Upper) Interval(double coverage, int target = 0)
    {
        if (!(coverage > 0 && coverage < 1)) throw new ArgumentOutOfRangeException(nameof(coverage), coverage, $"coverage ({coverage}) must be in (0, 1)");
        return (Quantile(Math.Round((1 - coverage) / 2, 12), target), Quantile(Math.Round((1 + coverage) / 2, 12), target));
    }
}
