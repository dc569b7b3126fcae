namespace SeqForecast.Data;

/// <summary>Calendar spacing of a regular series.</summary>
public enum Frequency
{
    /// <summary>One point per calendar day.</summary>
    Daily,
    /// <summary>One point every 7 days.</summary>
    Weekly,
    /// <summary>One point per calendar month, on the same day of the month.</summary>
    Monthly,
}

/// <summary>Calendar arithmetic for <see cref="Frequency"/>.</summary>
public static class FrequencyExtensions
{
    /// <summary>Returns <paramref name="time"/> moved <paramref name="steps"/> periods forward (negative: backward).</summary>
    public static DateTime Advance(this Frequency frequency, DateTime time, int steps) => frequency switch
    {
        Frequency.Daily => time.AddDays(steps),
        Frequency.Weekly => time.AddDays(7.0 * steps),
        Frequency.Monthly => time.AddMonths(steps),
        _ => throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "frequency must be Daily, Weekly or Monthly"),
    };

    /// <summary>
    /// Number of whole periods from <paramref name="start"/> to <paramref name="time"/>, or -1 when
    /// <paramref name="time"/> does not fall on the grid that starts at <paramref name="start"/>.
    /// </summary>
    public static long PeriodsBetween(this Frequency frequency, DateTime start, DateTime time)
    {
        switch (frequency)
        {
            case Frequency.Daily:
            case Frequency.Weekly:
                var span = time - start;
                long days = span.Ticks / TimeSpan.TicksPerDay;
                if (span.Ticks % TimeSpan.TicksPerDay != 0) return -1;
                int step = frequency == Frequency.Daily ? 1 : 7;
                return days % step == 0 ? days / step : -1;
            case Frequency.Monthly:
                long months = (time.Year - start.Year) * 12L + (time.Month - start.Month);
                return start.AddMonths((int)months) == time ? months : -1;
            default:
                throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "frequency must be Daily, Weekly or Monthly");
        }
    }

    /// <summary>
    /// Infers the frequency from the smallest spacing between consecutive timestamps:
    /// 1 day is daily, 7 days weekly, 28–31 days monthly.
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

    private static Frequency FromSpacing(TimeSpan smallest, string what) => smallest.TotalDays switch
    {
        1 => Frequency.Daily,
        7 => Frequency.Weekly,
        >= 28 and <= 31 => Frequency.Monthly,
        _ => throw new ArgumentException($"{what} has a smallest timestamp spacing of {smallest.TotalDays} days; only 1 (daily), 7 (weekly) or 28-31 (monthly) can be inferred", "sortedTimestamps"),
    };
}
