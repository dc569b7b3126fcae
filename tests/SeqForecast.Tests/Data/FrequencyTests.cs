using SeqForecast.Data;

namespace SeqForecast.Tests.Data;

public class FrequencyTests
{
    [TestCase(Frequency.Daily, "2020-01-01", "2020-01-31", 30)]
    [TestCase(Frequency.Weekly, "2020-01-01", "2020-01-29", 4)]
    [TestCase(Frequency.Weekly, "2020-01-01", "2020-01-30", -1)]
    [TestCase(Frequency.Monthly, "2020-01-31", "2020-03-31", 2)]
    [TestCase(Frequency.Monthly, "2020-01-01", "2021-01-01", 12)]
    [TestCase(Frequency.Monthly, "2020-01-01", "2020-02-15", -1)]
    public void PeriodsBetween_CountsGridSteps(Frequency frequency, string start, string time, long expected)
    {
        Assert.That(frequency.PeriodsBetween(DateTime.Parse(start), DateTime.Parse(time)), Is.EqualTo(expected));
    }

    [TestCase(new[] { "2020-01-01", "2020-01-02", "2020-01-05" }, Frequency.Daily)]
    [TestCase(new[] { "2020-01-06", "2020-01-13" }, Frequency.Weekly)]
    [TestCase(new[] { "2020-01-01", "2020-02-01", "2020-03-01" }, Frequency.Monthly)]
    public void Infer_UsesSmallestSpacing(string[] times, Frequency expected)
    {
        Assert.That(FrequencyExtensions.Infer(times.Select(DateTime.Parse).ToArray(), "s"), Is.EqualTo(expected));
    }

    [Test]
    public void Infer_ThrowsForIrregularSpacing()
    {
        var ex = Assert.Throws<ArgumentException>(() => FrequencyExtensions.Infer([new DateTime(2020, 1, 1), new DateTime(2020, 1, 4)], "s"));
        Assert.That(ex!.Message, Does.Contain("smallest timestamp spacing of 3 days"));
    }

    [Test]
    public void Infer_ThrowsForOneTimestamp()
    {
        Assert.Throws<ArgumentException>(() => FrequencyExtensions.Infer([new DateTime(2020, 1, 1)], "s"));
    }
}
