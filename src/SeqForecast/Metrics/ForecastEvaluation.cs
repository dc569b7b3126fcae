namespace SeqForecast.Metrics;

/// <summary>One series' forecast, the actuals it is scored against, and the history MASE scales by.</summary>
/// <param name="SeriesId">Series identifier.</param>
/// <param name="Actual">Held-out actual values.</param>
/// <param name="Forecast">Forecast values, same length as <paramref name="Actual"/>.</param>
/// <param name="InSample">History before the forecast origin (for MASE).</param>
public sealed record SeriesForecast(string SeriesId, IReadOnlyList<double> Actual, IReadOnlyList<double> Forecast, IReadOnlyList<double> InSample);

/// <summary>All metrics for one series (or their mean over series).</summary>
/// <param name="Mse">Mean squared error.</param>
/// <param name="Mae">Mean absolute error.</param>
/// <param name="Rmse">Root mean squared error.</param>
/// <param name="Mape">MAPE in percent, zero actuals skipped; NaN when every actual is zero.</param>
/// <param name="Smape">M4 sMAPE in percent, [0, 200].</param>
/// <param name="Mase">M4 MASE.</param>
public sealed record MetricValues(double Mse, double Mae, double Rmse, double Mape, double Smape, double Mase);

/// <summary>Per-series metrics and their M4-style aggregate.</summary>
/// <param name="PerSeries">Metrics of each series, in input order.</param>
/// <param name="Overall">Mean of the per-series values (MAPE and MASE: mean over the series where they are defined).</param>
public sealed record MetricReport(IReadOnlyList<(string SeriesId, MetricValues Values)> PerSeries, MetricValues Overall)
{
    /// <summary>Series whose MASE is undefined (a constant or exactly periodic history) and left out of its mean, with the reason.</summary>
    public IReadOnlyList<(string SeriesId, string Problem)> Undefined { get; init; } = [];
}

/// <summary>Scores forecasts of many series and aggregates them as the M4 competition does: the mean of per-series values.</summary>
public static class ForecastEvaluation
{
    /// <summary>Computes every metric for every series and their means.</summary>
    /// <param name="forecasts">One entry per series.</param>
    /// <param name="seasonalPeriod">Seasonal period m for MASE (1 for non-seasonal, 7 for daily data with a weekly cycle).</param>
    /// <exception cref="ArgumentException">No forecasts, or a series fails a metric's rule (the message names the series).</exception>
    public static MetricReport Evaluate(IReadOnlyList<SeriesForecast> forecasts, int seasonalPeriod)
    {
        ArgumentNullException.ThrowIfNull(forecasts);
        if (forecasts.Count == 0)
            throw new ArgumentException("forecasts is empty; evaluation needs at least one series", nameof(forecasts));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(seasonalPeriod);
        var perSeries = new List<(string, MetricValues)>();
        var undefined = new List<(string, string)>();
        foreach (var f in forecasts)
        {
            try
            {
                var actual = f.Actual.ToArray();
                var forecast = f.Forecast.ToArray();
                double mse = ForecastMetrics.Mse(actual, forecast);
                double mase;
                try
                {
                    mase = ForecastMetrics.Mase(actual, forecast, f.InSample.ToArray(), seasonalPeriod);
                }
                catch (ArgumentException ex) when (ex.ParamName == "inSample")
                {
                    mase = double.NaN;
                    undefined.Add((f.SeriesId, SeqForecast.Data.ErrorMessages.Bare(ex)));
                }
                perSeries.Add((f.SeriesId, new MetricValues(
                    mse,
                    ForecastMetrics.Mae(actual, forecast),
                    Math.Sqrt(mse),
                    ForecastMetrics.Mape(actual, forecast, ZeroActualPolicy.Skip),
                    ForecastMetrics.Smape(actual, forecast),
                    mase)));
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"series '{f.SeriesId}': {SeqForecast.Data.ErrorMessages.Bare(ex)}", nameof(forecasts), ex);
            }
        }
        var values = perSeries.Select(p => p.Item2).ToArray();
        var mapes = values.Select(v => v.Mape).Where(double.IsFinite).ToArray();
        var mases = values.Select(v => v.Mase).Where(double.IsFinite).ToArray();
        var overall = new MetricValues(
            values.Average(v => v.Mse), values.Average(v => v.Mae), values.Average(v => v.Rmse),
            mapes.Length == 0 ? double.NaN : mapes.Average(), values.Average(v => v.Smape), mases.Length == 0 ? double.NaN : mases.Average());
        return new MetricReport(perSeries, overall) { Undefined = undefined };
    }
}
