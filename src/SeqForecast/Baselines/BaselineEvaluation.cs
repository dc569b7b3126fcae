using SeqForecast.Data;
using SeqForecast.Metrics;

namespace SeqForecast.Baselines;

/// <summary>Scores a baseline on a holdout the same way <c>FittedRnnForecaster.Evaluate</c> scores a network.</summary>
public static class BaselineEvaluation
{
    /// <summary>
    /// Holds out the last <paramref name="holdout"/> points of each series, forecasts them with <paramref name="model"/>
    /// from the rest of <paramref name="column"/> (default: the first column), and scores every metric.
    /// </summary>
    /// <returns>The metric report and the forecasts, one per series.</returns>
    /// <exception cref="ArgumentException">A series leaves too little history for the model, or a metric's rule fails (the message names the series).</exception>
    public static (MetricReport Report, IReadOnlyList<double[]> Forecasts) Evaluate(IBaselineModel model, IReadOnlyList<TimeSeries> series, int holdout, int seasonalPeriod, string? column = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(holdout);
        var forecasts = new List<double[]>();
        var scored = new List<SeriesForecast>();
        foreach (var s in series)
        {
            var values = column is null ? s.Column(0) : s.Column(column);
            if (values.Length <= holdout)
                throw new ArgumentException($"series '{s.Id}' has {values.Length} points; holdout {holdout} leaves no history", nameof(series));
            var history = values[..^holdout];
            double[] forecast;
            try
            {
                forecast = model.Forecast(history, holdout);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"series '{s.Id}': {ErrorMessages.Bare(ex)}", nameof(series), ex);
            }
            forecasts.Add(forecast);
            scored.Add(new SeriesForecast(s.Id, values[^holdout..].ToArray(), forecast, history.ToArray()));
        }
        return (ForecastEvaluation.Evaluate(scored, seasonalPeriod), forecasts);
    }
}
