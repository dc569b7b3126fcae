using SeqForecast.Baselines;

namespace SeqForecast.Tests.Baselines;

public class NaiveModelsTests
{
    [Test]
    public void Naive_RepeatsLastValue()
    {
        Assert.That(new NaiveModel().Forecast([1.0, 2, 5], 3), Is.EqualTo(new[] { 5.0, 5, 5 }));
    }

    [Test]
    public void Naive_AcceptsLengthOne()
    {
        Assert.That(new NaiveModel().Forecast([4.0], 2), Is.EqualTo(new[] { 4.0, 4 }));
    }

    [Test]
    public void SeasonalNaive_RepeatsLastSeason()
    {
        var history = new[] { 9.0, 1, 2, 3, 4, 5, 6, 7 };
        Assert.That(new SeasonalNaiveModel(3).Forecast(history, 7), Is.EqualTo(new[] { 5.0, 6, 7, 5, 6, 7, 5 }));
    }

    [Test]
    public void Drift_ExtendsFirstToLastLine()
    {
        Assert.That(new DriftModel().Forecast([1.0, 5, 2, 7], 2), Is.EqualTo(new[] { 9.0, 11 }));
    }

    [Test]
    public void SeasonalNaive_ThrowsWhenHistoryShorterThanSeason()
    {
        var ex = Assert.Throws<ArgumentException>(() => new SeasonalNaiveModel(7).Forecast([1.0, 2], 1));
        Assert.That(ex!.Message, Does.Contain("history has 2 points; seasonal-naive(7) needs at least 7"));
    }

    [Test]
    public void Drift_ThrowsForLengthOne()
    {
        Assert.Throws<ArgumentException>(() => new DriftModel().Forecast([1.0], 1));
    }

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    public void Baselines_RejectNonFiniteHistory(double bad)
    {
        var ex = Assert.Throws<ArgumentException>(() => new NaiveModel().Forecast([1.0, bad], 1));
        Assert.That(ex!.Message, Does.Contain("history[1] is"));
    }

    [Test]
    public void Baselines_RejectZeroHorizon()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new NaiveModel().Forecast([1.0], 0));
    }

    [Test]
    public void SeasonalNaive_RejectsZeroSeason()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new SeasonalNaiveModel(0));
    }
}
