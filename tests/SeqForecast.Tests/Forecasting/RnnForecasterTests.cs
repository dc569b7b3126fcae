using SeqForecast.Baselines;
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Forecasting;
using SeqForecast.Metrics;
using SeqForecast.Scaling;
using SeqForecast.Splits;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Forecasting;

public class RnnForecasterTests
{
    private static TimeSeries Wave(string id, int length, double level, double phase = 0)
    {
        var t0 = new DateTime(2021, 1, 4);
        return TimeSeries.FromValues(id, Enumerable.Range(0, length).Select(t => level + 10 * Math.Sin(2 * Math.PI * t / 7 + phase)).ToArray(),
            Enumerable.Range(0, length).Select(t => t0.AddDays(t)).ToArray());
    }

    private static RnnForecasterOptions Small(int lookback = 14, int horizon = 7, int epochs = 40) => new(new WindowSpec(lookback, horizon))
    {
        HiddenSize = 16,
        Layers = 1,
        Training = new TrainerOptions { Epochs = epochs, BatchSize = 16, Seed = 7, Optimizer = new AdamOptions { LearningRate = 0.01 } },
    };

    [Test]
    public void Fit_AirlineLstmBeatsSeasonalNaiveOnMase()
    {
        // Acceptance: last 24 months held out; one-layer LSTM, direct 24-step head.
        var series = SeriesCsv.ReadWide(TestPaths.Data("airline-passengers.csv"), new WideCsvFormat { DateColumn = "Month" }, SeriesCleaningOptions.Strict).Series;
        var history = series[0].Slice(0, 120);
        var options = new RnnForecasterOptions(new WindowSpec(12, 24))
        {
            HiddenSize = 32,
            Layers = 1,
            Training = new TrainerOptions { Epochs = 300, BatchSize = 16, Seed = 1, Optimizer = new AdamOptions { LearningRate = 0.01 } },
        };
        using var fitted = new RnnForecaster(options).Fit([history]);
        var (report, _) = fitted.Evaluate(series, holdout: 24, seasonalPeriod: 12);
        var seasonalNaive = new SeasonalNaiveModel(12).Forecast(history.Column(0), 24);
        double baselineMase = ForecastMetrics.Mase(series[0].Column(0)[120..], seasonalNaive, history.Column(0), 12);
        var losses = fitted.Training!.History.Select(h => h.TrainLoss).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(losses[^1], Is.LessThan(losses[0] / 10), "training drives the loss down");
            Assert.That(report.Overall.Mase, Is.LessThan(baselineMase), $"LSTM MASE {report.Overall.Mase:F3} vs seasonal naive {baselineMase:F3}");
        });
    }

    [Test]
    public void Predict_GlobalModelForecastsManySeriesInOriginalUnits()
    {
        var series = new[] { Wave("a", 120, 50), Wave("b", 120, 500, 1.0) };
        using var fitted = new RnnForecaster(Small(epochs: 60)).Fit(series, validationLength: 14);
        var (report, predictions) = fitted.Evaluate(series, holdout: 7, seasonalPeriod: 7);
        Assert.Multiple(() =>
        {
            Assert.That(predictions.Select(p => p.SeriesId), Is.EqualTo(new[] { "a", "b" }));
            Assert.That(predictions[1].FirstTarget.Average(), Is.EqualTo(500).Within(15), "inverse-scaled to the series' own level");
            Assert.That(predictions[0].Timestamps[0], Is.EqualTo(series[0].Timestamps[^7]));
            Assert.That(report.Overall.Smape, Is.LessThan(10));
        });
    }

    [Test]
    public void Predict_RecursiveBeyondTrainedHorizon()
    {
        var series = Wave("a", 150, 50);
        using var fitted = new RnnForecaster(Small(epochs: 60)).Fit([series]);
        var direct = fitted.Predict(series);
        var longer = fitted.Predict(series, horizon: 20);
        Assert.Multiple(() =>
        {
            Assert.That(longer.FirstTarget, Has.Count.EqualTo(20));
            Assert.That(longer.FirstTarget.Take(7), Is.EqualTo(direct.FirstTarget).Within(1e-9), "the first block is the direct forecast");
            Assert.That(longer.Timestamps[19], Is.EqualTo(series.Timestamps[^1].AddDays(20)));
            Assert.That(longer.FirstTarget.Skip(7), Is.All.InRange(20.0, 80.0));
        });
    }

    [Test]
    public void Predict_RecursiveWithExtraFeaturesIsInvalid()
    {
        var t0 = new DateTime(2021, 1, 1);
        var series = new TimeSeries("a", ["y", "promo"], [Enumerable.Range(0, 40).Select(i => (double)(i % 7)).ToArray(), new double[40]], Enumerable.Range(0, 40).Select(i => t0.AddDays(i)).ToArray());
        var options = Small(7, 3, 2) with { Window = new WindowSpec(7, 3) { Features = ["promo"] } };
        using var fitted = new RnnForecaster(options).Fit([series]);
        var ex = Assert.Throws<ArgumentException>(() => fitted.Predict(series, horizon: 6));
        Assert.That(ex!.Message, Does.Contain("recursive decoding cannot forecast the past covariates (promo)"));
    }

    [Test]
    public void Fit_TooShortSeriesNamesTheRule()
    {
        var ex = Assert.Throws<ArgumentException>(() => new RnnForecaster(Small(30, 7) with { ShortSeries = ShortSeriesPolicy.Error }).Fit([Wave("SKU-7", 12, 5)]));
        Assert.That(ex!.Message, Does.StartWith("series 'SKU-7' has 12 points; lookback 30 + horizon 7 needs at least 37"));
    }

    [Test]
    public void Fit_ValidationShorterThanHorizonIsRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() => new RnnForecaster(Small()).Fit([Wave("a", 100, 5)], validationLength: 3));
        Assert.That(ex!.Message, Does.Contain("validation length >= 7"));
    }

    [Test]
    public void Fit_ScalerSeesOnlyTheTrainingPart()
    {
        // A spike in the test part must not change the fitted scale.
        var values = Enumerable.Range(0, 60).Select(i => (double)(i % 7)).Concat(Enumerable.Repeat(1000.0, 7)).ToArray();
        var series = TimeSeries.FromValues("a", values);
        var split = ChronologicalSplit.Split([series], validationLength: 0, testLength: 7, contextLength: 14);
        using var fitted = new RnnForecaster(Small(epochs: 1) with { Normalization = null, Scaler = new MinMaxScaler() }).Fit(split);
        Assert.That(fitted.Scaler!.Get("a", "value").Invert(1.0), Is.EqualTo(6.0).Within(1e-12));
    }

    [Test]
    public void Backtest_ScoresEveryFold()
    {
        var series = Wave("a", 100, 50);
        using var fitted = new RnnForecaster(Small(epochs: 30)).Fit([series.Slice(0, 80)]);
        var report = fitted.Backtest([series], new BacktestOptions(79, 7) { Step = 7 }, seasonalPeriod: 7);
        Assert.Multiple(() =>
        {
            Assert.That(report.Metrics.PerSeries.Select(p => p.SeriesId), Is.EqualTo(new[] { "a@79", "a@86", "a@93" }));
            Assert.That(report.Metrics.Overall.Mase, Is.GreaterThan(0));
        });
    }

    [Test]
    public void Options_RejectOutOfRangeValues()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RnnForecaster(Small() with { HiddenSize = 0 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RnnForecaster(Small() with { Dropout = 1 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RnnForecaster(Small() with { Training = new TrainerOptions { Epochs = 0 } }));
            Assert.Throws<ArgumentOutOfRangeException>(() => _ = new RnnForecaster(Small() with { Training = new TrainerOptions { Optimizer = new AdamOptions { LearningRate = -1 } } }));
        });
    }

    [Test]
    public void Predict_UnknownSeriesWithPerSeriesScalerUsesItsOwnHistory()
    {
        // A per-series scaler has no statistics for a new series: it is scaled by a scaler fitted on its own history.
        using var fitted = new RnnForecaster(Small(epochs: 40) with { Normalization = null, Scaler = new MinMaxScaler() }).Fit([Wave("a", 120, 5)]);
        var forecast = fitted.Predict(Wave("zzz", 60, 500)).FirstTarget;
        Assert.That(forecast.Average(), Is.EqualTo(500).Within(15), "forecast at the new series' own level");
    }

    [Test]
    public void Predict_GlobalScalerServesUnseenSeries()
    {
        var options = Small(epochs: 1) with { Normalization = null, Scaler = new StandardScaler(new StandardScalerOptions { Scope = ScalingScope.Global }), Cell = CellType.Gru };
        using var fitted = new RnnForecaster(options).Fit([Wave("a", 60, 5)]);
        Assert.That(fitted.Predict(Wave("new", 30, 5)).FirstTarget, Has.Count.EqualTo(7));
    }

    [Test]
    public void Predict_NonNegativeClampsAtZeroAndSurvivesSaveLoad()
    {
        // A series that falls steeply: an unclamped forecast goes below zero.
        var series = TimeSeries.FromValues("down", Enumerable.Range(0, 80).Select(t => 100.0 - 1.5 * t).ToArray());
        var options = Small(10, 7, 80) with { NonNegative = true };
        using var fitted = new RnnForecaster(options).Fit([series]);
        using var raw = new RnnForecaster(options with { NonNegative = false }).Fit([series]);
        var path = Path.Combine(Path.GetTempPath(), $"nonneg-{Guid.NewGuid():N}.safetensors");
        try
        {
            fitted.Save(path);
            using var loaded = FittedRnnForecaster.Load(path);
            Assert.Multiple(() =>
            {
                Assert.That(raw.Predict(series).FirstTarget.Min(), Is.LessThan(0), "the unclamped network extrapolates below zero");
                Assert.That(fitted.Predict(series).FirstTarget, Is.All.GreaterThanOrEqualTo(0.0));
                Assert.That(loaded.Predict(series).FirstTarget, Is.All.GreaterThanOrEqualTo(0.0));
                Assert.That(loaded.NonNegative, Is.True);
            });
        }
        finally
        {
            File.Delete(path);
        }
    }
    [Test]
    public void Predict_RoundForecastsGivesWholeNumbersThatMatchTheUnroundedModelAndSurvivesSaveLoad()
    {
        var series = Wave("counts", 80, 20);
        var options = Small(10, 7, 80) with { RoundForecasts = true };
        using var rounded = new RnnForecaster(options).Fit([series]);
        using var plain = new RnnForecaster(options with { RoundForecasts = false }).Fit([series]);
        var path = Path.Combine(Path.GetTempPath(), $"round-{Guid.NewGuid():N}.safetensors");
        try
        {
            rounded.Save(path);
            using var loaded = FittedRnnForecaster.Load(path);
            var expected = plain.Predict(series).FirstTarget.Select(v => Math.Round(v, MidpointRounding.AwayFromZero)).ToArray();
            Assert.Multiple(() =>
            {
                Assert.That(plain.Predict(series).FirstTarget.Any(v => v != Math.Round(v)), Is.True, "the unrounded forecast has fractions");
                Assert.That(rounded.Predict(series).FirstTarget, Is.EqualTo(expected), "same seed, same network: rounding is the only difference");
                Assert.That(loaded.Predict(series).FirstTarget, Is.EqualTo(expected));
                Assert.That(loaded.RoundForecasts, Is.True);
                Assert.That(loaded.Info.RoundForecasts, Is.True);
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Predict_PointRulesReadThePointFromTheForecastQuantilesAndSurviveSaveLoad()
    {
        var series = Wave("sales", 80, 12);
        double[] levels = [0.1, 0.25, 0.5, 0.75, 0.9];
        var quantile = Small(10, 7, 25) with { NonNegative = true };
        quantile = quantile with { Training = quantile.Training with { Loss = LossOptions.Pinball(levels) } };
        using var median = new RnnForecaster(quantile).Fit([series]);
        using var smape = new RnnForecaster(quantile with { Point = PointForecast.MinimumSmape }).Fit([series]);
        using var mean = new RnnForecaster(quantile with { Point = PointForecast.Mean }).Fit([series]);
        Prediction m = median.Predict(series), s = smape.Predict(series), a = mean.Predict(series);
        var draws = new double[QuantilePoint.Draws];
        double Expected(PointForecast rule, int h) => QuantilePoint.Point(rule, levels, levels.Select(l => m.Quantile(l)[h]).ToArray(), false, draws);
        var path = Path.Combine(Path.GetTempPath(), $"point-{Guid.NewGuid():N}.safetensors");
        try
        {
            smape.Save(path);
            using var loaded = FittedRnnForecaster.Load(path);
            Assert.Multiple(() =>
            {
                Assert.That(s.Quantiles, Is.EqualTo(m.Quantiles), "same seed, same network: the quantiles do not depend on the point rule");
                Assert.That(m.FirstTarget, Is.EqualTo(m.Quantile(0.5)), "the default point is the median");
                for (int h = 0; h < 7; h++)
                {
                    Assert.That(s.FirstTarget[h], Is.EqualTo(Expected(PointForecast.MinimumSmape, h)), $"step {h}");
                    Assert.That(a.FirstTarget[h], Is.EqualTo(Expected(PointForecast.Mean, h)), $"step {h}");
                }
                Assert.That(s.FirstTarget, Is.Not.EqualTo(m.FirstTarget), "the rules give different points here");
                Assert.That(loaded.Point, Is.EqualTo(PointForecast.MinimumSmape));
                Assert.That(loaded.Info.Point, Is.EqualTo(PointForecast.MinimumSmape));
                Assert.That(loaded.Predict(series).FirstTarget, Is.EqualTo(s.FirstTarget));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Options_PointRuleOtherThanMedianNeedsAQuantileLoss()
    {
        var error = Assert.Throws<ArgumentException>(() => new RnnForecaster(Small() with { Point = PointForecast.MinimumSmape }));
        Assert.Multiple(() =>
        {
            Assert.That(error!.ParamName, Is.EqualTo("Point"));
            Assert.That(error.Message, Does.Contain("pinball loss with at least three levels"));
        });
        Assert.Throws<ArgumentException>(() => new RnnForecaster(Small() with { Point = PointForecast.Mean, Training = Small().Training with { Loss = LossOptions.Pinball(0.1, 0.9) } }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RnnForecaster(Small() with { Point = (PointForecast)7 }));
    }
}
