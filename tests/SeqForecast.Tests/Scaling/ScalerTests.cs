using SeqForecast.Data;
using SeqForecast.Scaling;
using SeqForecast.Splits;

namespace SeqForecast.Tests.Scaling;

public class ScalerTests
{
    private static DatasetSplit SplitOf(params (string Id, double[] Values)[] series)
        => ChronologicalSplit.Split(series.Select(s => TimeSeries.FromValues(s.Id, s.Values)).ToArray(), 0, 2, 0);

    [Test]
    public void MinMax_FitsOnTrainingPartOnly()
    {
        // The last two points (the test part) hold 1000: a leak would change the scale.
        var split = SplitOf(("a", [0, 5, 10, 1000, 1000]));
        var fitted = new MinMaxScaler().Fit(split);
        var scaled = fitted.Transform(split);
        Assert.Multiple(() =>
        {
            Assert.That(scaled.Train[0].Column(0).ToArray(), Is.EqualTo(new[] { 0.0, 0.5, 1.0 }));
            Assert.That(scaled.Test[0].Column(0).ToArray(), Is.EqualTo(new[] { 100.0, 100.0 }), "values outside the fitted range are not clipped");
        });
    }

    [Test]
    public void MinMax_UsesConfiguredRange()
    {
        var fitted = new MinMaxScaler(new MinMaxScalerOptions { RangeMin = -1, RangeMax = 1 }).Fit(SplitOf(("a", [2, 4, 6, 0, 0])));
        Assert.That(fitted.Transform(TimeSeries.FromValues("a", [2.0, 4, 6])).Column(0).ToArray(), Is.EqualTo(new[] { -1.0, 0, 1 }));
    }

    [Test]
    public void Standard_ProducesZeroMeanUnitVariance()
    {
        var split = SplitOf(("a", [1, 2, 3, 4, 9, 9]));
        var scaled = new StandardScaler().Fit(split).Transform(split.Train[0]).Column(0).ToArray();
        double mean = scaled.Average();
        double variance = scaled.Select(v => (v - mean) * (v - mean)).Average();
        Assert.Multiple(() =>
        {
            Assert.That(mean, Is.EqualTo(0).Within(1e-12));
            Assert.That(variance, Is.EqualTo(1).Within(1e-12));
        });
    }

    [Test]
    public void Scalers_PerSeriesStatisticsDiffer()
    {
        var split = SplitOf(("a", [0, 10, 0, 0]), ("b", [0, 100, 0, 0]));
        var fitted = new MinMaxScaler().Fit(split);
        Assert.That(fitted.Get("a", "value").Scale, Is.Not.EqualTo(fitted.Get("b", "value").Scale));
    }

    [Test]
    public void Scalers_GlobalStatisticsArePooled()
    {
        var split = SplitOf(("a", [0, 10, 0, 0]), ("b", [0, 100, 0, 0]));
        var fitted = new MinMaxScaler(new MinMaxScalerOptions { Scope = ScalingScope.Global }).Fit(split);
        Assert.That(fitted.Transform(split.Train[0]).Column(0).ToArray(), Is.EqualTo(new[] { 0.0, 0.1 }));
    }

    [TestCase(ScalerKind.MinMax)]
    [TestCase(ScalerKind.Standard)]
    public void Scalers_ConstantSeriesDoesNotDivideByZero(ScalerKind kind)
    {
        IScaler scaler = kind == ScalerKind.MinMax ? new MinMaxScaler() : new StandardScaler();
        var split = SplitOf(("flat", [5, 5, 5, 5, 5]));
        var fitted = scaler.Fit(split);
        var scaled = fitted.Transform(split.Train[0]).Column(0).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(scaled, Is.All.EqualTo(0.0));
            Assert.That(fitted.InverseTransform(fitted.Transform(split.Train[0])).Column(0).ToArray(), Is.All.EqualTo(5.0));
        });
    }

    [TestCase(ScalerKind.MinMax)]
    [TestCase(ScalerKind.Standard)]
    public void InverseTransform_RoundTripsTargets(ScalerKind kind)
    {
        IScaler scaler = kind == ScalerKind.MinMax ? new MinMaxScaler() : new StandardScaler();
        var values = new[] { 3.0, -1, 7.5, 2, 0, 11 };
        var fitted = scaler.Fit(SplitOf(("a", values)));
        var scaled = fitted.Transform(TimeSeries.FromValues("a", values)).Column(0).ToArray();
        fitted.InverseTransform("a", "value", scaled.AsSpan());
        var floats = scaled.Select(v => (float)fitted.Get("a", "value").Apply(v)).ToArray();
        fitted.InverseTransform("a", "value", floats.AsSpan());
        Assert.Multiple(() =>
        {
            Assert.That(scaled, Is.EqualTo(values).Within(1e-12));
            Assert.That(floats, Is.EqualTo(values.Select(v => (float)v)).Within(1e-5));
        });
    }

    [Test]
    public void Transform_UnknownSeriesIsInvalidOperation()
    {
        var fitted = new MinMaxScaler().Fit(SplitOf(("a", [1, 2, 3, 4])));
        var ex = Assert.Throws<InvalidOperationException>(() => fitted.Transform(TimeSeries.FromValues("zzz", [1.0])));
        Assert.That(ex!.Message, Does.Contain("scaler was not fitted on series 'zzz'"));
    }

    [Test]
    public void Fit_RejectsNaNInTraining()
    {
        var series = TimeSeries.FromValues("a", [1.0, double.NaN, 3, 4]);
        var ex = Assert.Throws<ArgumentException>(() => new StandardScaler().Fit(ChronologicalSplit.Split([series], 0, 1, 0)));
        Assert.That(ex!.Message, Does.Contain("series 'a' column 'value' is NaN at index 1"));
    }

    [TestCase(1.0, 1.0)]
    [TestCase(1.0, 0.0)]
    [TestCase(double.NaN, 1.0)]
    public void MinMax_RejectsBadRange(double min, double max)
    {
        var scaler = new MinMaxScaler(new MinMaxScalerOptions { RangeMin = min, RangeMax = max });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => scaler.Fit(SplitOf(("a", [1, 2, 3]))));
        Assert.That(ex!.Message, Does.Contain("RangeMax must be greater than RangeMin"));
    }

    [Test]
    public void Get_UnknownColumnNamesIt()
    {
        var fitted = new MinMaxScaler().Fit(SplitOf(("a", [1, 2, 3])));
        Assert.Throws<ArgumentException>(() => fitted.Get("a", "price"));
    }
}
