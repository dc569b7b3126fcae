using System.Globalization;
using System.Text;
using SeqForecast.Baselines;
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Forecasting;
using SeqForecast.Metrics;
using SeqForecast.Training;
using SeqForecast.Windows;
using Spectre.Console;

namespace SalesForecast;

/// <summary>Settings of the main job.</summary>
internal sealed record JobSettings
{
    public string? Input { get; init; }
    public CsvLayout Layout { get; init; } = CsvLayout.Auto;
    public CsvColumns Columns { get; init; } = new(null, null, null);
    public string? Sqlite { get; init; }
    public string Query { get; init; } = "SELECT id, date, value FROM sales";
    public string? Holidays { get; init; }
    public string Model { get; init; } = "lstm";
    public int Horizon { get; init; } = 28;
    public int Lookback { get; init; } = 56;
    public int Epochs { get; init; } = 40;
    public int WindowsPerEpoch { get; init; } = 8192;
    public ulong Seed { get; init; } = 1;
    public string Output { get; init; } = "out";
    public string Device { get; init; } = "cpu";

    /// <summary>libtorch precision (float32, tf32, mixed).</summary>
    public string Precision { get; init; } = "float32";
    public int MaxSeries { get; init; } = int.MaxValue;
}

/// <summary>One model's forecasts of the holdout, its scores and, for interval models, its bands.</summary>
internal sealed record ModelResult(string Name, MetricReport Report, IReadOnlyList<Prediction> Holdout, IReadOnlyList<IntervalScore> Intervals);

/// <summary>
/// The default command: hold out the last <c>horizon</c> days of every product, fit a global LSTM with calendar and
/// holiday inputs known in advance and calibrated intervals, compare it with the same LSTM without them, AR(p),
/// seasonal naive (weekly) and naive on the holdout, print the tables and write forecasts.csv, metrics.csv, the
/// chart (PNG and SVG) and the model file.
/// </summary>
internal sealed class ForecastJob(IAnsiConsole console)
{
    public const int SeasonalPeriod = 7;

    /// <summary>Quantile levels of the networks: the 80%, 90% and 95% bands and the median.</summary>
    public static readonly double[] Levels = [0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975];

    public int Run(JobSettings settings)
    {
        var backend = Backends.Resolve(settings.Device, settings.Precision, train: true);
        var (rank, world) = Backends.Rank(backend);
        // Checked before any training: a folder that cannot be written, or one another run is writing, fails now. Over a
        // process group every rank trains the same models and rank 0 alone reports and writes.
        using var output = rank == 0 ? new OutputFolder(settings.Output) : null;
        if (world > 1) console.MarkupLine($"Data-parallel training: rank {rank} of {world}{(rank == 0 ? "; this rank writes the results" : "; rank 0 writes the results")}.");
        var loaded = Load(settings);
        var series = loaded.Series.Take(settings.MaxSeries).ToArray();
        if (backend is SeqForecast.Engine.Managed.ManagedBackend)
            console.MarkupLine(SeqForecast.Engine.Managed.ManagedBackend.VectorBits > 0
                ? $"Engine: managed, {SeqForecast.Engine.Managed.ManagedBackend.VectorBits}-bit vector kernels."
                : "Engine: managed, scalar kernels.");
        console.MarkupLine($"Loaded [bold]{series.Length}[/] series ({Markup.Escape(SourceName(settings))}); {loaded.Report.GapsFilled:N0} missing days filled with 0, {loaded.Report.DuplicatesMerged:N0} duplicate rows summed.");
        int horizon = settings.Horizon;
        var holidays = SalesData.Holidays(settings.Holidays);
        var training = series.Select(s => s.Length > horizon ? s.Slice(0, s.Length - horizon)
            : throw new ArgumentException($"series '{s.Id}' has {s.Length} points; holding out {horizon} days leaves no history")).ToArray();

        var results = new List<ModelResult>();
        var fitted = new List<(string Name, IFittedForecaster Model)>();
        try
        {
            var options = NetworkOptions(settings, holidays, backend);
            IFittedForecaster? primary = null;
            foreach (var (name, forecaster) in Networks(settings, options, AreCounts(training)))
            {
                var model = Train(name, forecaster, training);
                fitted.Add((name, model));
                primary ??= model;
                // Scoring is local: over a process group only rank 0, which reports, scores anything.
                if (output is not null) results.Add(Score(name, model, series, horizon));
            }
            if (output is null)
            {
                console.MarkupLine($"rank {rank} of {world}: trained {fitted.Count} network(s) with the group.");
                return 0;
            }
            var arOrder = Math.Min(28, Math.Max(1, (training.Min(s => s.Length) - 2) / 2 - 1));
            foreach (var (name, model) in new (string, IBaselineModel)[]
            {
                ("AR", new AutoRegressiveModel(new AutoRegressiveOptions(arOrder) { Criterion = InformationCriterion.Aic, ShrinkMaxLag = true })),
                ("Seasonal naive", new SeasonalNaiveModel(SeasonalPeriod)),
                ("Naive", new NaiveModel()),
            })
                results.Add(Score(name, new BaselineForecaster(model, horizon), series, horizon));

            var main = settings.Model switch { "ar" => results.First(r => r.Name == "AR"), "naive" => results.First(r => r.Name == "Naive"), _ => results[0] };
            PrintTables(series, results, main);

            WriteForecasts(output.PathOf("forecasts.csv"), series, results, main, primary, horizon);
            WriteMetrics(output.PathOf("metrics.csv"), results);
            Chart.Save(ChartTitle(main, horizon), Panels(series, results, main, horizon), output.PathOf("forecast.png"), output.PathOf("forecast.svg"));
            primary?.Save(output.PathOf($"{settings.Model}.safetensors"));
            foreach (var file in output.Commit())
                console.MarkupLine($"wrote [green]{Markup.Escape(file)}[/]");
            return 0;
        }
        finally
        {
            foreach (var (_, model) in fitted) model.Dispose();
        }
    }

    internal static SeriesLoadResult Load(JobSettings settings) => settings.Sqlite is not null
        ? SalesData.ReadSqlite(settings.Sqlite, settings.Query)
        : SalesData.ReadCsv(settings.Input ?? SalesData.BundledPath, settings.Layout, settings.Columns);

    private static string SourceName(JobSettings settings) => settings.Sqlite is not null ? $"SQLite {settings.Sqlite}" : settings.Input ?? "bundled UCI Online Retail, top 30 products";

    /// <summary>
    /// The quantile network's options: the library defaults, with day-of-week and holidays as known-future inputs, mean
    /// scaling (zero sales stay zero; it scored better than the default normalisation on the validation window),
    /// non-negative quantile forecasts (the median is the point forecast) and the weekly season for MASE.
    /// </summary>
    internal static RnnForecasterOptions NetworkOptions(JobSettings settings, HolidayCalendar holidays, IBackend backend) => new(new WindowSpec(settings.Lookback, settings.Horizon)
    {
        Calendar = CalendarFeatures.DayOfWeek,
        Holidays = holidays,
    })
    {
        Normalization = InstanceNormalization.MeanScaling,
        NonNegative = true,
        SeasonLength = SeasonalPeriod,
        Backend = backend,
        Training = RnnForecasterOptions.DefaultTraining with { Epochs = settings.Epochs, WindowsPerEpoch = settings.WindowsPerEpoch, Seed = settings.Seed, Loss = LossOptions.Pinball(Levels) },
    };

    /// <summary>Conformal intervals around the network, calibrated on the validation part it never trains on (one fit).</summary>
    internal static ConformalForecaster Calibrated(IForecaster network, int horizon) =>
        new(network, new ConformalOptions(horizon) { Levels = [0.8, 0.9, 0.95], CalibrationOrigins = 1, Calibration = ConformalCalibration.ValidationPart, SeasonLength = SeasonalPeriod, NonNegative = true });

    /// <summary>
    /// The point network of the job: the networks' options with the scaled-MAE loss (MASE per window) and last week's
    /// value as an input, the configuration <c>AutoForecaster</c> chose on the validation window (the 28 days before the
    /// holdout; docs/accuracy.md). Its intervals come from conformal calibration.
    /// </summary>
    internal static RnnForecasterOptions PointOptions(RnnForecasterOptions options) => options with
    {
        Window = options.Window with { SeasonalLags = [SeasonalPeriod] },
        Training = options.Training with { Loss = new LossOptions(LossKind.ScaledMae) },
    };

    /// <summary>
    /// The models of the job. For <c>lstm</c>: the point LSTM with conformal intervals, the quantile LSTM with its own
    /// bands, and the point LSTM without the calendar and holiday inputs, to show what they add. Counts (whole-number
    /// sales) are forecast in whole numbers, which scored better on the validation window (benchmarks/SeqForecast.Accuracy
    /// <c>experiment retail</c>).
    /// </summary>
    private static IEnumerable<(string Name, IForecaster Forecaster)> Networks(JobSettings settings, RnnForecasterOptions options, bool counts)
    {
        options = options with { RoundForecasts = counts };
        var point = PointOptions(options);
        if (settings.Model == "lstm")
        {
            yield return ("LSTM", Calibrated(new RnnForecaster(point), settings.Horizon));
            yield return ("LSTM (quantile bands)", new RnnForecaster(options));
            yield return ("LSTM without calendar", new RnnForecaster(point with { Window = point.Window with { Calendar = CalendarFeatures.None, Holidays = null } }));
        }
        else if (settings.Model == "gru")
        {
            yield return ("GRU", Calibrated(new RnnForecaster(point with { Cell = CellType.Gru }), settings.Horizon));
        }
    }

    /// <summary>True when every value is a whole number (unit sales), so forecasts are rounded.</summary>
    internal static bool AreCounts(IEnumerable<TimeSeries> series) => series.All(s => s.Column(0).ToArray().All(v => v == Math.Round(v)));

    private IFittedForecaster Train(string name, IForecaster forecaster, IReadOnlyList<TimeSeries> training)
    {
        var reporter = new TrainingReporter(console, name);
        var model = reporter.Run(progress => forecaster.Fit(training, new FitOptions { Progress = progress.Epochs, BatchProgress = progress.Batches }));
        var inner = model is FittedConformal conformal ? conformal.Inner : model;
        var networks = inner switch
        {
            FittedRnnForecaster r => [r],
            FittedEnsemble e => e.Members.OfType<FittedRnnForecaster>().ToArray(),
            _ => Array.Empty<FittedRnnForecaster>(),
        };
        for (int i = 0; i < networks.Length; i++)
        {
            var label = networks.Length > 1 ? $"{name} member {i + 1} (lookback {networks[i].Info.Window.Lookback}{(networks[i].Info.Residual is { } r ? $", residual to {r.Kind}" : "")})" : name;
            if (networks[i].Training is { } result)
                console.MarkupLine(Markup.Escape($"{label}: best epoch {result.BestEpoch} of {result.History.Count}{(result.StoppedEarly ? " (early stop)" : "")}, validation MASE {result.BestLoss:F4}"));
            foreach (var (id, reason) in networks[i].Report?.SkippedSeries ?? [])
                console.MarkupLine(Markup.Escape($"{label}: series '{id}' left out of training: it {reason}"));
        }
        return model;
    }

    private static ModelResult Score(string name, IFittedForecaster model, IReadOnlyList<TimeSeries> series, int horizon)
    {
        var (report, predictions) = model.Evaluate(series, horizon, SeasonalPeriod);
        var intervals = predictions.Count > 0 && predictions[0].QuantileLevels.Count > 0
            ? Backtesting.ScoreIntervals(predictions, series, horizon, SeasonalPeriod).Intervals
            : [];
        return new ModelResult(name, report, predictions, intervals);
    }

    private void PrintTables(IReadOnlyList<TimeSeries> series, IReadOnlyList<ModelResult> results, ModelResult main)
    {
        var overall = new Table().Title($"Holdout: last {main.Holdout[0].Horizon} days, mean over {series.Count} products (M4 style); interval columns: share of actuals inside")
            .AddColumns("model", "MAE", "RMSE", "sMAPE %", "MASE", "80%", "90%", "95%");
        foreach (var r in results)
        {
            var m = r.Report.Overall;
            string Coverage(double level) => r.Intervals.FirstOrDefault(i => Math.Abs(i.Coverage - level) < 1e-9) is { } score ? F(100 * score.Empirical, "F1") : "–";
            overall.AddRow(r == main ? $"[bold]{Markup.Escape(r.Name)}[/]" : Markup.Escape(r.Name), F(m.Mae), F(m.Rmse), F(m.Smape), F(m.Mase, "F3"), Coverage(0.8), Coverage(0.9), Coverage(0.95));
        }
        console.Write(overall);
        foreach (var (id, problem) in main.Report.Undefined)
            console.MarkupLine(Markup.Escape($"note: product '{id}' has no MASE ({problem}); the means leave it out"));

        var perProduct = new Table().Title("MASE per product (lower is better)").AddColumn("product");
        var shown = results.Where(r => !r.Name.EndsWith("(quantile bands)", StringComparison.Ordinal)).ToArray();
        foreach (var r in shown) perProduct.AddColumn(r.Name);
        for (int s = 0; s < series.Count; s++)
        {
            var cells = shown.Select(r => r.Report.PerSeries[s].Values.Mase).ToArray();
            double best = cells.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Min();
            perProduct.AddRow([Markup.Escape(series[s].Id), .. cells.Select(v => !double.IsFinite(v) ? "–" : v == best ? $"[green]{F(v, "F3")}[/]" : F(v, "F3"))]);
        }
        console.Write(perProduct);
    }

    private static string F(double value, string format = "F2") => double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : "–";

    private static string G(double value) => value.ToString("G6", CultureInfo.InvariantCulture);

    private static (double[] Lower, double[] Upper)? Band(Prediction p, double coverage) =>
        p.QuantileLevels.Count > 0 ? p.Interval(coverage) : null;

    private static void WriteForecasts(string path, IReadOnlyList<TimeSeries> series, IReadOnlyList<ModelResult> results, ModelResult main, IFittedForecaster? primary, int horizon)
    {
        var csv = new StringBuilder("item,date,model,kind,forecast,actual,lower80,upper80,lower95,upper95\n");
        string Bands(Prediction p, int h) => Band(p, 0.8) is { } b80 && Band(p, 0.95) is { } b95 ? $"{G(b80.Lower[h])},{G(b80.Upper[h])},{G(b95.Lower[h])},{G(b95.Upper[h])}" : ",,,";
        for (int s = 0; s < series.Count; s++)
        {
            var actual = series[s].Column(0)[^horizon..];
            var dates = series[s].Timestamps[^horizon..];
            foreach (var r in results)
                for (int h = 0; h < horizon; h++)
                    csv.Append(CultureInfo.InvariantCulture, $"{series[s].Id},{dates[h]:yyyy-MM-dd},{r.Name},holdout,{G(r.Holdout[s].FirstTarget[h])},{G(actual[h])},{Bands(r.Holdout[s], h)}\n");
        }
        if (primary is not null)
        {
            // The next horizon after the data, from the full history.
            foreach (var p in primary.Predict(series, new PredictOptions { Horizon = horizon }))
                for (int h = 0; h < p.Horizon; h++)
                    csv.Append(CultureInfo.InvariantCulture, $"{p.SeriesId},{p.Timestamps[h]:yyyy-MM-dd},{main.Name},future,{G(p.FirstTarget[h])},,{Bands(p, h)}\n");
        }
        File.WriteAllText(path, csv.ToString());
    }

    private static void WriteMetrics(string path, IReadOnlyList<ModelResult> results)
    {
        var csv = new StringBuilder("model,item,mae,rmse,smape,mase,coverage80,coverage90,coverage95\n");
        foreach (var r in results)
        {
            foreach (var (id, m) in r.Report.PerSeries)
                csv.Append(CultureInfo.InvariantCulture, $"{r.Name},{id},{G(m.Mae)},{G(m.Rmse)},{G(m.Smape)},{(double.IsFinite(m.Mase) ? G(m.Mase) : "")},,,\n");
            var o = r.Report.Overall;
            string Coverage(double level) => r.Intervals.FirstOrDefault(i => Math.Abs(i.Coverage - level) < 1e-9) is { } score ? G(score.Empirical) : "";
            csv.Append(CultureInfo.InvariantCulture, $"{r.Name},overall,{G(o.Mae)},{G(o.Rmse)},{G(o.Smape)},{G(o.Mase)},{Coverage(0.8)},{Coverage(0.9)},{Coverage(0.95)}\n");
        }
        File.WriteAllText(path, csv.ToString());
    }

    private static string ChartTitle(ModelResult main, int horizon) => $"{main.Name} forecasts of the top products, last {horizon} days held out";

    private static IReadOnlyList<ChartPanel> Panels(IReadOnlyList<TimeSeries> series, IReadOnlyList<ModelResult> results, ModelResult main, int horizon)
    {
        var top = Enumerable.Range(0, series.Count).OrderByDescending(s => series[s].Column(0).ToArray().Sum()).Take(4);
        var seasonal = results.First(r => r.Name == "Seasonal naive");
        return top.Select(s =>
        {
            var dates = series[s].Timestamps.ToArray();
            var values = series[s].Column(0).ToArray();
            int historyStart = Math.Max(0, dates.Length - horizon - 84);
            var p = main.Holdout[s];
            return new ChartPanel(series[s].Id, dates[historyStart..^horizon], values[historyStart..^horizon], dates[^horizon..], values[^horizon..], p.FirstTarget.ToArray(),
                Band(p, 0.8), Band(p, 0.95), main.Name, main == seasonal ? null : seasonal.Holdout[s].FirstTarget.ToArray(), "seasonal naive");
        }).ToArray();
    }
}

/// <summary>
/// Reports training progress: a live progress bar updated within each epoch on a terminal, and plain lines (an epoch
/// line, and a batch line every few seconds) when the output is redirected.
/// </summary>
internal sealed class TrainingReporter(IAnsiConsole console, string name)
{
    public sealed record Channels(IProgress<EpochProgress> Epochs, IProgress<BatchProgress> Batches);

    public T Run<T>(Func<Channels, T> train)
    {
        if (!console.Profile.Capabilities.Interactive)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var last = TimeSpan.Zero;
            return train(new Channels(
                new InlineProgress<EpochProgress>(p => console.WriteLine(Line(p))),
                new InlineProgress<BatchProgress>(b =>
                {
                    if (clock.Elapsed - last < TimeSpan.FromSeconds(5) || b.Batch == b.Batches) return;
                    last = clock.Elapsed;
                    console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name} epoch {b.Epoch}: batch {b.Batch}/{b.Batches}, loss {b.RunningLoss:F4}"));
                })));
        }
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask($"{name} training", maxValue: 1);
                result = train(new Channels(
                    new InlineProgress<EpochProgress>(p => task.Description = Markup.Escape(Line(p))),
                    new InlineProgress<BatchProgress>(b =>
                    {
                        task.MaxValue = b.Epochs;
                        task.Value = b.Epoch - 1 + (double)b.Batch / b.Batches;
                    })));
                task.Value = task.MaxValue;
            });
        return result;
    }

    private string Line(EpochProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"{name} epoch {p.Epoch}/{p.Epochs} loss {p.TrainLoss:F4} val {p.ValidationLoss:F4} {p.SamplesPerSecond:N0} samples/s ETA {p.EstimatedRemaining:mm\\:ss}");
}

/// <summary>An IProgress that reports on the caller's thread (System.Progress would post to the thread pool).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
