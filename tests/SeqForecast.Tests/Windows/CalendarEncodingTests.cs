using SeqForecast.Windows;

namespace SeqForecast.Tests.Windows;

public class CalendarEncodingTests
{
    [Test]
    public void Encode_WritesUnitCirclePairs()
    {
        var values = new float[8];
        CalendarEncoding.Encode(new DateTime(2021, 7, 15), CalendarFeatures.All, values);
        for (int k = 0; k < 8; k += 2)
            Assert.That(values[k] * values[k] + values[k + 1] * values[k + 1], Is.EqualTo(1f).Within(1e-5));
        Assert.That(values[4], Is.EqualTo((float)Math.Sin(2 * Math.PI * 6 / 12)).Within(1e-6)); // July
    }

    [Test]
    public void Names_FollowEncodingOrder()
    {
        Assert.That(CalendarEncoding.Names(CalendarFeatures.DayOfWeek | CalendarFeatures.WeekOfYear),
            Is.EqualTo(new[] { "day_of_week_sin", "day_of_week_cos", "week_of_year_sin", "week_of_year_cos" }));
    }

    [Test]
    public void Encode_RejectsShortDestination()
    {
        Assert.Throws<ArgumentException>(() => CalendarEncoding.Encode(DateTime.Today, CalendarFeatures.All, new float[7]));
    }
}
