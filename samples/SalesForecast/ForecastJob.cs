using System.Globalization;
using System.Text;
using SeqForecast.Baselines;
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Forecasting;
using SeqForecast.Metrics;
using SeqForecast.Scaling;
using SeqForecast.Splits;
using SeqForecast.Training;
using SeqForecast.Windows;
using Spectre.Console;

namespace SalesForecast;

/// <summary>Settings of the main job.</summary>
internal sealed record JobSettings
{
    public string? Input { get; init; }
    public string? Sqlite { get; init; }
    public string Query { get; init; } = "SELECT id, date, value FROM sales";
    public string Model { get; init; } = "lstm";
    public int Horizon { get; init; } = 28;
    public int Lookback { get; init; } = 56;
    public int Epochs { get; init; } = 40;
    public ulong Seed { get; init; } = 1;
    public string Output { get; init; } = "out";
    public string Device { get; init; } = "cpu";
    public int MaxSeries { get; init; } = int.MaxValue;
}

/// <summary>One model's forecasts of the holdout and its scores.</summary>
internal sealed record ModelResult(string Name, MetricReport Report, IReadOnlyList<double[]> Holdout);

/// <summary>
/// The default command: hold out the last <c>horizon</c> days of every product, fit a global network on the rest,
/// compare it with AR(p), seasonal naive (weekly) and naive on the holdout, print the tables and write forecasts.csv,
/// metrics.csv, forecast.svg and the model file.
/// </summary>
internal sealed class ForecastJob(IAnsiConsole console)
{
    public const int SeasonalPeriod = 7;

    public int Run(JobSettings settings)
    {
        var backend = Backends.Resolve(settings.Device);
        var loaded = Load(settings);
        var series = loaded.Series.Take(settings.MaxSeries).ToArray();
        console.MarkupLine($"Loaded [bold]{series.Length}[/] series ({Markup.Escape(SourceName(settings))}); {loaded.Report.GapsFilled:N0} missing days filled with 0, {loaded.Report.DuplicatesMerged:N0} duplicate rows summed.");

        int horizon = settings.Horizon;
        var results = new List<ModelResult>();
        FittedRnnForecaster? network = null;
        var neural = settings.Model switch
        {
            "lstm" => new[] { CellType.Lstm, CellType.Gru },
            "gru" => [CellType.Gru],
            _ => [],
        };
        try
        {
            foreach (var cell in neural)
            {
                var fitted = Fit(series, settings, cell, backend);
                var (report, predictions) = fitted.Evaluate(series, horizon, SeasonalPeriod);
                results.Add(new ModelResult(cell.ToString().ToUpperInvariant(), report, predictions.Select(p => p.Values[0]).ToArray()));
                if (network is null) network = fitted;
                else fitted.Dispose();
            }
            var arOrder = Math.Min(28, Math.Max(1, (series.Min(s => s.Length) - horizon - 2) / 2 - 1));
            foreach (var (name, model) in new (string, IBaselineModel)[]
            {
                ("AR", new AutoRegressiveModel(new AutoRegressiveOptions(arOrder) { Criterion = InformationCriterion.Aic })),
                ("Seasonal naive", new SeasonalNaiveModel(SeasonalPeriod)),
                ("Naive", new NaiveModel()),
            })
            {
                var (report, forecasts) = BaselineEvaluation.Evaluate(model, series, horizon, SeasonalPeriod);
                results.Add(new ModelResult(name, report, forecasts));
            }

            var primary = settings.Model switch { "ar" => results.First(r => r.Name == "AR"), "naive" => results.First(r => r.Name == "Naive"), _ => results[0] };
            PrintTables(series, results, primary);

            using var output = new OutputFolder(settings.Output);
            WriteForecasts(output.PathOf("forecasts.csv"), series, results, network, horizon);
            WriteMetrics(output.PathOf("metrics.csv"), results);
            File.WriteAllText(output.PathOf("forecast.svg"), Chart(series, results, primary, horizon));
            network?.Save(output.PathOf($"{settings.Model}.safetensors"));
            foreach (var file in output.Commit())
                console.MarkupLine($"wrote [green]{Markup.Escape(file)}[/]");
            return 0;
        }
        finally
        {
            network?.Dispose();
        }
    }

    internal static SeriesLoadResult Load(JobSettings settings) => settings.Sqlite is not null
        ? SalesData.ReadSqlite(settings.Sqlite, settings.Query)
        : SalesData.ReadCsv(settings.Input ?? SalesData.BundledPath);

    private static string SourceName(JobSettings settings) => settings.Sqlite is not null ? $"SQLite {settings.Sqlite}" : settings.Input ?? "bundled UCI Online Retail, top 30 products";

    private FittedRnnForecaster Fit(IReadOnlyList<TimeSeries> series, JobSettings settings, CellType cell, IBackend backend)
    {
        var window = new WindowSpec(settings.Lookback, settings.Horizon) { Calendar = CalendarFeatures.DayOfWeek };
        var options = new RnnForecasterOptions(window)
        {
            Cell = cell,
            HiddenSize = 64,
            Layers = 2,
            Dropout = 0.1,
            NonNegative = true,
            Backend = backend,
            Training = new TrainerOptions
            {
                Epochs = settings.Epochs,
                BatchSize = 64,
                Seed = settings.Seed,
                Loss = new LossOptions(LossKind.Huber),
                Optimizer = new AdamOptions { LearningRate = 2e-3 },
                GradientClipNorm = 1.0,
                EarlyStopping = new EarlyStoppingOptions(Patience: 8),
                Schedule = new ReduceOnPlateauSchedule { Patience = 3, Factor = 0.5 },
            },
        };
        // Test part: the last horizon days; validation: the horizon before it (early stopping); both unseen in training.
        var split = ChronologicalSplit.Split(series, validationLength: settings.Horizon, testLength: settings.Horizon, contextLength: settings.Lookback);
        FittedRnnForecaster? fitted = null;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask($"{cell} training", maxValue: settings.Epochs);
                var progress = new InlineProgress<EpochProgress>(p =>
                {
                    task.Value = p.Epoch;
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"{cell} epoch {p.Epoch}/{p.Epochs} loss {p.TrainLoss:F4} val {p.ValidationLoss:F4} {p.SamplesPerSecond:N0} samples/s ETA {p.EstimatedRemaining:mm\\:ss}");
                });
                fitted = new RnnForecaster(options).Fit(split, progress);
                task.Value = task.MaxValue;
            });
        var result = fitted!.Training!;
        console.MarkupLine($"{cell}: best epoch {result.BestEpoch} of {result.History.Count}{(result.StoppedEarly ? " (early stop)" : "")}, validation loss {result.BestLoss:F4}");
        return fitted;
    }

    private void PrintTables(IReadOnlyList<TimeSeries> series, IReadOnlyList<ModelResult> results, ModelResult primary)
    {
        var overall = new Table().Title($"Holdout: last {results[0].Holdout[0].Length} days, mean over {series.Count} products (M4 style)")
            .AddColumns("model", "MAE", "RMSE", "sMAPE %", "MASE");
        foreach (var r in results)
        {
            var m = r.Report.Overall;
            overall.AddRow(r == primary ? $"[bold]{Markup.Escape(r.Name)}[/]" : Markup.Escape(r.Name), F(m.Mae), F(m.Rmse), F(m.Smape), F(m.Mase, "F3"));
        }
        console.Write(overall);

        var perProduct = new Table().Title("MASE per product (lower is better)").AddColumn("product");
        foreach (var r in results) perProduct.AddColumn(r.Name);
        for (int s = 0; s < series.Count; s++)
        {
            var cells = results.Select(r => r.Report.PerSeries[s].Values.Mase).ToArray();
            double best = cells.Min();
            perProduct.AddRow([Markup.Escape(series[s].Id), .. cells.Select(v => v == best ? $"[green]{F(v, "F3")}[/]" : F(v, "F3"))]);
        }
        console.Write(perProduct);
    }

    private static string F(double value, string format = "F2") => value.ToString(format, CultureInfo.InvariantCulture);

    private static void WriteForecasts(string path, IReadOnlyList<TimeSeries> series, IReadOnlyList<ModelResult> results, FittedRnnForecaster? network, int horizon)
    {
        var csv = new StringBuilder("item,date,model,kind,forecast,actual\n");
        for (int s = 0; s < series.Count; s++)
        {
            var actual = series[s].Column(0)[^horizon..];
            var dates = series[s].Timestamps[^horizon..];
            foreach (var r in results)
                for (int h = 0; h < horizon; h++)
                    csv.Append(CultureInfo.InvariantCulture, $"{series[s].Id},{dates[h]:yyyy-MM-dd},{r.Name},holdout,{r.Holdout[s][h]:G6},{actual[h]:G6}\n");
        }
        if (network is not null)
        {
            // The next horizon after the data, from the full history.
            foreach (var p in network.Predict(series))
                for (int h = 0; h < p.FirstTarget.Count; h++)
                    csv.Append(CultureInfo.InvariantCulture, $"{p.SeriesId},{p.Timestamps[h]:yyyy-MM-dd},{results[0].Name},future,{p.FirstTarget[h]:G6},\n");
        }
        File.WriteAllText(path, csv.ToString());
    }

    private static void WriteMetrics(string path, IReadOnlyList<ModelResult> results)
    {
        var csv = new StringBuilder("model,item,mae,rmse,smape,mase\n");
        foreach (var r in results)
        {
            foreach (var (id, m) in r.Report.PerSeries)
                csv.Append(CultureInfo.InvariantCulture, $"{r.Name},{id},{m.Mae:G6},{m.Rmse:G6},{m.Smape:G6},{m.Mase:G6}\n");
            var o = r.Report.Overall;
            csv.Append(CultureInfo.InvariantCulture, $"{r.Name},overall,{o.Mae:G6},{o.Rmse:G6},{o.Smape:G6},{o.Mase:G6}\n");
        }
        File.WriteAllText(path, csv.ToString());
    }

    private static string Chart(IReadOnlyList<TimeSeries> series, IReadOnlyList<ModelResult> results, ModelResult primary, int horizon)
    {
        var top = Enumerable.Range(0, series.Count).OrderByDescending(s => series[s].Column(0).ToArray().Sum()).Take(4);
        var seasonal = results.First(r => r.Name == "Seasonal naive");
        var panels = top.Select(s =>
        {
            var dates = series[s].Timestamps.ToArray();
            var values = series[s].Column(0).ToArray();
            int historyStart = Math.Max(0, dates.Length - horizon - 84);
            var holdoutDates = dates[^horizon..];
            var lines = new List<ChartLine>
            {
                new("history", dates[historyStart..^horizon], values[historyStart..^horizon], "#555555"),
                new("holdout actual", holdoutDates, values[^horizon..], "#1f77b4"),
                new($"{primary.Name} forecast", holdoutDates, primary.Holdout[s], "#d62728"),
            };
            if (primary != seasonal) lines.Add(new ChartLine("seasonal naive", holdoutDates, seasonal.Holdout[s], "#2ca02c", Dashed: true));
            return new ChartPanel($"product {series[s].Id}", lines);
        }).ToArray();
        return SvgChart.Render($"{primary.Name} forecasts of the top {panels.Length} products, last {horizon} days held out", panels);
    }
}

/// <summary>An IProgress that reports on the caller's thread (System.Progress would post to the thread pool).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
