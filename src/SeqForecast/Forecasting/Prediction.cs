namespace SeqForecast.Forecasting;

/// <summary>A forecast of one series, in original units.</summary>
/// <param name="SeriesId">Series identifier.</param>
/// <param name="Timestamps">Timestamps of the forecast steps; empty when the series has none.</param>
/// <param name="Targets">Target column names.</param>
/// <param name="Values">One array per target, <c>Values[target][step]</c>.</param>
public sealed record Prediction(string SeriesId, IReadOnlyList<DateTime> Timestamps, IReadOnlyList<string> Targets, IReadOnlyList<double[]> Values)
{
    /// <summary>The forecast of the first (often only) target.</summary>
    public IReadOnlyList<double> FirstTarget => Values[0];
}
