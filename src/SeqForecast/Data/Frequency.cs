using System.Globalization;

namespace SeqForecast.Data;

/// <summary>Calendar spacing of a regular series.</summary>
/// <remarks>The first three values keep their numbers from earlier versions; the others were added later.</remarks>
public enum Frequency
{
    /// <summary>One point per calendar day.</summary>
    Daily,
    /// <summary>One point every 7 days.</summary>
    Weekly,
    /// <summary>One point per calendar month, on the same day of the month.</summary>
    Monthly,
    /// <summary>One point per hour.</summary>
    Hourly,
    /// <summary>One point every 30 minutes.</summary>
    HalfHourly,
    /// <summary>One point every 15 minutes.</summary>
    QuarterHourly,
    /// <summary>One point every 10 minutes.</summary>
    TenMinutes,
    /// <summary>One point every 5 minutes.</summary>
    FiveMinutes,
    /// <summary>One point per minute.</summary>
    Minutely,
    /// <summary>One point every 3 calendar months.</summary>
    Quarterly,
    /// <summary>One point per calendar year, on the same day.</summary>
    Yearly,
}

/// <summary>Calendar arithmetic for <see cref="Frequency"/>.</summary>
public static class FrequencyExtensions
{
    /// <summary>The fixed length of one period, or null for calendar frequencies (monthly, quarterly, yearly).</summary>
    public static TimeSpan? FixedPeriod(this Frequency frequency) => frequency switch
    {
        Frequency.Daily => TimeSpan.FromDays(1),
        Frequency.Weekly => TimeSpan.FromDays(7),
        Frequency.Hourly => TimeSpan.FromHours(1),
        Frequency.HalfHourly => TimeSpan.FromMinutes(30),
        Frequency.QuarterHourly => TimeSpan.FromMinutes(15),
        Frequency.TenMinutes => TimeSpan.FromMinutes(10),
        Frequency.FiveMinutes => TimeSpan.FromMinutes(5),
        Frequency.Minutely => TimeSpan.FromMinutes(1),
        Frequency.Monthly or Frequency.Quarterly or Frequency.Yearly => null,
        _ => throw new ArgumentOutOfRangeException(nameof(frequency), frequency, $"frequency must be one of {string.Join(", ", Enum.GetNames<Frequency>())}"),
    };

    private static int CalendarMonths(Frequency frequency) => frequency switch
    {
        Frequency.Monthly => 1,
        Frequency.Quarterly => 3,
        Frequency.Yearly => 12,
        _ => 0,
    };

    /// <summary>Returns <paramref name="time"/> moved <paramref name="steps"/> periods forward (negative: backward).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The result falls outside the range of <see cref="DateTime"/>.</exception>
    public static DateTime Advance(this Frequency frequency, DateTime time, int steps)
    {
        if (frequency.FixedPeriod() is { } period)
        {
            long ticks = time.Ticks + period.Ticks * (long)steps;
            if (ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
                throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{steps} {frequency.Describe()} periods from {Format(time)} fall outside the calendar (years 1 to 9999)");
            return new DateTime(ticks, time.Kind);
        }
        long months = (long)CalendarMonths(frequency) * steps;
        long target = (time.Year - 1) * 12L + time.Month - 1 + months;
        if (target < 0 || target > 9999 * 12L - 1)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"{steps} {frequency.Describe()} periods from {Format(time)} fall outside the calendar (years 1 to 9999)");
        return time.AddMonths((int)months);
    }

    /// <summary>
    /// Number of whole periods from <paramref name="start"/> to <paramref name="time"/>, or -1 when
    /// <paramref name="time"/> does not fall on the grid that starts at <paramref name="start"/>.
    /// </summary>
    public static long PeriodsBetween(this Frequency frequency, DateTime start, DateTime time)
    {
        if (frequency.FixedPeriod() is { } period)
        {
            long ticks = (time - start).Ticks;
            return ticks % period.Ticks == 0 ? ticks / period.Ticks : -1;
        }
        long months = (time.Year - start.Year) * 12L + (time.Month - start.Month);
        int step = CalendarMonths(frequency);
        if (months % step != 0) return -1;
        return start.AddMonths((int)months) == time ? months / step : -1;
    }

    /// <summary>
    /// Infers the frequency from the smallest spacing between consecutive timestamps: 1, 5, 10, 15 or 30 minutes,
    /// 1 hour, 1 day, 7 days, 28–31 days (monthly), 89–92 days (quarterly), 365–366 days (yearly).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than 2 timestamps, or a smallest spacing that matches no frequency.</exception>
    public static Frequency Infer(IReadOnlyList<DateTime> sortedTimestamps, string seriesId)
    {
        ArgumentNullException.ThrowIfNull(sortedTimestamps);
        if (sortedTimestamps.Count < 2)
            throw new ArgumentException($"series '{seriesId}' has {sortedTimestamps.Count} timestamp(s); inferring a frequency needs at least 2 (set the frequency explicitly)", nameof(sortedTimestamps));
        return FromSpacing(SmallestSpacing(sortedTimestamps), $"series '{seriesId}'");
    }

    /// <summary>
    /// Infers one frequency for many series from the smallest spacing found in any of them, so that a series with
    /// gaps everywhere still gets the grid its neighbours show.
    /// </summary>
    /// <param name="sortedTimestamps">Each series' timestamps, sorted (duplicates allowed).</param>
    /// <param name="source">Names the data in errors (for example a file name).</param>
    /// <exception cref="ArgumentException">No series has two distinct timestamps, or the smallest spacing matches no frequency.</exception>
    public static Frequency InferCommon(IEnumerable<IReadOnlyList<DateTime>> sortedTimestamps, string source)
    {
        ArgumentNullException.ThrowIfNull(sortedTimestamps);
        var smallest = sortedTimestamps.Select(SmallestSpacing).DefaultIfEmpty(TimeSpan.MaxValue).Min();
        if (smallest == TimeSpan.MaxValue)
            throw new ArgumentException($"{source} has no series with 2 distinct timestamps; set the frequency explicitly", nameof(sortedTimestamps));
        return FromSpacing(smallest, source);
    }

    /// <summary>A lower-case name for messages ("daily", "hourly", "15-minute").</summary>
    public static string Describe(this Frequency frequency) => frequency switch
    {
        Frequency.HalfHourly => "30-minute",
        Frequency.QuarterHourly => "15-minute",
        Frequency.TenMinutes => "10-minute",
        Frequency.FiveMinutes => "5-minute",
        Frequency.Minutely => "1-minute",
        _ => frequency.ToString().ToLowerInvariant(),
    };

    /// <summary>A timestamp as messages write it: the date alone at midnight, else date and time.</summary>
    internal static string Format(DateTime time) => time.TimeOfDay == TimeSpan.Zero
        ? time.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
        : time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static TimeSpan SmallestSpacing(IReadOnlyList<DateTime> sorted)
    {
        var smallest = TimeSpan.MaxValue;
        for (int i = 1; i < sorted.Count; i++)
        {
            var gap = sorted[i] - sorted[i - 1];
            if (gap > TimeSpan.Zero && gap < smallest) smallest = gap;
        }
        return smallest;
    }

    private static readonly (TimeSpan Spacing, Frequency Frequency)[] FixedSpacings =
    [
        (TimeSpan.FromMinutes(1), Frequency.Minutely), (TimeSpan.FromMinutes(5), Frequency.FiveMinutes),
        (TimeSpan.FromMinutes(10), Frequency.TenMinutes), (TimeSpan.FromMinutes(15), Frequency.QuarterHourly),
        (TimeSpan.FromMinutes(30), Frequency.HalfHourly), (TimeSpan.FromHours(1), Frequency.Hourly),
        (TimeSpan.FromDays(1), Frequency.Daily), (TimeSpan.FromDays(7), Frequency.Weekly),
    ];

    private static Frequency FromSpacing(TimeSpan smallest, string what)
    {
        foreach (var (spacing, frequency) in FixedSpacings)
            if (smallest == spacing) return frequency;
        double days = smallest.TotalDays;
        if (smallest.Ticks % TimeSpan.TicksPerDay == 0)
        {
            if (days is >= 28 and <= 31) return Frequency.Monthly;
            if (days is >= 89 and <= 92) return Frequency.Quarterly;
            if (days is 365 or 366) return Frequency.Yearly;
        }
        string spacingText = smallest.Ticks % TimeSpan.TicksPerDay == 0 ? $"{(long)days} days" : smallest.ToString();
        throw new ArgumentException($"{what} has a smallest timestamp spacing of {spacingText}; only 1, 5, 10, 15 or 30 minutes, 1 hour, 1 or 7 days, 28-31 days (monthly), 89-92 days (quarterly) or 365-366 days (yearly) can be inferred; set the frequency explicitly", "sortedTimestamps");
    }
}
