using SeqForecast.Data;

namespace SeqForecast.Tests.Data;

public class SeriesAssemblerTests
{
    private static readonly DateTime Day0 = new(2021, 1, 1);

    private static Observation Obs(int day, double value) => new(Day0.AddDays(day), [value]);

    private static (TimeSeries Series, CleaningReport Report) Assemble(SeriesCleaningOptions options, params Observation[] rows)
        => SeriesAssembler.Assemble("sku", ["y"], rows, options);

    [Test]
    public void Assemble_SortsRowsByTime()
    {
        var (series, report) = Assemble(SeriesCleaningOptions.Strict, Obs(2, 3), Obs(0, 1), Obs(1, 2));
        Assert.Multiple(() =>
        {
            Assert.That(series.Column(0).ToArray(), Is.EqualTo(new[] { 1.0, 2, 3 }));
            Assert.That(report, Is.EqualTo(new CleaningReport(1, 0, 0, 0, 0)));
        });
    }

    [TestCase(GapPolicy.Zero, new[] { 1.0, 0, 0, 7 })]
    [TestCase(GapPolicy.ForwardFill, new[] { 1.0, 1, 1, 7 })]
    [TestCase(GapPolicy.Interpolate, new[] { 1.0, 3, 5, 7 })]
    public void Assemble_FillsGapsByPolicy(GapPolicy policy, double[] expected)
    {
        var (series, report) = Assemble(SeriesCleaningOptions.Strict with { Gaps = policy, Frequency = Frequency.Daily }, Obs(0, 1), Obs(3, 7));
        Assert.Multiple(() =>
        {
            Assert.That(series.Column(0).ToArray(), Is.EqualTo(expected));
            Assert.That(series.Timestamps.ToArray(), Is.EqualTo(Enumerable.Range(0, 4).Select(d => Day0.AddDays(d)).ToArray()));
            Assert.That(report.GapsFilled, Is.EqualTo(2));
        });
    }

    [Test]
    public void Assemble_GapErrorNamesSeriesAndFirstMissingDay()
    {
        var ex = Assert.Throws<ArgumentException>(() => Assemble(SeriesCleaningOptions.Strict with { Frequency = Frequency.Daily }, Obs(0, 1), Obs(1, 1), Obs(4, 1)));
        Assert.That(ex!.Message, Does.Contain("series 'sku' has no row for 2021-01-03 (2 missing daily periods in all)"));
    }

    [Test]
    public void Assemble_FillsMonthlyGaps()
    {
        var rows = new[] { new Observation(new DateTime(2020, 1, 1), [1.0]), new Observation(new DateTime(2020, 4, 1), [4.0]) };
        var (series, _) = SeriesAssembler.Assemble("m", ["y"], rows, SeriesCleaningOptions.Strict with { Gaps = GapPolicy.Interpolate, Frequency = Frequency.Monthly });
        Assert.That(series.Column(0).ToArray(), Is.EqualTo(new[] { 1.0, 2, 3, 4 }));
    }

    [Test]
    public void Assemble_ThrowsForOffGridTimestamp()
    {
        var ex = Assert.Throws<ArgumentException>(() => SeriesAssembler.Assemble("w", ["y"], [new Observation(Day0, [1.0]), new Observation(Day0.AddDays(7), [1.0]), new Observation(Day0.AddDays(10), [1.0])], SeriesCleaningOptions.Strict with { Frequency = Frequency.Weekly }));
        Assert.That(ex!.Message, Does.Contain("2021-01-11 is not on the weekly grid"));
    }

    [TestCase(DuplicatePolicy.Sum, 5.0)]
    [TestCase(DuplicatePolicy.KeepFirst, 2.0)]
    [TestCase(DuplicatePolicy.KeepLast, 3.0)]
    public void Assemble_MergesDuplicatesByPolicy(DuplicatePolicy policy, double expected)
    {
        var (series, report) = Assemble(SeriesCleaningOptions.Strict with { Duplicates = policy }, Obs(0, 1), Obs(1, 2), Obs(1, 3));
        Assert.Multiple(() =>
        {
            Assert.That(series.Column(0)[1], Is.EqualTo(expected));
            Assert.That(report.DuplicatesMerged, Is.EqualTo(1));
        });
    }

    [Test]
    public void Assemble_DuplicateErrorNamesTimestamp()
    {
        var ex = Assert.Throws<ArgumentException>(() => Assemble(SeriesCleaningOptions.Strict, Obs(0, 1), Obs(0, 2)));
        Assert.That(ex!.Message, Does.Contain("series 'sku' has more than one row for 2021-01-01"));
    }

    [TestCase(MissingValuePolicy.Zero, new[] { 1.0, 0, 0, 4 })]
    [TestCase(MissingValuePolicy.ForwardFill, new[] { 1.0, 1, 1, 4 })]
    [TestCase(MissingValuePolicy.Interpolate, new[] { 1.0, 2, 3, 4 })]
    public void Assemble_FillsNaNByPolicy(MissingValuePolicy policy, double[] expected)
    {
        var (series, report) = Assemble(SeriesCleaningOptions.Strict with { MissingValues = policy }, Obs(0, 1), Obs(1, double.NaN), Obs(2, double.NaN), Obs(3, 4));
        Assert.Multiple(() =>
        {
            Assert.That(series.Column(0).ToArray(), Is.EqualTo(expected));
            Assert.That(report.MissingValuesFilled, Is.EqualTo(2));
        });
    }

    [Test]
    public void Assemble_NaNErrorNamesColumnAndTimestamp()
    {
        var ex = Assert.Throws<ArgumentException>(() => Assemble(SeriesCleaningOptions.Strict, Obs(0, 1), Obs(1, double.NaN)));
        Assert.That(ex!.Message, Does.Contain("series 'sku' column 'y' is NaN at 2021-01-02"));
    }

    [TestCase(MissingValuePolicy.ForwardFill)]
    [TestCase(MissingValuePolicy.Interpolate)]
    public void Assemble_ThrowsForLeadingNaNWithoutNeighbour(MissingValuePolicy policy)
    {
        Assert.Throws<ArgumentException>(() => Assemble(SeriesCleaningOptions.Strict with { MissingValues = policy }, Obs(0, double.NaN), Obs(1, 1)));
    }

    [TestCase(double.PositiveInfinity)]
    [TestCase(double.NegativeInfinity)]
    public void Assemble_AlwaysRejectsInfinity(double value)
    {
        var ex = Assert.Throws<ArgumentException>(() => Assemble(SeriesCleaningOptions.Sales with { MissingValues = MissingValuePolicy.Zero }, Obs(0, 1), Obs(1, value)));
        Assert.That(ex!.Message, Does.Contain("infinite values are not allowed"));
    }

    [Test]
    public void Assemble_NegativeValuesFollowPolicy()
    {
        var error = Assert.Throws<ArgumentException>(() => Assemble(SeriesCleaningOptions.Strict, Obs(0, 1), Obs(1, -2)));
        var (kept, _) = Assemble(SeriesCleaningOptions.Strict with { NegativeValues = NegativeValuePolicy.Keep }, Obs(0, 1), Obs(1, -2));
        var (clamped, report) = Assemble(SeriesCleaningOptions.Strict with { NegativeValues = NegativeValuePolicy.ClampToZero }, Obs(0, 1), Obs(1, -2));
        Assert.Multiple(() =>
        {
            Assert.That(error!.Message, Does.Contain("column 'y' is -2 at 2021-01-02"));
            Assert.That(kept.Column(0)[1], Is.EqualTo(-2.0));
            Assert.That(clamped.Column(0)[1], Is.EqualTo(0.0));
            Assert.That(report.NegativeValuesClamped, Is.EqualTo(1));
        });
    }

    [Test]
    public void Assemble_AcceptsSingleRow()
    {
        var (series, _) = Assemble(SeriesCleaningOptions.Strict, Obs(0, 5));
        Assert.That(series.Length, Is.EqualTo(1));
    }
}
