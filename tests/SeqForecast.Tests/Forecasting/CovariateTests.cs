using SeqForecast.Data;
using SeqForecast.Forecasting;
using SeqForecast.Metrics;
using SeqForecast.Randomness;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Forecasting;

/// <summary>Known-future and static covariates: they reach the network, they pay off, and they travel with model files.</summary>
public class CovariateTests
{
    private static readonly DateTime Start = new(2023, 1, 2);
    private const int Horizon = 7;

    /// <summary>Daily sales with a weekly pattern; a promotion (about one day in five) lifts the day's sales by 80%.</summary>
    private static TimeSeries Promoted(string id, int length, ulong seed, double level)
    {
        var random = new DeterministicRandom(seed);
        var promo = new double[length];
        var sales = new double[length];
        for (int t = 0; t < length; t++)
        {
            promo[t] = random.NextDouble() < 0.2 ? 1 : 0;
            double weekly = level * (1 + 0.3 * Math.Sin(2 * Math.PI * t / 7));
            sales[t] = weekly * (1 + 0.8 * promo[t]) + level * 0.05 * (random.NextDouble() - 0.5);
        }
        return new TimeSeries(id, ["sales", "promo"], [sales, promo], Enumerable.Range(0, length).Select(d => Start.AddDays(d)).ToArray());
    }

    private static RnnForecasterOptions Options(WindowSpec window, int epochs = 40) => new(window)
    {
        HiddenSize = 32,
        Layers = 1,
        Training = new TrainerOptions
        {
            Epochs = epochs, BatchSize = 32, Seed = 5, Optimizer = new AdamOptions { LearningRate = 0.005 },
            WindowsPerEpoch = 1024, Sampling = WindowSampling.SeriesBalanced, GradientClipNorm = 1.0,
        },
    };

    /// <summary>Mean absolute error over held-out windows: the last four weeks of each series, one week at a time.</summary>
    private static double HeldOutMae(IFittedForecaster model, IReadOnlyList<TimeSeries> series)
    {
        var errors = new List<double>();
        foreach (var s in series)
            for (int origin = s.Length - 4 * Horizon; origin < s.Length; origin += Horizon)
            {
                var history = s.Slice(0, origin);
                var future = s.Slice(origin, Horizon);
                var forecast = model.Predict(history, future: future).FirstTarget.ToArray();
                errors.Add(ForecastMetrics.Mae(future.Column("sales"), forecast));
            }
        return errors.Average();
    }

    [Test]
    public void FutureCovariate_CutsHeldOutMaeByAtLeast40Percent()
    {
        var series = Enumerable.Range(0, 8).Select(i => Promoted($"p{i}", 280, (ulong)(i + 1), 20 + 10 * i)).ToArray();
        var training = series.Select(s => s.Slice(0, s.Length - 4 * Horizon)).ToArray();
        var window = new WindowSpec(14, Horizon) { Targets = ["sales"] };
        using var without = new RnnForecaster(Options(window)).Fit(training);
        using var with = new RnnForecaster(Options(window with { FutureCovariates = ["promo"] })).Fit(training);
        double maeWithout = HeldOutMae(without, series), maeWith = HeldOutMae(with, series);
        Assert.That(maeWith, Is.LessThan(0.6 * maeWithout), $"MAE with the promotion plan {maeWith:F3}, without {maeWithout:F3}");
    }

    [Test]
    public void StaticCategory_LowersMae()
    {
        // The category decides the direction of each series' trend, which four noisy points barely show.
        var random = new DeterministicRandom(3);
        var series = Enumerable.Range(0, 12).Select(i =>
        {
            double slope = i % 2 == 0 ? 1 : -1;
            var values = Enumerable.Range(0, 200).Select(t => 100 + slope * (t % 40) + 3 * (random.NextDouble() - 0.5)).ToArray();
            return new TimeSeries($"s{i}", ["y"], [values], Enumerable.Range(0, 200).Select(d => Start.AddDays(d)).ToArray(),
                new Dictionary<string, StaticValue> { ["group"] = i % 2 == 0 ? "rising" : "falling" });
        }).ToArray();
        var training = series.Select(s => s.Slice(0, 160)).ToArray();
        var window = new WindowSpec(4, Horizon);
        using var without = new RnnForecaster(Options(window, epochs: 30)).Fit(training);
        using var with = new RnnForecaster(Options(window with { StaticCovariates = ["group"] }, epochs: 30)).Fit(training);
        double Mae(IFittedForecaster model) => series.Select(s =>
        {
            var errors = new List<double>();
            for (int origin = 165; origin <= 185; origin += 10)
                errors.Add(ForecastMetrics.Mae(s.Column(0)[origin..(origin + Horizon)], model.Predict(s.Slice(0, origin)).FirstTarget.ToArray()));
            return errors.Average();
        }).Average();
        double maeWithout = Mae(without), maeWith = Mae(with);
        Assert.That(maeWith, Is.LessThan(maeWithout), $"MAE with the static group {maeWith:F3}, without {maeWithout:F3}");
    }

    [Test]
    public void Predict_WithoutFutureValuesNamesTheCovariateAndTheStepsNeeded()
    {
        var series = Promoted("a", 80, 1, 10);
        using var model = new RnnForecaster(Options(new WindowSpec(14, Horizon) { Targets = ["sales"], FutureCovariates = ["promo"] }, epochs: 1)).Fit([series]);
        var missing = Assert.Throws<ArgumentException>(() => model.Predict(series));
        var shortFuture = Assert.Throws<ArgumentException>(() => model.Predict(series, future: Promoted("a", 3, 2, 10)));
        Assert.Multiple(() =>
        {
            Assert.That(missing!.Message, Does.Contain("covariate 'promo' needs 7 future values"));
            Assert.That(shortFuture!.Message, Does.Contain("covariate 'promo' needs 7 future values for series 'a'; got 3"));
        });
    }

    [Test]
    public void Predict_RecursiveBeyondTheHorizonUsesTheFutureValues()
    {
        var series = Promoted("a", 120, 1, 10);
        using var model = new RnnForecaster(Options(new WindowSpec(14, Horizon) { Targets = ["sales"], FutureCovariates = ["promo"] }, epochs: 2)).Fit([series]);
        var future = Promoted("a", 21, 9, 10);
        var forecast = model.Predict(series, horizon: 21, future: future);
        var tooShort = Assert.Throws<ArgumentException>(() => model.Predict(series, horizon: 21, future: future.Slice(0, 14)));
        Assert.Multiple(() =>
        {
            Assert.That(forecast.FirstTarget, Has.Count.EqualTo(21));
            Assert.That(forecast.Timestamps[20], Is.EqualTo(series.Timestamps[^1].AddDays(21)));
            Assert.That(tooShort!.Message, Does.Contain("needs 21 future values for series 'a'; got 14"));
        });
    }

    [Test]
    public void SaveLoad_KeepsCovariateDefinitionsAndPredictions()
    {
        var series = new[] { Promoted("a", 90, 1, 10), Promoted("b", 90, 2, 30) }
            .Select((s, i) => s.WithStatics(new Dictionary<string, StaticValue> { ["store"] = i == 0 ? "north" : "south", ["size"] = 10.0 * (i + 1) })).ToArray();
        var window = new WindowSpec(14, Horizon)
        {
            Targets = ["sales"], FutureCovariates = ["promo"], StaticCovariates = ["store", "size"], Calendar = CalendarFeatures.DayOfWeek,
            Holidays = new HolidayCalendar("test", [Start.AddDays(95)]), SeasonalLags = [7],
        };
        using var model = new RnnForecaster(Options(window, epochs: 2)).Fit(series);
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        using var loaded = FittedRnnForecaster.Load(stream);
        var future = series.Select((s, i) => Promoted(s.Id, Horizon, 7 + (ulong)i, 10)).ToArray();
        var before = model.Predict(series, new PredictOptions { Future = future });
        var after = loaded.Predict(series, new PredictOptions { Future = future });
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Window, Is.EqualTo(model.Window));
            Assert.That(loaded.Info.FeatureNames, Is.EqualTo(model.Info.FeatureNames));
            Assert.That(loaded.Info.FeatureNames, Does.Contain("store=south").And.Contain("size").And.Contain("holiday").And.Contain("promo"));
            for (int s = 0; s < series.Length; s++) Assert.That(after[s].FirstTarget, Is.EqualTo(before[s].FirstTarget));
        });
    }

    [Test]
    public void Predict_SeriesAbsentFromTrainingWithDefaultOptions()
    {
        var series = Enumerable.Range(0, 3).Select(i => Promoted($"p{i}", 120, (ulong)i, 10)).Select(s => s.SelectColumns(["sales"])).ToArray();
        using var model = new RnnForecaster(new RnnForecasterOptions(new WindowSpec(14, Horizon)) { Training = new TrainerOptions { Epochs = 2 } }).Fit(series);
        var newcomer = Promoted("brand-new", 40, 99, 500).SelectColumns(["sales"]);
        var forecast = model.Predict(newcomer).FirstTarget;
        Assert.That(forecast.Average(), Is.InRange(250.0, 1000.0), "forecast at the new product's own level");
    }
}
