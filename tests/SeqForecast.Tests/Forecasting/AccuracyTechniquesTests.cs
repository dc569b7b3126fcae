using SeqForecast.Baselines;
using SeqForecast.Data;
using SeqForecast.Forecasting;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Forecasting;

/// <summary>The mechanics of each accuracy technique: instance normalisation, residual baselines, ensembles, sampling, refits, short series.</summary>
public class AccuracyTechniquesTests
{
    private static TimeSeries Wave(string id, int length, double level, double amplitude = 10, double phase = 0) =>
        TimeSeries.FromValues(id, Enumerable.Range(0, length).Select(t => level + amplitude * Math.Sin(2 * Math.PI * t / 7 + phase) + 0.3 * Math.Cos(t * 1.3)).ToArray(),
            Enumerable.Range(0, length).Select(t => new DateTime(2022, 1, 3).AddDays(t)).ToArray());

    private static TimeSeries Shift(TimeSeries series, double by) =>
        series.WithColumns([series.Column(0).ToArray().Select(v => v + by).ToArray()]);

    private static RnnForecasterOptions Small(int lookback = 14, int horizon = 7, int epochs = 15) => new(new WindowSpec(lookback, horizon))
    {
        HiddenSize = 12,
        Layers = 1,
        Training = new TrainerOptions { Epochs = epochs, BatchSize = 16, Seed = 3, Optimizer = new AdamOptions { LearningRate = 0.01 } },
    };

    [Test]
    public void InstanceNormalization_ShiftedCopyGetsTheShiftedForecast()
    {
        var series = Wave("a", 90, 50);
        using var fitted = new RnnForecaster(Small()).Fit([series]);
        var base0 = fitted.Predict(series).FirstTarget;
        var shifted = fitted.Predict(Shift(series, 1000)).FirstTarget;
        Assert.That(shifted.Select((v, h) => v - base0[h]), Is.All.EqualTo(1000).Within(1e-3), "a level never seen in training is no problem");
    }

    [Test]
    public void InstanceNormalization_ScaledCopyGetsTheScaledForecast()
    {
        var series = Wave("a", 90, 50);
        using var fitted = new RnnForecaster(Small()).Fit([series]);
        var base0 = fitted.Predict(series).FirstTarget;
        var scaled = fitted.Predict(series.WithColumns([series.Column(0).ToArray().Select(v => v * 7).ToArray()])).FirstTarget;
        Assert.That(scaled.Select((v, h) => v / base0[h]), Is.All.EqualTo(7).Within(1e-4));
    }

    [Test]
    public void MeanScaling_ScaledCopyGetsTheScaledForecastAndAZeroNetworkForecastsZero()
    {
        // Intermittent counts: zero on every seventh day.
        var values = Enumerable.Range(0, 90).Select(t => t % 7 == 5 ? 0.0 : 20 + 8 * Math.Sin(t * 0.9)).ToArray();
        var series = TimeSeries.FromValues("sku", values, Enumerable.Range(0, 90).Select(t => new DateTime(2022, 1, 3).AddDays(t)).ToArray());
        var options = Small() with { Normalization = InstanceNormalization.MeanScaling, NonNegative = true };
        using var fitted = new RnnForecaster(options).Fit([series]);
        var base0 = fitted.Predict(series).FirstTarget;
        var scaled = fitted.Predict(series.WithColumns([values.Select(v => v * 4).ToArray()])).FirstTarget;
        using var zero = new RnnForecaster(options with { Training = options.Training with { Epochs = 1 } }).Fit([series]);
        zero.Session.LoadParameters(new float[zero.Session.Layout.TotalLength]);
        Assert.Multiple(() =>
        {
            Assert.That(scaled.Select((v, h) => v - 4 * base0[h]), Is.All.EqualTo(0).Within(1e-6 * values.Max()), "scaling by a power of two is exact");
            Assert.That(zero.Predict(series).FirstTarget, Is.All.EqualTo(0), "no centring: a zero output is a zero forecast, whatever the level");
        });
        Assert.Throws<ArgumentOutOfRangeException>(() => new RnnForecaster(options with { Normalization = new InstanceNormalization { Center = (NormalizationCenter)9 } }));
    }

    [TestCase(ResidualBaselineKind.SeasonalNaive)]
    [TestCase(ResidualBaselineKind.Naive)]
    public void Residual_ZeroNetworkForecastsTheBaselineExactly(ResidualBaselineKind kind)
    {
        var series = Wave("a", 60, 20);
        var residual = new ResidualBaseline(kind, 7);
        using var fitted = new RnnForecaster(Small(epochs: 1) with { Residual = residual }).Fit([series]);
        fitted.Session.LoadParameters(new float[fitted.Session.Layout.TotalLength]);
        IBaselineModel baseline = kind == ResidualBaselineKind.Naive ? new NaiveModel() : new SeasonalNaiveModel(7);
        var expected = baseline.Forecast(series.Column(0), 7);
        Assert.That(fitted.Predict(series).FirstTarget, Is.EqualTo(expected).Within(1e-9));
    }

    [Test]
    public void Ensemble_IsTheMedianOfItsMembers()
    {
        var series = new[] { Wave("a", 70, 10), Wave("b", 70, 30, phase: 1) };
        var ensemble = new EnsembleForecaster([
            new RnnForecaster(Small(epochs: 3)),
            new RnnForecaster(Small(epochs: 3) with { Training = Small().Training with { Epochs = 3, Seed = 9 } }),
            new BaselineForecaster(new SeasonalNaiveModel(7), 7),
        ]);
        using var fitted = ensemble.Fit(series);
        var combined = fitted.Predict(series);
        var members = fitted.Members.Select(m => m.Predict(series)).ToArray();
        for (int s = 0; s < series.Length; s++)
            for (int h = 0; h < 7; h++)
            {
                var values = members.Select(m => m[s].FirstTarget[h]).Order().ToArray();
                Assert.That(combined[s].FirstTarget[h], Is.EqualTo(values[1]), $"series {s} step {h}");
            }
    }

    [Test]
    public void Ensemble_MeanAndSaveLoadKeepTheCombination()
    {
        var series = new[] { Wave("a", 70, 10) };
        using var fitted = new EnsembleForecaster([new RnnForecaster(Small(epochs: 2)), new BaselineForecaster(new NaiveModel(), 7)], EnsembleCombine.Mean).Fit(series);
        var members = fitted.Members.Select(m => m.Predict(series)[0].FirstTarget).ToArray();
        var mean = fitted.Predict(series)[0].FirstTarget;
        using var stream = new MemoryStream();
        fitted.Save(stream);
        stream.Position = 0;
        using var loaded = ForecasterFile.Load(stream);
        Assert.Multiple(() =>
        {
            Assert.That(mean, Is.EqualTo(members[0].Zip(members[1], (x, y) => (x + y) / 2)).Within(1e-12));
            Assert.That(loaded, Is.InstanceOf<FittedEnsemble>());
            Assert.That(loaded.Predict(series)[0].FirstTarget, Is.EqualTo(mean));
        });
    }

    [Test]
    public void SeriesBalancedSampling_DrawsEachSeriesEqually()
    {
        // One long and one short series: uniform draws favour the long one 9:1, balanced draws take each half the time.
        var series = new[] { Wave("long", 1000, 10), Wave("short", 120, 10) };
        var spec = new WindowSpec(10, 2);
        var dataset = WindowDataset.Create(series, spec);
        var source = dataset.Windows;
        var trainer = new Trainer(new TrainerOptions { Sampling = WindowSampling.SeriesBalanced, WindowsPerEpoch = 20_000 });
        var order = new int[20_000];
        trainer.DrawEpoch(source, order, [], seed: 5);
        double shortShare = order.Count(w => w >= source.FirstWindow(1)) / 20_000.0;
        Assert.That(shortShare, Is.EqualTo(0.5).Within(0.02));
    }

    [Test]
    public void WindowsPerEpoch_IsAReproducibleBudget()
    {
        var series = new[] { Wave("a", 300, 10), Wave("b", 300, 40, phase: 2) };
        var options = Small(epochs: 3) with { Training = Small().Training with { Epochs = 3, WindowsPerEpoch = 100, Sampling = WindowSampling.SeriesBalanced } };
        using var first = new RnnForecaster(options with { Backend = new SeqForecast.Engine.Managed.ManagedBackend(1) }).Fit(series);
        using var second = new RnnForecaster(options with { Backend = new SeqForecast.Engine.Managed.ManagedBackend(2) }).Fit(series);
        var a = new float[first.Session.Layout.TotalLength];
        var b = new float[a.Length];
        first.Session.CopyParametersTo(a);
        second.Session.CopyParametersTo(b);
        Assert.Multiple(() =>
        {
            Assert.That(b, Is.EqualTo(a), "same seed and budget: the same weights whatever the threads or machine load");
            Assert.That(first.Training!.History.Select(h => h.SamplesPerSecond > 0), Is.All.True);
            Assert.That(first.Report!.TrainingWindows, Is.GreaterThan(100), "the budget draws 100 of the windows each epoch");
        });
    }

    [Test]
    public void MaseMonitor_SelectsOnOriginalUnitMase()
    {
        var series = new[] { Wave("a", 120, 10), Wave("b", 120, 500, amplitude: 100) };
        var options = Small(epochs: 6) with
        {
            Training = Small().Training with { Epochs = 6, Monitor = ValidationMonitor.Mase, EarlyStopping = new EarlyStoppingOptions(10) },
        };
        using var fitted = new RnnForecaster(options).Fit(series, new FitOptions { ValidationLength = 7 });
        // The monitored value of the best epoch is the MASE of that epoch's validation forecasts: recompute it from the model.
        var history = series.Select(s => s.Slice(0, s.Length - 7)).ToArray();
        var forecasts = fitted.Predict(history);
        double mase = series.Select((s, i) => SeqForecast.Metrics.ForecastMetrics.Mase(s.Column(0)[^7..], forecasts[i].FirstTarget.ToArray(), history[i].Column(0), 1)).Average();
        Assert.That(fitted.Training!.BestLoss, Is.EqualTo(mase).Within(1e-4 * mase), "restore-best leaves the selected epoch's weights");
    }

    [Test]
    public void RefitOnFullData_TrainsTheBestEpochCountOnEverything()
    {
        var series = new[] { Wave("a", 100, 10) };
        var options = Small(epochs: 8) with
        {
            RefitOnFullData = true,
            Training = Small().Training with { Epochs = 8, EarlyStopping = new EarlyStoppingOptions(2) },
        };
        using var fitted = new RnnForecaster(options).Fit(series);
        Assert.Multiple(() =>
        {
            Assert.That(fitted.Report!.RefitEpochs, Is.EqualTo(fitted.Training!.BestEpoch));
            Assert.That(fitted.Report.ValidationWindows, Is.EqualTo(1), "the default validation holds one horizon");
        });
    }

    [Test]
    public void ShortSeries_PadTrainsOnThemAndSkipReportsThem()
    {
        var series = new[] { Wave("long", 200, 10), Wave("new", 20, 10) };
        using var padded = new RnnForecaster(Small(lookback: 28, epochs: 2)).Fit(series);
        using var skipped = new RnnForecaster(Small(lookback: 28, epochs: 2) with { ShortSeries = ShortSeriesPolicy.Skip }).Fit(series);
        var ex = Assert.Throws<ArgumentException>(() => new RnnForecaster(Small(lookback: 28, epochs: 2) with { ShortSeries = ShortSeriesPolicy.Error }).Fit(series));
        Assert.Multiple(() =>
        {
            Assert.That(padded.Report!.SkippedSeries, Is.Empty);
            Assert.That(padded.Predict(series[1].Slice(0, 9)).FirstTarget, Has.Count.EqualTo(7), "a padded model forecasts a 9-point history");
            Assert.That(skipped.Report!.SkippedSeries.Select(s => s.SeriesId), Is.EqualTo(new[] { "new" }));
            Assert.That(skipped.Report.SkippedSeries[0].Reason, Does.Contain("lookback 28 + horizon 7 needs at least 35"));
            Assert.That(ex!.Message, Does.Contain("series 'new' has 20 points; lookback 28 + horizon 7 needs at least 35"));
        });
    }

    [Test]
    public void SeasonalLags_AddOneInputPerLagAndTarget()
    {
        var options = Small(epochs: 1) with { Window = new WindowSpec(7, 7) { SeasonalLags = [7, 14] } };
        using var fitted = new RnnForecaster(options).Fit([Wave("a", 80, 10)]);
        Assert.That(fitted.Info.FeatureNames, Is.EqualTo(new[] { "value", "observed", "value_lag7", "value_lag14" }));
    }

    [TestCase(LossKind.ScaledMae)]
    [TestCase(LossKind.Smape)]
    public void MetricAlignedLosses_TrainAForecaster(LossKind kind)
    {
        var series = new[] { Wave("a", 150, 10), Wave("b", 150, 1000, amplitude: 300) };
        using var fitted = new RnnForecaster(Small(epochs: 20) with { Training = Small().Training with { Epochs = 20, Loss = new LossOptions(kind) } }).Fit(series);
        var losses = fitted.Training!.History.Select(h => h.TrainLoss).ToArray();
        Assert.That(losses[^1], Is.LessThan(losses[0] * 0.7), $"{kind} training lowers the loss");
    }
}
