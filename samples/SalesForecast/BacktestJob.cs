using System.Globalization;
using System.Text;
using SeqForecast.Data;
using SeqForecast.Forecasting;
using SeqForecast.Splits;
using Spectre.Console;

namespace SalesForecast;

/// <summary>
/// Walk-forward backtest of the sample's LSTMs: origins every horizon days over the last <c>folds</c> horizons, the
/// networks refitted every <c>refit-every</c> folds on the data before the origin, and the coverage of the quantile
/// network's bands and of the point network's conformal intervals; writes backtest.csv (every historical forecast) and backtest-summary.csv.
/// </summary>
internal sealed class BacktestJob(IAnsiConsole console)
{
    public int Run(JobSettings settings, int folds, int refitEvery)
    {
        var backend = Backends.Resolve(settings.Device, settings.Precision, train: true);
        var (rank, world) = Backends.Rank(backend);
        // Over a process group every rank runs the same fits; rank 0 alone writes.
        using var output = rank == 0 ? new OutputFolder(settings.Output) : null;
        var series = ForecastJob.Load(settings).Series.Take(settings.MaxSeries).ToArray();
        int horizon = settings.Horizon;
        int initial = series.Min(s => s.Length) - folds * horizon;
        if (initial < settings.Lookback + 2 * horizon)
            throw new ArgumentException($"the shortest series has {series.Min(s => s.Length)} points; {folds} folds of {horizon} days leave {initial} for the first training, and lookback {settings.Lookback} + validation {horizon} + horizon {horizon} need {settings.Lookback + 2 * horizon}");
        // Every series ends its last fold on its last day: origins count back from each series' end.
        var aligned = series.Select(s => s.Slice(s.Length - (initial + folds * horizon), initial + folds * horizon)).ToArray();
        var options = ForecastJob.NetworkOptions(settings, SalesData.Holidays(settings.Holidays), backend);
        var counts = ForecastJob.AreCounts(aligned);
        var network = new RnnForecaster(options with { RoundForecasts = counts });
        var calibrated = ForecastJob.Calibrated(new RnnForecaster(ForecastJob.PointOptions(options) with { RoundForecasts = counts }), horizon);
        var backtest = new BacktestOptions(initial, horizon) { RefitEvery = refitEvery };
        console.MarkupLine(Markup.Escape($"Backtest: {series.Length} series, {folds} folds of {horizon} days, refit every {refitEvery} fold(s)"));
        var conformal = Backtesting.Run(calibrated, aligned, backtest, ForecastJob.SeasonalPeriod);
        var quantile = Backtesting.Run(network, aligned, backtest, ForecastJob.SeasonalPeriod);
        if (output is null)
        {
            console.MarkupLine($"rank {rank} of {world}: ran the backtest's fits with the group; rank 0 writes the results.");
            return 0;
        }

        var table = new Table().Title("Walk-forward backtest: point metrics and interval coverage").AddColumns("intervals", "fits", "MASE", "sMAPE %", "80%", "90%", "95%", "pinball");
        foreach (var (name, result) in new[] { ("LSTM quantile bands", quantile), ("LSTM conformal", conformal) })
        {
            string Coverage(double level) => result.Intervals.FirstOrDefault(i => Math.Abs(i.Coverage - level) < 1e-9) is { } s ? (100 * s.Empirical).ToString("F1", CultureInfo.InvariantCulture) : "–";
            table.AddRow(name, result.Fits.ToString(CultureInfo.InvariantCulture), result.Metrics.Overall.Mase.ToString("F3", CultureInfo.InvariantCulture),
                result.Metrics.Overall.Smape.ToString("F2", CultureInfo.InvariantCulture), Coverage(0.8), Coverage(0.9), Coverage(0.95), result.Pinball.ToString("F3", CultureInfo.InvariantCulture));
        }
        console.Write(table);

        var csv = new StringBuilder("intervals,item,origin,step,actual,forecast,levels,quantiles\n");
        foreach (var (name, result) in new[] { ("quantile", quantile), ("conformal", conformal) })
            foreach (var f in result.Forecasts)
                csv.Append(CultureInfo.InvariantCulture, $"{name},{f.SeriesId},{f.OriginTime:yyyy-MM-dd},{f.Step},{f.Actual:G6},{f.Value:G6},{string.Join(' ', result.QuantileLevels)},{string.Join(' ', f.Quantiles.Select(q => q.ToString("G6", CultureInfo.InvariantCulture)))}\n");
        File.WriteAllText(output.PathOf("backtest.csv"), csv.ToString());
        var summary = new StringBuilder("intervals,fits,mase,smape,coverage80,coverage90,coverage95,pinball\n");
        foreach (var (name, result) in new[] { ("quantile", quantile), ("conformal", conformal) })
        {
            string Coverage(double level) => result.Intervals.FirstOrDefault(i => Math.Abs(i.Coverage - level) < 1e-9)?.Empirical.ToString("G6", CultureInfo.InvariantCulture) ?? "";
            summary.Append(CultureInfo.InvariantCulture, $"{name},{result.Fits},{result.Metrics.Overall.Mase:G6},{result.Metrics.Overall.Smape:G6},{Coverage(0.8)},{Coverage(0.9)},{Coverage(0.95)},{result.Pinball:G6}\n");
        }
        File.WriteAllText(output.PathOf("backtest-summary.csv"), summary.ToString());
        foreach (var file in output.Commit())
            console.MarkupLine($"wrote [green]{Markup.Escape(file)}[/]");
        return 0;
    }
}
