using SeqForecast.Metrics;

namespace SeqForecast.Tests.Metrics;

public class ForecastEvaluationTests
{
    [Test]
    public void Evaluate_OverallIsMeanOfPerSeriesValues()
    {
        var report = ForecastEvaluation.Evaluate(
        [
            new SeriesForecast("a", [1.0, 1], [2.0, 2], [0.0, 1, 0, 1]),
            new SeriesForecast("b", [10.0, 10], [10.0, 14], [0.0, 2, 4, 6]),
        ], seasonalPeriod: 1);
        Assert.Multiple(() =>
        {
            Assert.That(report.PerSeries[0].Values.Mae, Is.EqualTo(1.0));
            Assert.That(report.PerSeries[1].Values.Mae, Is.EqualTo(2.0));
            Assert.That(report.Overall.Mae, Is.EqualTo(1.5), "M4 aggregation is the mean of per-series values, not the pooled MAE");
            Assert.That(report.Overall.Mase, Is.EqualTo((1.0 / 1 + 2.0 / 2) / 2));
            Assert.That(report.Overall.Rmse, Is.EqualTo((1.0 + Math.Sqrt(8)) / 2).Within(1e-12));
        });
    }

    [Test]
    public void Evaluate_ErrorNamesTheSeries()
    {
        var ex = Assert.Throws<ArgumentException>(() => ForecastEvaluation.Evaluate([new SeriesForecast("short", [1.0, 2], [1.0], [2.0, 3, 2])], 1));
        Assert.That(ex!.Message, Does.StartWith("series 'short':"));
    }

    [Test]
    public void Evaluate_ConstantHistoryLeavesMaseUndefinedForThatSeriesOnly()
    {
        var report = ForecastEvaluation.Evaluate([new SeriesForecast("flat", [1.0], [1.0], [2.0, 2, 2]), new SeriesForecast("ok", [3.0], [1.0], [1.0, 2, 3])], 1);
        Assert.Multiple(() =>
        {
            Assert.That(report.PerSeries[0].Values.Mase, Is.NaN);
            Assert.That(report.Overall.Mase, Is.EqualTo(2.0).Within(1e-12), "the mean over the series where MASE is defined");
            Assert.That(report.Undefined.Select(u => u.SeriesId), Is.EqualTo(new[] { "flat" }));
            Assert.That(report.Undefined[0].Problem, Does.Contain("MASE is undefined"));
        });
    }

    [Test]
    public void Evaluate_RejectsEmpty()
    {
        Assert.Throws<ArgumentException>(() => ForecastEvaluation.Evaluate([], 1));
    }
}
