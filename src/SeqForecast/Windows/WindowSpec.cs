using SeqForecast.Data;

namespace SeqForecast.Windows;

/// <summary>
/// How series are cut into training windows: <see cref="Lookback"/> input steps followed by
/// <see cref="Horizon"/> target steps, every <see cref="Stride"/> steps.
/// </summary>
/// <remarks>
/// Each input step holds, in this order: the target columns, the extra <see cref="Features"/>, then the
/// calendar (sin, cos) pairs. A window [start, start + lookback + horizon) never crosses a series boundary.
/// </remarks>
/// <param name="Lookback">Input steps per window. Range: ≥ 1.</param>
/// <param name="Horizon">Target steps per window (direct multi-step). Range: ≥ 1.</param>
public sealed record WindowSpec(int Lookback, int Horizon)
{
    /// <summary>Steps between the starts of consecutive windows. Range: ≥ 1. Default 1.</summary>
    public int Stride { get; init; } = 1;

    /// <summary>Columns to forecast; <c>null</c> means the first column of each series.</summary>
    public IReadOnlyList<string>? Targets { get; init; }

    /// <summary>Extra input columns (multivariate inputs) that are not forecast. Default: none.</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>Calendar inputs added to every step. Default: none. Needs timestamps.</summary>
    public CalendarFeatures Calendar { get; init; } = CalendarFeatures.None;

    /// <summary>Points a series needs for one window: lookback + horizon.</summary>
    public int WindowLength => Lookback + Horizon;

    /// <summary>Target column names for <paramref name="series"/>.</summary>
    public IReadOnlyList<string> TargetNames(TimeSeries series) => Targets ?? [series.ColumnNames[0]];

    /// <summary>Number of values per input step for series shaped like <paramref name="series"/>.</summary>
    public int InputFeatureCount(TimeSeries series) => TargetNames(series).Count + Features.Count + CalendarEncoding.Count(Calendar);

    /// <summary>Checks the spec's own ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Lookback, horizon or stride is below 1.</exception>
    /// <exception cref="ArgumentException">A column is listed twice or as both target and feature.</exception>
    public void Validate()
    {
        if (Lookback < 1) throw new ArgumentOutOfRangeException(nameof(Lookback), Lookback, $"lookback ({Lookback}) must be >= 1");
        if (Horizon < 1) throw new ArgumentOutOfRangeException(nameof(Horizon), Horizon, $"horizon ({Horizon}) must be >= 1");
        if (Stride < 1) throw new ArgumentOutOfRangeException(nameof(Stride), Stride, $"stride ({Stride}) must be >= 1");
        if (Targets is { Count: 0 }) throw new ArgumentException("targets is empty; list at least one column or leave it null for the first column", nameof(Targets));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in (Targets ?? []).Concat(Features))
            if (!seen.Add(name))
                throw new ArgumentException($"column '{name}' is listed twice among targets and features; each column may appear once", nameof(Features));
    }

    /// <summary>Checks that <paramref name="series"/> has the columns, timestamps and length this spec needs.</summary>
    /// <param name="series">The series.</param>
    /// <param name="minimumLength">Points needed; <see cref="WindowLength"/> for training, <see cref="Lookback"/> for prediction.</param>
    /// <exception cref="ArgumentException">A column is missing, timestamps are missing for calendar features, or the series is too short.</exception>
    public void ValidateSeries(TimeSeries series, int minimumLength)
    {
        ArgumentNullException.ThrowIfNull(series);
        foreach (var name in TargetNames(series).Concat(Features))
            series.ColumnIndex(name);
        if (Calendar != CalendarFeatures.None && !series.HasTimestamps)
            throw new ArgumentException($"series '{series.Id}' has no timestamps; calendar features {Calendar} need them", nameof(series));
        if (series.Length < minimumLength)
        {
            var rule = minimumLength == WindowLength ? $"lookback {Lookback} + horizon {Horizon} needs at least {WindowLength}" : $"lookback {Lookback} needs at least {Lookback}";
            throw new ArgumentException($"series '{series.Id}' has {series.Length} points; {rule}", nameof(series));
        }
    }
}
