using SeqForecast.Data;

namespace SeqForecast.Windows;

/// <summary>
/// How series are cut into windows and what each step of a window holds: <see cref="Lookback"/> observed steps
/// followed by <see cref="Horizon"/> forecast steps, every <see cref="Stride"/> steps, with the inputs below.
/// </summary>
/// <remarks>
/// <para>Inputs per step, in this order: the target columns; an "observed" flag (1 on observed history, 0 on padded
/// or forecast steps; present when the window has forecast steps or padding); the past covariates
/// (<see cref="Features"/>); the seasonal lags of each target (<see cref="SeasonalLags"/>); the known-future
/// covariates (<see cref="FutureCovariates"/>); the calendar (sin, cos) pairs (<see cref="Calendar"/>); the holiday
/// flag (<see cref="Holidays"/>); the static covariates (<see cref="StaticCovariates"/>, one-hot for categories).</para>
/// <para>Known-future inputs (future covariates, calendar, holidays) are fed for the forecast steps too: a window with
/// any of them has <see cref="TimeSteps"/> = lookback + horizon steps, where the forecast steps carry the known-future
/// values and zeros for everything observed. That is how a promotion planned for day 3 of the horizon reaches the
/// network. A window never crosses a series boundary.</para>
/// </remarks>
/// <param name="Lookback">Observed steps per window. Range: [1, 100000].</param>
/// <param name="Horizon">Forecast steps per window (direct multi-step). Range: [1, 100000].</param>
public sealed record WindowSpec(int Lookback, int Horizon)
{
    /// <summary>Largest lookback or horizon accepted.</summary>
    public const int MaxLength = 100_000;

    /// <summary>Steps between the starts of consecutive windows. Range: ≥ 1. Default 1.</summary>
    public int Stride { get; init; } = 1;

    /// <summary>Columns to forecast; <c>null</c> means the first column of each series.</summary>
    public IReadOnlyList<string>? Targets { get; init; }

    /// <summary>Past covariates: extra input columns known only up to the forecast origin (not forecast). Default: none.</summary>
    public IReadOnlyList<string> Features { get; init; } = [];

    /// <summary>
    /// Known-future covariates: columns whose values are known in advance (a promotion plan, a price list), fed for
    /// every observed and forecast step. Predictions need their values for the steps forecast. Default: none.
    /// </summary>
    public IReadOnlyList<string> FutureCovariates { get; init; } = [];

    /// <summary>
    /// Static covariates: names of <see cref="TimeSeries.Statics"/> attributes fed on every step (categories one-hot,
    /// numbers standardised by forecasters). One-hot inputs through the first layer's input weights act as a learned
    /// embedding. Default: none.
    /// </summary>
    public IReadOnlyList<string> StaticCovariates { get; init; } = [];

    /// <summary>
    /// Seasonal lags: for each lag ℓ, each step also holds each target's value ℓ steps earlier (for example 52 for
    /// weekly data, 7 and 364 for daily), reaching beyond the lookback; 0 where that point is not observed. Default: none.
    /// </summary>
    public IReadOnlyList<int> SeasonalLags { get; init; } = [];

    /// <summary>Calendar inputs, known in advance. Default: none. Needs timestamps.</summary>
    public CalendarFeatures Calendar { get; init; } = CalendarFeatures.None;

    /// <summary>Holidays as a known-future 0/1 input; null (default): none. Needs timestamps.</summary>
    public HolidayCalendar? Holidays { get; init; }

    /// <summary>Points a series needs for one full window: lookback + horizon.</summary>
    public int WindowLength => Lookback + Horizon;

    /// <summary>True when some input is known for the forecast steps (future covariates, calendar or holidays).</summary>
    public bool HasKnownFuture => FutureCovariates.Count > 0 || Calendar != CalendarFeatures.None || Holidays is not null;

    /// <summary>Steps the network reads per window: lookback, plus the horizon when <see cref="HasKnownFuture"/>.</summary>
    public int TimeSteps => Lookback + (HasKnownFuture ? Horizon : 0);

    /// <summary>Target column names for <paramref name="series"/>.</summary>
    public IReadOnlyList<string> TargetNames(TimeSeries series) => Targets ?? [series.ColumnNames[0]];

    /// <summary>Checks the spec's own ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Lookback, horizon or stride is below 1 or too large, a lag is out of range, or an unknown calendar flag is set.</exception>
    /// <exception cref="ArgumentException">A column is listed twice, or a static name twice.</exception>
    public void Validate()
    {
        if (Lookback < 1 || Lookback > MaxLength) throw new ArgumentOutOfRangeException(nameof(Lookback), Lookback, $"lookback ({Lookback}) must be in [1, {MaxLength}]");
        if (Horizon < 1 || Horizon > MaxLength) throw new ArgumentOutOfRangeException(nameof(Horizon), Horizon, $"horizon ({Horizon}) must be in [1, {MaxLength}]");
        if (Stride < 1) throw new ArgumentOutOfRangeException(nameof(Stride), Stride, $"stride ({Stride}) must be >= 1");
        ArgumentNullException.ThrowIfNull(Features);
        ArgumentNullException.ThrowIfNull(FutureCovariates);
        ArgumentNullException.ThrowIfNull(StaticCovariates);
        ArgumentNullException.ThrowIfNull(SeasonalLags);
        if (Targets is { Count: 0 }) throw new ArgumentException("targets is empty; list at least one column or leave it null for the first column", nameof(Targets));
        if (!CalendarEncoding.IsValid(Calendar)) throw new ArgumentOutOfRangeException(nameof(Calendar), Calendar, "calendar holds an unknown flag");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in (Targets ?? []).Concat(Features).Concat(FutureCovariates))
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name, nameof(Features));
            if (!seen.Add(name))
                throw new ArgumentException($"column '{name}' is listed twice among targets, features and future covariates; each column may appear once", nameof(Features));
        }
        var statics = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in StaticCovariates)
            if (string.IsNullOrWhiteSpace(name) || !statics.Add(name))
                throw new ArgumentException($"static covariate '{name}' is empty or listed twice", nameof(StaticCovariates));
        var lags = new HashSet<int>();
        foreach (var lag in SeasonalLags)
        {
            if (lag < 1 || lag > MaxLength) throw new ArgumentOutOfRangeException(nameof(SeasonalLags), lag, $"seasonal lag ({lag}) must be in [1, {MaxLength}]");
            if (!lags.Add(lag)) throw new ArgumentException($"seasonal lag {lag} is listed twice", nameof(SeasonalLags));
        }
    }

    /// <summary>Checks that <paramref name="series"/> has the columns, timestamps, statics and length this spec needs.</summary>
    /// <param name="series">The series.</param>
    /// <param name="minimumLength">Points needed; <see cref="WindowLength"/> for training, <see cref="Lookback"/> for prediction.</param>
    /// <exception cref="ArgumentException">A column or static attribute is missing, timestamps are missing for calendar inputs, or the series is too short.</exception>
    public void ValidateSeries(TimeSeries series, int minimumLength)
    {
        ArgumentNullException.ThrowIfNull(series);
        foreach (var name in TargetNames(series).Concat(Features).Concat(FutureCovariates))
            series.ColumnIndex(name);
        foreach (var name in StaticCovariates)
            if (!series.Statics.ContainsKey(name))
                throw new ArgumentException($"series '{series.Id}' has no static attribute '{name}'; it has: {(series.Statics.Count == 0 ? "none" : string.Join(", ", series.Statics.Keys))}", nameof(series));
        if ((Calendar != CalendarFeatures.None || Holidays is not null) && !series.HasTimestamps)
            throw new ArgumentException($"series '{series.Id}' has no timestamps; calendar features {Calendar}{(Holidays is null ? "" : " and holidays")} need them", nameof(series));
        if (series.Length < minimumLength)
        {
            var rule = minimumLength == WindowLength ? $"lookback {Lookback} + horizon {Horizon} needs at least {WindowLength}" : $"lookback {Lookback} needs at least {minimumLength}";
            throw new ArgumentException($"series '{series.Id}' has {series.Length} points; {rule}", nameof(series));
        }
    }

    /// <inheritdoc />
    public bool Equals(WindowSpec? other) =>
        other is not null && Lookback == other.Lookback && Horizon == other.Horizon && Stride == other.Stride
        && (Targets ?? []).SequenceEqual(other.Targets ?? []) && (Targets is null) == (other.Targets is null)
        && Features.SequenceEqual(other.Features) && FutureCovariates.SequenceEqual(other.FutureCovariates)
        && StaticCovariates.SequenceEqual(other.StaticCovariates) && SeasonalLags.SequenceEqual(other.SeasonalLags)
        && Calendar == other.Calendar && (Holidays?.Dates ?? []).SequenceEqual(other.Holidays?.Dates ?? []) && (Holidays is null) == (other.Holidays is null);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Lookback, Horizon, Stride, Calendar, Features.Count, FutureCovariates.Count, SeasonalLags.Count);
}
