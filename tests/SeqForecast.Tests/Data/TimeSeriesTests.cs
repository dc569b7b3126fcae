using SeqForecast.Data;

namespace SeqForecast.Tests.Data;

public class TimeSeriesTests
{
    [Test]
    public void Constructor_CopiesColumnsAndExposesThem()
    {
        var values = new[] { 1.0, 2, 3 };
        var series = new TimeSeries("a", ["y", "x"], [values, [4.0, 5, 6]]);
        values[0] = 99;
        Assert.Multiple(() =>
        {
            Assert.That(series.Length, Is.EqualTo(3));
            Assert.That(series.Column("y").ToArray(), Is.EqualTo(new[] { 1.0, 2, 3 }));
            Assert.That(series.Column(1).ToArray(), Is.EqualTo(new[] { 4.0, 5, 6 }));
            Assert.That(series.HasTimestamps, Is.False);
        });
    }

    [Test]
    public void Constructor_AcceptsLengthOne()
    {
        var series = TimeSeries.FromValues("one", [42.0]);
        Assert.That(series.Column(0).ToArray(), Is.EqualTo(new[] { 42.0 }));
    }

    [Test]
    public void Constructor_ThrowsForEmptySeries()
    {
        var ex = Assert.Throws<ArgumentException>(() => TimeSeries.FromValues("e", Array.Empty<double>()));
        Assert.That(ex!.Message, Does.Contain("series 'e' is empty"));
    }

    [Test]
    public void Constructor_ThrowsForUnequalColumns()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TimeSeries("s", ["a", "b"], [[1.0, 2], [1.0]]));
        Assert.That(ex!.Message, Does.Contain("column 'b' has 1 points but column 'a' has 2"));
    }

    [Test]
    public void Constructor_ThrowsForDuplicateColumnNames()
    {
        var ex = Assert.Throws<ArgumentException>(() => new TimeSeries("s", ["a", "a"], [[1.0], [1.0]]));
        Assert.That(ex!.Message, Does.Contain("column 'a' twice"));
    }

    [Test]
    public void Constructor_ThrowsForUnorderedTimestamps()
    {
        var t = new DateTime(2020, 1, 2);
        var ex = Assert.Throws<ArgumentException>(() => TimeSeries.FromValues("s", [1.0, 2], [t, t.AddDays(-1)]));
        Assert.That(ex!.Message, Does.Contain("is not after 2020-01-02"));
    }

    [Test]
    public void Column_ThrowsForUnknownName()
    {
        var series = TimeSeries.FromValues("s", [1.0]);
        var ex = Assert.Throws<ArgumentException>(() => series.Column("nope"));
        Assert.That(ex!.Message, Does.Contain("series 's' has no column 'nope'; its columns are: value"));
    }

    [Test]
    public void Slice_ReturnsRangeWithTimestamps()
    {
        var t0 = new DateTime(2021, 3, 1);
        var series = TimeSeries.FromValues("s", [1.0, 2, 3, 4], Enumerable.Range(0, 4).Select(i => t0.AddDays(i)).ToArray());
        var slice = series.Slice(1, 2);
        Assert.Multiple(() =>
        {
            Assert.That(slice.Column(0).ToArray(), Is.EqualTo(new[] { 2.0, 3 }));
            Assert.That(slice.Timestamps[0], Is.EqualTo(t0.AddDays(1)));
        });
    }

    [TestCase(-1, 1)]
    [TestCase(0, 0)]
    [TestCase(3, 2)]
    public void Slice_ThrowsOutsideSeries(int start, int length)
    {
        var series = TimeSeries.FromValues("s", [1.0, 2, 3, 4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => series.Slice(start, length));
    }
}
