using SeqForecast.Metrics;

namespace SeqForecast.Tests.Metrics;

public class ForecastMetricsTests
{
    private static readonly double[] Actual = [2, 4, 0, 8];
    private static readonly double[] Forecast = [3, 2, 1, 8];

    [Test]
    public void PointMetrics_MatchHandComputedValues()
    {
        Assert.Multiple(() =>
        {
            Assert.That(ForecastMetrics.Mse(Actual, Forecast), Is.EqualTo((1 + 4 + 1 + 0) / 4.0));
            Assert.That(ForecastMetrics.Rmse(Actual, Forecast), Is.EqualTo(Math.Sqrt(1.5)));
            Assert.That(ForecastMetrics.Mae(Actual, Forecast), Is.EqualTo(1.0));
            Assert.That(ForecastMetrics.Mape(Actual, Forecast, ZeroActualPolicy.Skip), Is.EqualTo(100 * (0.5 + 0.5 + 0) / 3).Within(1e-12));
            Assert.That(ForecastMetrics.Smape(Actual, Forecast), Is.EqualTo((200.0 / 5 + 200.0 * 2 / 6 + 200 + 0) / 4).Within(1e-12));
        });
    }

    [Test]
    public void Smape_BothZeroContributesZero()
    {
        Assert.That(ForecastMetrics.Smape([0.0, 1], [0.0, 1]), Is.EqualTo(0.0));
    }

    [Test]
    public void Mape_ZeroActualIsErrorByDefault()
    {
        var ex = Assert.Throws<ArgumentException>(() => ForecastMetrics.Mape(Actual, Forecast));
        Assert.That(ex!.Message, Does.Contain("actual[2] is 0, where MAPE is undefined"));
    }

    [Test]
    public void Mape_AllZeroWithSkipIsNaN()
    {
        Assert.That(ForecastMetrics.Mape([0.0, 0], [1.0, 1], ZeroActualPolicy.Skip), Is.NaN);
    }

    [Test]
    public void Mase_DividesBySeasonalNaiveInSampleMae()
    {
        double[] inSample = [1, 2, 3, 5, 6, 7]; // period 3: |5-1|, |6-2|, |7-3| -> mean 4
        Assert.Multiple(() =>
        {
            Assert.That(ForecastMetrics.Mase(Actual, Forecast, inSample, 3), Is.EqualTo(1.0 / 4));
            Assert.That(ForecastMetrics.Mase(Actual, Forecast, inSample, 1), Is.EqualTo(1.0 / 1.2).Within(1e-12));
        });
    }

    [Test]
    public void Mase_ThrowsForConstantInSample()
    {
        var ex = Assert.Throws<ArgumentException>(() => ForecastMetrics.Mase(Actual, Forecast, [3.0, 3, 3], 1));
        Assert.That(ex!.Message, Does.Contain("seasonal-naive MAE (period 1) is 0"));
    }

    [Test]
    public void Mase_ThrowsWhenInSampleNotLongerThanPeriod()
    {
        Assert.Throws<ArgumentException>(() => ForecastMetrics.Mase(Actual, Forecast, [1.0, 2], 2));
    }

    [TestCase(double.NaN)]
    [TestCase(double.PositiveInfinity)]
    [TestCase(double.NegativeInfinity)]
    public void Metrics_RejectNonFiniteForecast(double bad)
    {
        var ex = Assert.Throws<ArgumentException>(() => ForecastMetrics.Mae([1.0], [bad]));
        Assert.That(ex!.Message, Does.Contain("forecast[0] is"));
    }

    [Test]
    public void Metrics_RejectLengthMismatchAndEmpty()
    {
        Assert.Throws<ArgumentException>(() => ForecastMetrics.Mse([1.0, 2], [1.0]));
        Assert.Throws<ArgumentException>(() => ForecastMetrics.Mse([], []));
    }

    [Test]
    public void Metrics_LengthOneWorks()
    {
        Assert.That(ForecastMetrics.Rmse([3.0], [1.0]), Is.EqualTo(2.0));
    }
}
