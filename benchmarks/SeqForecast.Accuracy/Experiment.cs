using System.Diagnostics;
using SeqForecast.Forecasting;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Accuracy;

/// <summary>
/// Development aid: scores candidate configurations on validation data only (the last horizon of each training
/// series), never on test data, so that choosing among them leaks nothing.
/// </summary>
internal static class Experiment
{
    public static int Run(string folder, string[] names)
    {
        if (names.Length > 0 && names[0] == "retail") return Retail(folder, names[1..]);
        var m4 = new M4Weekly(folder);
        var candidates = M4Candidates();
        foreach (var name in names.Length == 0 ? candidates.Keys.ToArray() : names)
        {
            var clock = Stopwatch.StartNew();
            var forecaster = candidates.TryGetValue(name, out var make) ? make() : Parse(name);
            var scores = M4Weekly.Validate(forecaster, m4.Train);
            Console.WriteLine($"{name,-28} validation sMAPE {scores.Smape,7:F3}  MASE {scores.Mase,6:F3}  OWA {scores.Owa,6:F3}   {clock.Elapsed.TotalSeconds,6:F0} s");
        }
        return 0;
    }

    /// <summary>
    /// Variants of the sample's configuration on the Online Retail validation window: trained without the last 56 days,
    /// scored on the 28 days before the holdout (the holdout itself is never touched).
    /// </summary>
    private static int Retail(string folder, string[] names)
    {
        const int h = 28, m = 7;
        var loaded = SeqForecast.Data.SeriesCsv.ReadLong(Path.Combine(folder, "uci_online_retail_top30_daily.csv"), new SeqForecast.Data.LongCsvFormat { IdColumn = "item", DateColumn = "ds" }, SeqForecast.Data.SeriesCleaningOptions.Sales);
        // SEQFORECAST_EARLIER=k moves the validation window k horizons further back (more windows, still before the holdout).
        int earlier = int.TryParse(Environment.GetEnvironmentVariable("SEQFORECAST_EARLIER"), out var k) ? k : 0;
        var withoutHoldout = loaded.Series.Select(s => s.Slice(0, s.Length - h * (1 + earlier))).ToArray();
        var training = withoutHoldout.Select(s => s.Slice(0, s.Length - h)).ToArray();
        var sample = Runs.SampleQuantileOptions(folder, h) with { RoundForecasts = false };
        var point = sample with { Training = sample.Training with { Loss = new LossOptions(LossKind.ScaledMae) } };
        var candidates = new Dictionary<string, Func<IForecaster>>
        {
            ["seasonal-naive"] = () => new BaselineForecaster(new SeqForecast.Baselines.SeasonalNaiveModel(m), h),
            ["sample"] = () => new RnnForecaster(sample),
            ["sample-point"] = () => new RnnForecaster(Runs.SampleOptions(folder, h)),
            ["sample-round"] = () => new RnnForecaster(sample with { RoundForecasts = true }),
            ["sample-lv-round"] = () => new RnnForecaster(sample with { Normalization = InstanceNormalization.LastValueDifference, RoundForecasts = true }),
            ["sample-round-smape"] = () => new RnnForecaster(sample with { RoundForecasts = true, Point = PointForecast.MinimumSmape }),
            ["sample-ms-round"] = () => new RnnForecaster(sample with { Normalization = InstanceNormalization.MeanScaling, RoundForecasts = true }),
            ["sample-ms-round-smape"] = () => new RnnForecaster(sample with { Normalization = InstanceNormalization.MeanScaling, RoundForecasts = true, Point = PointForecast.MinimumSmape }),
            ["sample-smape"] = () => new RnnForecaster(sample with { Point = PointForecast.MinimumSmape }),
            ["sample-res7"] = () => new RnnForecaster(sample with { Residual = ResidualBaseline.Seasonal(m) }),
            ["sample-res7-round"] = () => new RnnForecaster(sample with { Residual = ResidualBaseline.Seasonal(m), RoundForecasts = true }),
            ["point-round"] = () => new RnnForecaster(point with { RoundForecasts = true }),
            ["point-res7-round"] = () => new RnnForecaster(point with { Residual = ResidualBaseline.Seasonal(m), RoundForecasts = true }),
            ["median-3"] = () => new EnsembleForecaster([
                new RnnForecaster(sample with { RoundForecasts = true }),
                new RnnForecaster(point with { Residual = ResidualBaseline.Seasonal(m), RoundForecasts = true }),
                new BaselineForecaster(new SeqForecast.Baselines.SeasonalNaiveModel(m), h)]),
        };
        foreach (var name in names.Length == 0 ? candidates.Keys.ToArray() : names)
        {
            var clock = Stopwatch.StartNew();
            using var model = candidates[name]().Fit(training);
            var (report, predictions) = model.Evaluate(withoutHoldout, h, m);
            if (Environment.GetEnvironmentVariable("SEQFORECAST_DUMP") is { Length: > 0 } dump)
                File.WriteAllLines(Path.Combine(dump, name + ".csv"), predictions.SelectMany(p => p.FirstTarget.Select((v, k) => FormattableString.Invariant($"{p.SeriesId},{k},{v}"))));
            Console.WriteLine($"{name,-20} validation MASE {report.Overall.Mase,6:F3}  sMAPE {report.Overall.Smape,7:F2}   {clock.Elapsed.TotalSeconds,5:F0} s");
        }
        return 0;
    }

    /// <summary>Parses "cell:key=value:..." (keys: L lookback, norm ms|lv|ls|none, loss, h hidden, l layers, lr, wpe, ep, bal 0|1, seed, res naive|sn52, ens k, mon loss|mase|smape, pat, bs, drop, lags, refit 0|1, plat patience,factor, step size,gamma).</summary>
    private static IForecaster Parse(string spec)
    {
        var parts = spec.Split(':');
        var kv = parts.Skip(1).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        string Get(string key, string fallback) => kv.TryGetValue(key, out var v) ? v : fallback;
        int lookback = int.Parse(Get("L", "52"));
        var options = new RnnForecasterOptions(new WindowSpec(lookback, M4Weekly.Horizon)
        {
            SeasonalLags = Get("lags", "") is { Length: > 0 } lags ? lags.Split(',').Select(int.Parse).ToArray() : [],
        })
        {
            Cell = parts[0] == "gru" ? SeqForecast.Engine.CellType.Gru : SeqForecast.Engine.CellType.Lstm,
            HiddenSize = int.Parse(Get("h", "64")),
            Layers = int.Parse(Get("l", "2")),
            Dropout = double.Parse(Get("drop", "0"), System.Globalization.CultureInfo.InvariantCulture),
            Normalization = Get("norm", "lv") switch
            {
                "ms" => InstanceNormalization.MeanStd,
                "ls" => new InstanceNormalization { Center = NormalizationCenter.LastValue, Scale = NormalizationScale.StandardDeviation },
                "md" => new InstanceNormalization { Center = NormalizationCenter.Mean, Scale = NormalizationScale.MeanAbsoluteDifference },
                "none" => null,
                _ => InstanceNormalization.LastValueDifference,
            },
            Residual = Get("res", "") switch { "naive" => ResidualBaseline.Naive, "sn52" => ResidualBaseline.Seasonal(52), _ => null },
            RefitOnFullData = Get("refit", "0") == "1",
            Training = new TrainerOptions
            {
                Epochs = int.Parse(Get("ep", "40")), BatchSize = int.Parse(Get("bs", "64")), WindowsPerEpoch = int.Parse(Get("wpe", "8192")),
                Sampling = Get("bal", "1") == "1" ? WindowSampling.SeriesBalanced : WindowSampling.Uniform,
                Loss = new LossOptions(Enum.Parse<LossKind>(Get("loss", "ScaledMae"), ignoreCase: true)),
                Monitor = Enum.Parse<ValidationMonitor>(Get("mon", "Mase"), ignoreCase: true),
                Optimizer = new AdamOptions { LearningRate = double.Parse(Get("lr", "0.002"), System.Globalization.CultureInfo.InvariantCulture) },
                GradientClipNorm = 1.0, Seed = ulong.Parse(Get("seed", "0")),
                EarlyStopping = new EarlyStoppingOptions(int.Parse(Get("pat", $"{RnnForecasterOptions.DefaultTraining.EarlyStopping!.Patience}"))),
                Schedule = Get("plat", "") is { Length: > 0 } plat
                    ? new ReduceOnPlateauSchedule { Patience = int.Parse(plat.Split(',')[0]), Factor = double.Parse(plat.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture) }
                    : Get("step", "") is { Length: > 0 } step
                        ? new StepSchedule(int.Parse(step.Split(',')[0]), double.Parse(step.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture))
                        : null,
            },
        };
        int k = int.Parse(Get("ens", "1"));
        return k == 1 ? new RnnForecaster(options) : EnsembleForecaster.OverSeeds(options, Enumerable.Range(0, k).Select(i => (ulong)i));
    }

    private static Dictionary<string, Func<IForecaster>> M4Candidates()
    {
        var candidates = new Dictionary<string, Func<IForecaster>>();
        foreach (var (name, baseline) in M4Weekly.Baselines()) candidates[name.Split(' ')[0].ToLowerInvariant()] = () => baseline;
        RnnForecasterOptions Lstm(int lookback) => new(new WindowSpec(lookback, M4Weekly.Horizon));
        candidates["lstm-default"] = () => new RnnForecaster(Lstm(52));
        candidates["gru-default"] = () => new RnnForecaster(Lstm(52) with { Cell = SeqForecast.Engine.CellType.Gru });
        candidates["auto"] = () => new AutoForecaster(new AutoForecasterOptions(M4Weekly.Horizon) { SeasonLength = 52, MaseSeason = 1, Metric = AutoMetric.Owa, MaxCandidates = 6 });
        candidates["lstm-tuned"] = () => new RnnForecaster(Lstm(52) with
        {
            Normalization = InstanceNormalization.LastValueDifference,
            Training = new TrainerOptions
            {
                Epochs = 40, BatchSize = 64, WindowsPerEpoch = 8192, Sampling = WindowSampling.SeriesBalanced,
                Loss = new LossOptions(LossKind.ScaledMae), Monitor = ValidationMonitor.Mase,
                Optimizer = new AdamOptions { LearningRate = 2e-3 }, GradientClipNorm = 1.0,
                EarlyStopping = new EarlyStoppingOptions(6),
            },
        });
        return candidates;
    }
}
