using System.Globalization;

namespace SeqForecast.Windows;

/// <summary>
/// Optional calendar inputs. Each flag adds a (sin, cos) pair per time step. Calendar inputs are known in advance, so
/// forecasters also feed them for the steps being forecast.
/// </summary>
[Flags]
public enum CalendarFeatures
{
    /// <summary>No calendar inputs.</summary>
    None = 0,
    /// <summary>Day of week, angle 2π·d/7 with Monday = 0.</summary>
    DayOfWeek = 1,
    /// <summary>Day of month, angle 2π·(day − 1)/daysInMonth.</summary>
    DayOfMonth = 2,
    /// <summary>Month of year, angle 2π·(month − 1)/12.</summary>
    Month = 4,
    /// <summary>ISO week of year, angle 2π·(week − 1)/weeksInYear.</summary>
    WeekOfYear = 8,
    /// <summary>The four date pairs (day of week, day of month, month, week of year).</summary>
    All = DayOfWeek | DayOfMonth | Month | WeekOfYear,
    /// <summary>Hour of day, angle 2π·(hour + minute/60)/24, for hourly and finer series.</summary>
    HourOfDay = 16,
}

/// <summary>Encodes <see cref="CalendarFeatures"/> as sin/cos pairs.</summary>
public static class CalendarEncoding
{
    /// <summary>Number of input values the flags add per time step (2 per flag).</summary>
    public static int Count(CalendarFeatures features) => 2 * int.PopCount((int)(features & Defined));

    private const CalendarFeatures Defined = CalendarFeatures.All | CalendarFeatures.HourOfDay;

    /// <summary>True when <paramref name="features"/> holds only defined flags.</summary>
    public static bool IsValid(CalendarFeatures features) => (features & ~Defined) == 0;

    /// <summary>Names of the values, in the order <see cref="Encode"/> writes them.</summary>
    public static IReadOnlyList<string> Names(CalendarFeatures features)
    {
        var names = new List<string>();
        foreach (var (flag, name) in Flags)
            if (features.HasFlag(flag)) { names.Add(name + "_sin"); names.Add(name + "_cos"); }
        return names;
    }

    /// <summary>Writes the (sin, cos) pairs for <paramref name="time"/> into <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <see cref="Count"/>.</exception>
    public static void Encode(DateTime time, CalendarFeatures features, Span<float> destination)
    {
        if (destination.Length < Count(features))
            throw new ArgumentException($"destination has {destination.Length} slots; calendar features {features} need {Count(features)}", nameof(destination));
        int k = 0;
        foreach (var (flag, _) in Flags)
        {
            if (!features.HasFlag(flag)) continue;
            double angle = 2 * Math.PI * flag switch
            {
                CalendarFeatures.DayOfWeek => ((int)time.DayOfWeek + 6) % 7 / 7.0,
                CalendarFeatures.DayOfMonth => (time.Day - 1) / (double)DateTime.DaysInMonth(time.Year, time.Month),
                CalendarFeatures.Month => (time.Month - 1) / 12.0,
                CalendarFeatures.HourOfDay => (time.Hour + time.Minute / 60.0) / 24.0,
                _ => (ISOWeek.GetWeekOfYear(time) - 1) / (double)ISOWeek.GetWeeksInYear(ISOWeek.GetYear(time)),
            };
            destination[k++] = (float)Math.Sin(angle);
            destination[k++] = (float)Math.Cos(angle);
        }
    }

    private static readonly (CalendarFeatures Flag, string Name)[] Flags =
    [
        (CalendarFeatures.DayOfWeek, "day_of_week"),
        (CalendarFeatures.DayOfMonth, "day_of_month"),
        (CalendarFeatures.Month, "month"),
        (CalendarFeatures.WeekOfYear, "week_of_year"),
        (CalendarFeatures.HourOfDay, "hour_of_day"),
    ];
}
