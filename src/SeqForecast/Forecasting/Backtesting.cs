using SeqForecast.Data;
using SeqForecast.Metrics;
using SeqForecast.Splits;

namespace SeqForecast.Forecasting;

/// <summary>One historical forecast of a backtest: the value forecast for one step from one origin, and what happened.</summary>
/// <param name="SeriesId">Series.</param>
/// <param name="Origin">Index of the first forecast point in the series.</param>
/// <param name="OriginTime">Timestamp of that point, or null without timestamps.</param>
/// <param name="Step">Step ahead, from 1.</param>
/// <param name="Actual">The actual value.</param>
/// <param name="Value">The point forecast.</param>
/// <param name="Quantiles">Quantile forecasts at <see cref="BacktestResult.QuantileLevels"/>; empty for point forecasts.</param>
public sealed record BacktestForecast(string SeriesId, int Origin, DateTime? OriginTime, int Step, double Actual, double Value, IReadOnlyList<double> Quantiles);

/// <summary>Interval metrics of one central interval, aggregated like the point metrics (mean over series and folds).</summary>
/// <param name="Coverage">Nominal coverage (0.9 for the 90% interval).</param>
/// <param name="Empirical">Share of actuals inside the interval, over every forecast step.</param>
/// <param name="MeanWidth">Mean width in original units.</param>
/// <param name="Msis">M4's mean scaled interval score (NaN where the in-sample scale is undefined for every entry).</param>
public sealed record IntervalScore(double Coverage, double Empirical, double MeanWidth, double Msis);

/// <summary>What a backtest returns: every historical forecast, the point metrics, the interval metrics, and how many fits ran.</summary>
/// <param name="Forecasts">Every (series, origin, step) forecast.</param>
/// <param name="Metrics">Point metrics of each (series, fold), entries named "id@origin", aggregated M4-style.</param>
/// <param name="Fits">Times the forecaster was fitted.</param>
/// <param name="QuantileLevels">Quantile levels of the forecasts; empty for point forecasts.</param>
/// <param name="Intervals">Metrics of each central interval the quantile levels hold (for example 0.05/0.95 → 90%).</param>
/// <param name="Pinball">Mean pinball loss over the quantile levels, or NaN without quantiles.</param>
public sealed record BacktestResult(IReadOnlyList<BacktestForecast> Forecasts, MetricReport Metrics, int Fits, IReadOnlyList<double> QuantileLevels, IReadOnlyList<IntervalScore> Intervals, double Pinball);

/// <summary>Evaluation and walk-forward backtests for any forecaster: the one shape every forecaster shares.</summary>
public static class Backtesting
{
    /// <summary>
    /// Holds out the last <paramref name="holdout"/> points of each series, forecasts them from the rest, and scores the
    /// first target with every metric (MASE scaled by the in-sample seasonal naive of period <paramref name="seasonalPeriod"/>).
    /// Known-future covariates of the held-out points are passed to the forecaster.
    /// </summary>
    public static (MetricReport Report, IReadOnlyList<Prediction> Predictions) Evaluate(this IFittedForecaster forecaster, IReadOnlyList<TimeSeries> series, int holdout, int seasonalPeriod)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(holdout);
        var histories = series.Select(s => s.Length > holdout ? s.Slice(0, s.Length - holdout)
            : throw new ArgumentException($"series '{s.Id}' has {s.Length} points; holdout {holdout} leaves no history", nameof(series))).ToArray();
        var future = series.Select(s => s.Slice(s.Length - holdout, holdout)).ToArray();
        var predictions = forecaster.Predict(histories, new PredictOptions { Horizon = holdout, Future = future });
        var scored = series.Select((s, i) => new SeriesForecast(s.Id,
            s.Column(predictions[i].Targets[0])[^holdout..].ToArray(), predictions[i].Values[0], histories[i].Column(predictions[i].Targets[0]).ToArray())).ToArray();
        return (ForecastEvaluation.Evaluate(scored, seasonalPeriod), predictions);
    }

    /// <summary>
    /// Walk-forward backtest of an already fitted forecaster, without retraining: at each fold origin, forecast the
    /// fold's horizon from the history before it.
    /// </summary>
    public static BacktestResult Backtest(this IFittedForecaster forecaster, IReadOnlyList<TimeSeries> series, BacktestOptions options, int seasonalPeriod)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        return Run(series, options, seasonalPeriod, _ => forecaster);
    }

    /// <summary>
    /// Walk-forward backtest that (re)fits <paramref name="forecaster"/>: fold by fold, on the data before each fold's
    /// origin (every <see cref="BacktestOptions.RefitEvery"/> folds; 0: once, on the first fold's data), returning every
    /// historical forecast with the point and interval metrics. A global model is fitted on all series that have the
    /// fold; series with fewer folds drop out of the later ones.
    /// </summary>
    /// <exception cref="ArgumentException">A series is too short for one fold.</exception>
    public static BacktestResult Run(IForecaster forecaster, IReadOnlyList<TimeSeries> series, BacktestOptions options, int seasonalPeriod, FitOptions? fitOptions = null)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var folds = FoldsOf(series, options);
        IFittedForecaster? current = null;
        int fits = 0;
        return Run(series, options, seasonalPeriod, k =>
        {
            if (current is null || (options.RefitEvery > 0 && k % options.RefitEvery == 0))
            {
                current?.Dispose();
                var training = series.Select((s, i) => (s, i)).Where(p => k < folds[p.i].Count)
                    .Select(p => folds[p.i][k].Train(p.s)).ToArray();
                current = forecaster.Fit(training, fitOptions);
                fits++;
            }
            return current;
        }, () => fits, () => current?.Dispose());
    }

    private static IReadOnlyList<BacktestFold>[] FoldsOf(IReadOnlyList<TimeSeries> series, BacktestOptions options)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("series is empty; a backtest needs at least one series", nameof(series));
        return series.Select(s =>
        {
            try
            {
                return WalkForward.Folds(s.Length, options);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"series '{s.Id}': {ErrorMessages.Bare(ex)}", nameof(series), ex);
            }
        }).ToArray();
    }

    private static BacktestResult Run(IReadOnlyList<TimeSeries> series, BacktestOptions options, int seasonalPeriod, Func<int, IFittedForecaster> modelForFold, Func<int>? fitCount = null, Action? cleanup = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var folds = FoldsOf(series, options);
        int foldCount = folds.Max(f => f.Count);
        var forecasts = new List<BacktestForecast>();
        var scored = new List<SeriesForecast>();
        var entries = new List<(double[] Actual, double[] InSample, double[][] Quantiles)>();
        IReadOnlyList<double> levels = [];
        try
        {
            for (int k = 0; k < foldCount; k++)
            {
                var members = Enumerable.Range(0, series.Count).Where(i => k < folds[i].Count).ToArray();
                var model = modelForFold(k);
                levels = model.QuantileLevels;
                var histories = members.Select(i => series[i].Slice(0, folds[i][k].Origin)).ToArray();
                var future = members.Select(i => folds[i][k].Test(series[i])).ToArray();
                var predictions = model.Predict(histories, new PredictOptions { Horizon = options.Horizon, Future = future });
                for (int m = 0; m < members.Length; m++)
                {
                    var s = series[members[m]];
                    var fold = folds[members[m]][k];
                    var p = predictions[m];
                    var actual = fold.Test(s).Column(p.Targets[0]).ToArray();
                    var quantiles = p.Quantiles.Count > 0 ? p.Quantiles[0] : [];
                    DateTime? originTime = s.HasTimestamps ? s.Timestamps[fold.Origin] : null;
                    for (int h = 0; h < actual.Length; h++)
                        forecasts.Add(new BacktestForecast(s.Id, fold.Origin, originTime, h + 1, actual[h], p.Values[0][h], quantiles.Select(q => q[h]).ToArray()));
                    var inSample = histories[m].Column(p.Targets[0]).ToArray();
                    scored.Add(new SeriesForecast($"{s.Id}@{fold.Origin}", actual, p.Values[0], inSample));
                    entries.Add((actual, inSample, quantiles));
                }
            }
        }
        finally
        {
            cleanup?.Invoke();
        }
        var (intervals, pinball) = ScoreIntervals(levels, entries, seasonalPeriod);
        return new BacktestResult(forecasts, ForecastEvaluation.Evaluate(scored, seasonalPeriod), fitCount?.Invoke() ?? 0, levels, intervals, pinball);
    }

    /// <summary>
    /// Interval metrics of quantile forecasts: for each pair of levels symmetric about 0.5 (0.05 and 0.95 → 90%),
    /// the empirical coverage over every step, and the mean width and MSIS per entry averaged over entries; and the
    /// mean pinball loss over every level.
    /// </summary>
    public static (IReadOnlyList<IntervalScore> Intervals, double Pinball) ScoreIntervals(IReadOnlyList<double> levels, IReadOnlyList<(double[] Actual, double[] InSample, double[][] Quantiles)> entries, int seasonalPeriod)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentNullException.ThrowIfNull(entries);
        if (levels.Count == 0 || entries.Count == 0) return ([], double.NaN);
        var scores = new List<IntervalScore>();
        for (int lo = 0; lo < levels.Count; lo++)
        {
            int hi = -1;
            for (int q = levels.Count - 1; q > lo; q--) if (Math.Abs(levels[q] - (1 - levels[lo])) < 1e-9) hi = q;
            if (hi < 0 || levels[lo] >= 0.5) continue;
            double coverage = 1 - 2 * levels[lo];
            long inside = 0, total = 0;
            double width = 0, msis = 0;
            int msisCount = 0;
            foreach (var (actual, inSample, quantiles) in entries)
            {
                var lower = quantiles[lo];
                var upper = quantiles[hi];
                for (int h = 0; h < actual.Length; h++) if (actual[h] >= lower[h] && actual[h] <= upper[h]) inside++;
                total += actual.Length;
                width += IntervalMetrics.MeanWidth(lower, upper);
                try
                {
                    msis += IntervalMetrics.Msis(actual, lower, upper, inSample, seasonalPeriod, 1 - coverage);
                    msisCount++;
                }
                catch (ArgumentException)
                {
                    // The in-sample scale is undefined for this entry (constant history): MSIS leaves it out, as MASE does.
                }
            }
            scores.Add(new IntervalScore(Math.Round(coverage, 12), (double)inside / total, width / entries.Count, msisCount == 0 ? double.NaN : msis / msisCount));
        }
        double pinball = 0;
        foreach (var (actual, _, quantiles) in entries)
        {
            double sum = 0;
            for (int q = 0; q < levels.Count; q++) sum += IntervalMetrics.Pinball(actual, quantiles[q], levels[q]);
            pinball += sum / levels.Count;
        }
        return (scores, pinball / entries.Count);
    }

    /// <summary>Interval metrics of predictions against the actuals that followed them (the held-out points of each series).</summary>
    public static (IReadOnlyList<IntervalScore> Intervals, double Pinball) ScoreIntervals(IReadOnlyList<Prediction> predictions, IReadOnlyList<TimeSeries> series, int holdout, int seasonalPeriod)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(series);
        if (predictions.Count != series.Count) throw new ArgumentException($"{predictions.Count} predictions for {series.Count} series; they must match", nameof(predictions));
        var entries = predictions.Select((p, i) => (
            series[i].Column(p.Targets[0])[^holdout..].ToArray(),
            series[i].Column(p.Targets[0])[..^holdout].ToArray(),
            p.Quantiles.Count > 0 ? p.Quantiles[0] : Array.Empty<double[]>())).ToArray();
        return ScoreIntervals(predictions.Count == 0 ? [] : predictions[0].QuantileLevels, entries, seasonalPeriod);
    }
}
