using System.Diagnostics;
using System.Globalization;
using SeqForecast.Baselines;
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Forecasting;
using SeqForecast.Metrics;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Accuracy;

/// <summary>The three data sets of the accuracy table, each run through the library's public API.</summary>
internal static class Runs
{
    /// <summary>The networks' seed: 1, or SEQFORECAST_SEED for experiments on how much a result moves with it.</summary>
    public static readonly ulong Seed = ulong.TryParse(Environment.GetEnvironmentVariable("SEQFORECAST_SEED"), out var seed) ? seed : 1;

    /// <summary>The library's default training with <see cref="Seed"/>; SEQFORECAST_PATIENCE=p sets the early-stopping patience (experiments only).</summary>
    public static TrainerOptions NetworkTraining => RnnForecasterOptions.DefaultTraining with
    {
        Seed = Seed,
        EarlyStopping = int.TryParse(Environment.GetEnvironmentVariable("SEQFORECAST_PATIENCE"), out var p) ? new EarlyStoppingOptions(p) : RnnForecasterOptions.DefaultTraining.EarlyStopping,
    };

    private static void Log(string message) => Console.Error.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {message}");

    /// <summary>The library's defaults for a user who only chooses the window: lookback max(season, 2·horizon).</summary>
    public static RnnForecasterOptions Defaults(int lookback, int horizon, CellType cell) =>
        new(new WindowSpec(lookback, horizon)) { Cell = cell, Training = NetworkTraining };

    // ---------------------------------------------------------------- M4 Weekly

    public static Section M4(string folder)
    {
        var clock = Stopwatch.StartNew();
        var m4 = new M4Weekly(folder);
        int h = M4Weekly.Horizon;
        var rows = new List<Row>();
        void Score(string name, IForecaster forecaster, string note = "")
        {
            var watch = Stopwatch.StartNew();
            using var model = forecaster.Fit(m4.Train);
            var s = m4.Score(model);
            rows.Add(new Row(name, [s.Smape, s.Mase, s.Owa], (note + $" {watch.Elapsed.TotalSeconds:F0} s").Trim()));
            Log($"M4 {name}: sMAPE {s.Smape:F3} MASE {s.Mase:F3} OWA {s.Owa:F3}");
            if (model is FittedAuto auto) Log(auto.ReportText);
        }
        foreach (var (name, baseline) in M4Weekly.Baselines()) Score(name, baseline);
        Score("LSTM, library defaults (lookback 52)", new RnnForecaster(Defaults(52, h, CellType.Lstm)));
        Score("GRU, library defaults (lookback 52)", new RnnForecaster(Defaults(52, h, CellType.Gru)));
        var auto = new AutoForecaster(new AutoForecasterOptions(h)
        {
            SeasonLength = 52, MaseSeason = 1, Metric = AutoMetric.Owa, MaxCandidates = 6,
            Template = Defaults(52, h, CellType.Gru) with { Window = new WindowSpec(52, h) { SeasonalLags = [52] } },
        });
        Score("Auto (best the library finds on validation)", auto, "see the log for its candidates;");
        return new Section("m4", "M4 Weekly (359 series, horizon 13)",
            "Trained on each series' M4 training row, scored on its 13 test values. sMAPE and MASE as the M4 competition defines them " +
            "(MASE scaled by the in-sample one-step naive, m = 1), OWA = ½·(sMAPE / 9.161 + MASE / 2.777) relative to Naive2's published " +
            "scores. Every configuration and the auto forecaster's choice use only the training rows (validation: their last 13 points).",
            ["sMAPE", "MASE", "OWA"], rows,
            [new Row("Naive2 (M4 benchmark)", [9.161, 2.777, 1.000]), new Row("Theta", [9.093, 2.637, 0.971]), new Row("Damped", [8.866, 2.404, 0.917]), new Row("ES-RNN (M4 winner)", [7.817, 2.356, 0.851])],
            clock.Elapsed, $"{Seed} (networks); AR and the naive models are deterministic", "");
    }

    // ---------------------------------------------------------------- ETTh2

    public static Section Etth2(string folder)
    {
        var clock = Stopwatch.StartNew();
        var loaded = SeriesCsv.ReadLong(new StringReader(LongForm(Path.Combine(folder, "ETTh2.csv"))), "ETTh2.csv",
            new LongCsvFormat { IdColumn = "id", DateColumn = "date", ValueColumns = ["OT"] }, SeriesCleaningOptions.Measurements with { Frequency = Frequency.Hourly });
        var series = loaded.Series[0];
        // SEQFORECAST_ETTH2_VALIDATE=1 (experiments): every boundary moves back by the validation part, so the rows
        // scored are the validation rows 8640-11519 and nothing reads the test rows.
        int back = Environment.GetEnvironmentVariable("SEQFORECAST_ETTH2_VALIDATE") == "1" ? 2880 : 0;
        int trainEnd = 8640 - back, validationEnd = 11520 - back, testEnd = 14400 - back;
        var train = series.Slice(0, trainEnd).Column(0);
        double mean = train.ToArray().Average(), std = Math.Sqrt(train.ToArray().Select(v => (v - mean) * (v - mean)).Average());
        var fitPart = series.Slice(0, validationEnd);
        var rows = new List<Row>();
        var ar = AutoRegressive.Fit(train, new AutoRegressiveOptions(48));
        foreach (int h in new[] { 24, 48, 168 })
        {
            int lookback = Math.Min(168, Math.Max(24, 2 * h));
            var origins = Enumerable.Range(validationEnd, testEnd - h - validationEnd + 1).ToArray();
            (double Mse, double Mae) Score(Func<int, double[]> forecast)
            {
                double mse = 0, mae = 0;
                var values = series.Column(0);
                foreach (int o in origins)
                {
                    var f = forecast(o);
                    for (int k = 0; k < h; k++)
                    {
                        double error = (f[k] - values[o + k]) / std;
                        mse += error * error;
                        mae += Math.Abs(error);
                    }
                }
                return (mse / (origins.Length * h), mae / (origins.Length * h));
            }
            void Add(string name, (double Mse, double Mae) s, double seconds, string note = "")
            {
                rows.Add(new Row($"h={h}: {name}", [s.Mse, s.Mae], (note + $" {seconds:F0} s").Trim()));
                Log($"ETTh2 h={h} {name}: MSE {s.Mse:F4} MAE {s.Mae:F4}");
            }
            var column = series.Column(0).ToArray();
            var watch = Stopwatch.StartNew();
            Add("naive", Score(o => Enumerable.Repeat(column[o - 1], h).ToArray()), watch.Elapsed.TotalSeconds);
            watch.Restart();
            Add("seasonal naive (24)", Score(o => new SeasonalNaiveModel(24).Forecast(column.AsSpan(o - 24, 24), h)), watch.Elapsed.TotalSeconds);
            watch.Restart();
            Add("drift", Score(o => new DriftModel().Forecast(column.AsSpan(0, o), h)), watch.Elapsed.TotalSeconds);
            watch.Restart();
            Add($"AR({ar.Order}) fitted on the training rows", Score(o => ar.Forecast(column.AsSpan(o - Math.Max(1, ar.Order), Math.Max(1, ar.Order)), h)), watch.Elapsed.TotalSeconds);

            IFittedForecaster Fit(IForecaster forecaster) => forecaster.Fit([fitPart], new FitOptions { ValidationLength = validationEnd - trainEnd });
            (double, double) Network(IFittedForecaster model)
            {
                var histories = origins.Select(o => series.Slice(Math.Max(0, o - 400), Math.Min(o, 400))).ToArray();
                var forecasts = model.Predict(histories, new PredictOptions { Horizon = h });
                var byOrigin = origins.Select((o, i) => (o, i)).ToDictionary(p => p.o, p => forecasts[p.i].Values[0]);
                return Score(o => byOrigin[o]);
            }
            RnnForecasterOptions Etth2Defaults(CellType cell) => Defaults(lookback, h, cell) with
            {
                Training = NetworkTraining with { Epochs = 20, WindowsPerEpoch = 4096 },
            };
            foreach (var cell in new[] { CellType.Lstm, CellType.Gru })
            {
                watch.Restart();
                using var model = Fit(new RnnForecaster(Etth2Defaults(cell)));
                Add($"{cell.ToString().ToUpperInvariant()}, library defaults (lookback {lookback})", Network(model), watch.Elapsed.TotalSeconds, "20 epochs of 4,096 windows;");
            }
            if (back > 0) continue;  // validation-only experiments compare the networks' defaults
            watch.Restart();
            var auto = new AutoForecaster(new AutoForecasterOptions(h)
            {
                SeasonLength = 24, Metric = AutoMetric.Mase, MaxCandidates = 2, IncludeBaselines = true, TryEnsemble = true,
                ValidationLength = validationEnd - trainEnd, ValidationStride = 24, Template = Etth2Defaults(CellType.Gru),
            });
            using (var model = auto.Fit([fitPart]))
            {
                Add("Auto (best the library finds on validation)", Network(model), watch.Elapsed.TotalSeconds);
                Log(((FittedAuto)model).ReportText);
            }
        }
        return new Section("etth2", "ETTh2, univariate OT (Informer protocol)",
            "Train rows 0–8639, validation rows 8640–11519 (early stopping and the auto forecaster's choice), test rows 11520–14399. MSE " +
            "and MAE on values z-scored with the training rows' mean and population standard deviation, over every test window (stride 1). " +
            "Networks are fitted on rows 0–11519 with the last 2,880 as validation.",
            ["MSE", "MAE"], rows,
            [new Row("Informer, h=24", [0.093, 0.240]), new Row("Informer, h=48", [0.155, 0.314]), new Row("Informer, h=168", [0.232, 0.389])],
            clock.Elapsed, $"{Seed}", "");
    }

    private static string LongForm(string path)
    {
        var lines = File.ReadLines(path).ToArray();
        var header = lines[0].Split(',');
        int ot = Array.IndexOf(header, "OT");
        return "id,date,OT\n" + string.Join("\n", lines.Skip(1).Select(l => { var f = l.Split(','); return $"OT,{f[0]},{f[ot]}"; }));
    }

    // ---------------------------------------------------------------- Online Retail

    public static Section Retail(string folder)
    {
        var clock = Stopwatch.StartNew();
        var loaded = SeriesCsv.ReadLong(Path.Combine(folder, "uci_online_retail_top30_daily.csv"), new LongCsvFormat { IdColumn = "item", DateColumn = "ds" }, SeriesCleaningOptions.Sales);
        var series = loaded.Series;
        const int h = 28, m = 7;
        var rows = new List<Row>();
        void Add(string name, IForecaster forecaster, string note = "")
        {
            var watch = Stopwatch.StartNew();
            var training = series.Select(s => s.Slice(0, s.Length - h)).ToArray();
            using var model = forecaster.Fit(training);
            var (report, _) = model.Evaluate(series, h, m);
            rows.Add(new Row(name, [report.Overall.Mase, report.Overall.Smape], (note + $" {watch.Elapsed.TotalSeconds:F0} s").Trim()));
            Log($"Retail {name}: MASE {report.Overall.Mase:F3} sMAPE {report.Overall.Smape:F2}");
            if (model is FittedAuto auto) Log(auto.ReportText);
        }
        foreach (var (name, baseline) in new (string, IForecaster)[]
        {
            ("Naive", new BaselineForecaster(new NaiveModel(), h)),
            ("Seasonal naive (7)", new BaselineForecaster(new SeasonalNaiveModel(m), h)),
            ("Drift", new BaselineForecaster(new DriftModel(), h)),
            ("AR(p ≤ 28, AIC)", new BaselineForecaster(new AutoRegressiveModel(new AutoRegressiveOptions(28) { ShrinkMaxLag = true }), h)),
        })
            Add(name, baseline);
        var sample = SampleOptions(folder, h);
        Add("LSTM, the sample's configuration", new RnnForecaster(sample), "library defaults + calendar, UK holidays, lag 7, mean scaling, non-negative, whole numbers;");
        Add("GRU, the sample's configuration", new RnnForecaster(sample with { Cell = CellType.Gru }));
        Add("Auto (best the library finds on validation)", new AutoForecaster(new AutoForecasterOptions(h)
        {
            SeasonLength = m, Metric = AutoMetric.Owa, MaxCandidates = 6, Template = sample,
        }));
        return new Section("retail", "Online Retail (the sample's 30 products, last 28 days held out)",
            "The sample's data (UCI Online Retail, 30 best-selling products, daily, missing days are zero sales); the last 28 days of every product " +
            "are the holdout, the 28 days before them validate. MASE with the in-sample weekly seasonal naive (m = 7) and M4 sMAPE, averaged over products.",
            ["MASE", "sMAPE"], rows, [], clock.Elapsed, $"{Seed}", "");
    }

    /// <summary>
    /// The point network samples/SalesForecast uses (ForecastJob.PointOptions): the library defaults with known-future
    /// day-of-week and UK bank holidays (the sample's data/uk_bank_holidays.csv), last week's value as an input, mean
    /// scaling, non-negative forecasts in whole numbers, the scaled-MAE loss and the weekly season for MASE.
    /// </summary>
    public static RnnForecasterOptions SampleOptions(string folder, int horizon)
    {
        var quantile = SampleQuantileOptions(folder, horizon);
        return quantile with
        {
            Window = quantile.Window with { SeasonalLags = [7] },
            Training = quantile.Training with { Loss = new LossOptions(LossKind.ScaledMae) },
        };
    }

    /// <summary>The sample's quantile network (ForecastJob.NetworkOptions): <see cref="SampleOptions"/> with the pinball loss and no seasonal lag.</summary>
    public static RnnForecasterOptions SampleQuantileOptions(string folder, int horizon) => new(new WindowSpec(56, horizon)
    {
        Calendar = CalendarFeatures.DayOfWeek,
        Holidays = HolidayCalendar.ReadCsv(Path.Combine(folder, "uk_bank_holidays.csv"), "UK bank holidays"),
    })
    {
        Normalization = InstanceNormalization.MeanScaling,
        NonNegative = true,
        RoundForecasts = true,
        SeasonLength = 7,
        Training = NetworkTraining with { Loss = LossOptions.Pinball(0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975) },
    };
}
