using SeqForecast.Baselines;
using SeqForecast.Data;
using SeqForecast.Forecasting;
using SeqForecast.Metrics;
using SeqForecast.Randomness;
using SeqForecast.Splits;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Forecasting;

/// <summary>Quantile forecasts, conformal intervals, interval metrics and backtests that refit.</summary>
public class ProbabilisticTests
{
    private static TimeSeries Noisy(string id, int length, ulong seed, double level = 20)
    {
        var random = new DeterministicRandom(seed);
        return TimeSeries.FromValues(id, Enumerable.Range(0, length).Select(t => level + 5 * Math.Sin(2 * Math.PI * t / 7) + 3 * Gaussian(random)).ToArray(),
            Enumerable.Range(0, length).Select(t => new DateTime(2022, 1, 3).AddDays(t)).ToArray());
    }

    private static double Gaussian(DeterministicRandom random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    private static RnnForecasterOptions Quantile(int epochs = 10) => new(new WindowSpec(14, 7))
    {
        HiddenSize = 16,
        Layers = 1,
        Training = new TrainerOptions { Epochs = epochs, BatchSize = 32, Seed = 2, Loss = LossOptions.Pinball(0.05, 0.5, 0.95), Optimizer = new AdamOptions { LearningRate = 0.01 } },
    };

    [Test]
    public void QuantileForecast_NeverCrossesOnRandomInputs()
    {
        using var model = new RnnForecaster(Quantile(epochs: 2)).Fit([Noisy("a", 100, 1)]);
        var random = new DeterministicRandom(4);
        var inputs = Enumerable.Range(0, 200).Select(i => TimeSeries.FromValues($"r{i}",
            Enumerable.Range(0, 14).Select(_ => (random.NextDouble() - 0.5) * 1000 * random.NextDouble()).ToArray())).ToArray();
        var predictions = model.Predict(inputs);
        Assert.Multiple(() =>
        {
            Assert.That(model.QuantileLevels, Is.EqualTo(new[] { 0.05, 0.5, 0.95 }));
            foreach (var p in predictions)
                for (int h = 0; h < 7; h++)
                {
                    Assert.That(p.Quantiles[0][0][h], Is.LessThanOrEqualTo(p.Quantiles[0][1][h]), $"{p.SeriesId} step {h}");
                    Assert.That(p.Quantiles[0][1][h], Is.LessThanOrEqualTo(p.Quantiles[0][2][h]), $"{p.SeriesId} step {h}");
                    Assert.That(p.FirstTarget[h], Is.EqualTo(p.Quantiles[0][1][h]), "the median is the point forecast");
                }
        });
    }

    [Test]
    public void QuantileForecast_SaveLoadKeepsLevelsAndValues()
    {
        var series = new[] { Noisy("a", 100, 1), Noisy("b", 100, 2, 50) };
        using var model = new RnnForecaster(Quantile(epochs: 3)).Fit(series);
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        using var loaded = FittedRnnForecaster.Load(stream);
        var before = model.Predict(series);
        var after = loaded.Predict(series);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.QuantileLevels, Is.EqualTo(model.QuantileLevels));
            for (int s = 0; s < 2; s++)
            {
                Assert.That(after[s].Interval(0.9).Lower, Is.EqualTo(before[s].Interval(0.9).Lower));
                Assert.That(after[s].Interval(0.9).Upper, Is.EqualTo(before[s].Interval(0.9).Upper));
            }
        });
    }

    [Test]
    public void QuantileForecast_LearnsWiderBandsForNoisierSeries()
    {
        var calm = TimeSeries.FromValues("calm", Enumerable.Range(0, 300).Select(t => 10 + Math.Sin(t * 0.9) * 0.1).ToArray());
        var random = new DeterministicRandom(7);
        var wild = TimeSeries.FromValues("wild", Enumerable.Range(0, 300).Select(t => 10 + 4 * Gaussian(random)).ToArray());
        using var model = new RnnForecaster(Quantile(epochs: 10)).Fit([calm, wild]);
        var p = model.Predict([calm, wild]);
        double Width(Prediction x) => x.Quantiles[0][2].Zip(x.Quantiles[0][0], (u, l) => u - l).Average();
        Assert.That(Width(p[1]), Is.GreaterThan(5 * Width(p[0])), $"widths {Width(p[0]):F3} and {Width(p[1]):F3}");
    }

    [Test]
    public void ConformalQuantile_ReachesNominalCoverageOnIidScores()
    {
        var random = new DeterministicRandom(11);
        var calibration = Enumerable.Range(0, 1000).Select(_ => Math.Abs(Gaussian(random))).ToArray();
        double q = ConformalForecaster.ConformalQuantile(calibration, 0.9);
        int inside = 0;
        for (int i = 0; i < 10_000; i++) if (Math.Abs(Gaussian(random)) <= q) inside++;
        Assert.That(inside / 10_000.0, Is.EqualTo(0.9).Within(0.02));
    }

    [Test]
    public void Conformal_NaiveIntervalsCoverIidNoiseAtTheNominalRate()
    {
        // Level plus i.i.d. noise: the naive forecast's errors are exchangeable across series and origins.
        var random = new DeterministicRandom(21);
        TimeSeries Draw(string id) => TimeSeries.FromValues(id, Enumerable.Range(0, 60).Select(_ => 100 + 10 * Gaussian(random)).ToArray());
        var calibration = Enumerable.Range(0, 2500).Select(i => Draw($"c{i}")).ToArray();
        var conformal = new ConformalForecaster(new BaselineForecaster(new NaiveModel(), 4), new ConformalOptions(4) { Levels = [0.9], CalibrationOrigins = 1 });
        using var fitted = conformal.Fit(calibration);
        var test = Enumerable.Range(0, 2500).Select(i => Draw($"t{i}")).ToArray();
        var histories = test.Select(s => s.Slice(0, 56)).ToArray();
        var predictions = fitted.Predict(histories);
        int inside = 0, total = 0;
        for (int s = 0; s < test.Length; s++)
        {
            var (lower, upper) = predictions[s].Interval(0.9);
            for (int h = 0; h < 4; h++, total++) if (test[s].Column(0)[56 + h] >= lower[h] && test[s].Column(0)[56 + h] <= upper[h]) inside++;
        }
        Assert.Multiple(() =>
        {
            Assert.That(fitted.CalibrationScores, Is.EqualTo(2500));
            Assert.That(inside / (double)total, Is.EqualTo(0.9).Within(0.02), "10,000 test points");
            Assert.That(fitted.QuantileLevels, Is.EqualTo(new[] { 0.05, 0.5, 0.95 }));
        });
    }

    [Test]
    public void Conformal_SaveLoadKeepsTheCalibration()
    {
        var series = Enumerable.Range(0, 5).Select(i => Noisy($"s{i}", 80, (ulong)i)).ToArray();
        using var fitted = new ConformalForecaster(new BaselineForecaster(new SeasonalNaiveModel(7), 7), new ConformalOptions(7)).Fit(series);
        using var stream = new MemoryStream();
        fitted.Save(stream);
        stream.Position = 0;
        using var loaded = ForecasterFile.Load(stream);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.QuantileLevels, Is.EqualTo(new[] { 0.025, 0.1, 0.5, 0.9, 0.975 }));
            Assert.That(loaded.Predict(series)[0].Quantiles[0][0], Is.EqualTo(fitted.Predict(series)[0].Quantiles[0][0]));
        });
    }

    [Test]
    public void IntervalMetrics_MatchHandValues()
    {
        double[] y = [1, 5, 10], lower = [0, 6, 8], upper = [2, 7, 9];
        Assert.Multiple(() =>
        {
            Assert.That(IntervalMetrics.Coverage(y, lower, upper), Is.EqualTo(1.0 / 3));
            Assert.That(IntervalMetrics.MeanWidth(lower, upper), Is.EqualTo(4.0 / 3));
            // widths 2, 1, 1; penalties 2/0.1·(6−5) and 2/0.1·(10−9); scale of history [0, 2, 4] with m = 1 is 2
            Assert.That(IntervalMetrics.Msis(y, lower, upper, [0, 2, 4], 1, 0.1), Is.EqualTo((2 + 1 + 1 + 20 + 20) / 3.0 / 2));
            Assert.That(IntervalMetrics.Pinball([1.0, 3], [2.0, 2], 0.9), Is.EqualTo((0.1 * 1 + 0.9 * 1) / 2).Within(1e-12));
        });
    }

    /// <summary>Counts fits and remembers each fit's training data.</summary>
    private sealed class CountingForecaster(IForecaster inner) : IForecaster
    {
        public List<IReadOnlyList<TimeSeries>> Fits { get; } = [];

        public string Name => inner.Name;

        public IFittedForecaster Fit(IReadOnlyList<TimeSeries> series, FitOptions? options = null)
        {
            Fits.Add(series);
            return inner.Fit(series, options);
        }
    }

    [TestCase(0, 1)]
    [TestCase(1, 4)]
    [TestCase(2, 2)]
    public void Backtest_RefitsAsOftenAsItSaysAndEqualsModelsFittedByHand(int refitEvery, int expectedFits)
    {
        var series = new[] { Noisy("a", 90, 1), Noisy("b", 90, 2, 40) };
        var options = new RnnForecasterOptions(new WindowSpec(14, 7)) { HiddenSize = 8, Layers = 1, Training = new TrainerOptions { Epochs = 2, Seed = 4 } };
        var counting = new CountingForecaster(new RnnForecaster(options));
        var backtest = new BacktestOptions(62, 7) { RefitEvery = refitEvery };
        var result = Backtesting.Run(counting, series, backtest, seasonalPeriod: 7);
        Assert.Multiple(() =>
        {
            Assert.That(result.Fits, Is.EqualTo(expectedFits));
            Assert.That(counting.Fits, Has.Count.EqualTo(expectedFits));
            Assert.That(result.Forecasts, Has.Count.EqualTo(2 * 4 * 7), "2 series × 4 folds × 7 steps");
            Assert.That(result.Metrics.PerSeries.Select(p => p.SeriesId).Take(2), Is.EqualTo(new[] { "a@62", "b@62" }));
        });
        // By hand: fit on the data before each refit fold's origin, forecast each fold from its history.
        var folds = WalkForward.Folds(90, backtest);
        IFittedForecaster? model = null;
        for (int k = 0; k < folds.Count; k++)
        {
            if (model is null || (refitEvery > 0 && k % refitEvery == 0))
            {
                model?.Dispose();
                model = new RnnForecaster(options).Fit(series.Select(s => folds[k].Train(s)).ToArray());
            }
            var forecasts = model.Predict(series.Select(s => s.Slice(0, folds[k].Origin)).ToArray(), 7);
            for (int s = 0; s < 2; s++)
            {
                var fromBacktest = result.Forecasts.Where(f => f.SeriesId == series[s].Id && f.Origin == folds[k].Origin).OrderBy(f => f.Step).Select(f => f.Value);
                Assert.That(fromBacktest, Is.EqualTo(forecasts[s].FirstTarget), $"fold {k}, series {series[s].Id}");
            }
        }
        model?.Dispose();
    }

    [Test]
    public void Backtest_BaselinesTakeTheSamePathWithIntervals()
    {
        var series = Enumerable.Range(0, 6).Select(i => Noisy($"s{i}", 120, (ulong)i)).ToArray();
        var conformal = new ConformalForecaster(new BaselineForecaster(new SeasonalNaiveModel(7), 7), new ConformalOptions(7) { Levels = [0.9] });
        var result = Backtesting.Run(conformal, series, new BacktestOptions(90, 7) { RefitEvery = 1 }, seasonalPeriod: 7);
        Assert.Multiple(() =>
        {
            Assert.That(result.Fits, Is.EqualTo(4));
            Assert.That(result.QuantileLevels, Is.EqualTo(new[] { 0.05, 0.5, 0.95 }));
            Assert.That(result.Intervals.Single().Coverage, Is.EqualTo(0.9));
            Assert.That(result.Intervals.Single().Empirical, Is.InRange(0.6, 1.0));
            Assert.That(result.Forecasts.All(f => f.Quantiles.Count == 3 && f.Quantiles[0] <= f.Quantiles[2]), Is.True);
            Assert.That(result.Pinball, Is.GreaterThan(0));
        });
    }
}
