namespace SeqForecast.Data;

/// <summary>What to do with calendar gaps (missing days, weeks or months).</summary>
public enum GapPolicy
{
    /// <summary>Throw, naming the series and the first missing period.</summary>
    Error,
    /// <summary>Insert zeros: right for sales, where a missing day means nothing was sold.</summary>
    Zero,
    /// <summary>Repeat the last observed value.</summary>
    ForwardFill,
    /// <summary>Linear interpolation between the observed neighbours.</summary>
    Interpolate,
}

/// <summary>What to do with NaN values in the data.</summary>
public enum MissingValuePolicy
{
    /// <summary>Throw, naming the series, the timestamp and the column.</summary>
    Error,
    /// <summary>Replace NaN with zero.</summary>
    Zero,
    /// <summary>Repeat the last finite value; a leading NaN is an error.</summary>
    ForwardFill,
    /// <summary>Linear interpolation between finite neighbours; a leading or trailing NaN is an error.</summary>
    Interpolate,
}

/// <summary>What to do when one series has two or more rows for the same timestamp.</summary>
public enum DuplicatePolicy
{
    /// <summary>Throw, naming the series and the timestamp.</summary>
    Error,
    /// <summary>Add the rows together (transaction rows summed into a daily total).</summary>
    Sum,
    /// <summary>Keep the row that came first in the input.</summary>
    KeepFirst,
    /// <summary>Keep the row that came last in the input.</summary>
    KeepLast,
}

/// <summary>What to do with negative values (for sales: returns exceeding sales).</summary>
public enum NegativeValuePolicy
{
    /// <summary>Throw, naming the series, the timestamp and the column.</summary>
    Error,
    /// <summary>Keep negative values as they are.</summary>
    Keep,
    /// <summary>Replace negative values with zero.</summary>
    ClampToZero,
}

/// <summary>
/// Explicit policies for turning raw rows into clean, regular series. Nothing is changed silently: every policy
/// defaults to <c>Error</c>, and <see cref="CleaningReport"/> counts what each policy did.
/// </summary>
/// <remarks>
/// Order of application: duplicates are resolved, then infinite values are rejected, then NaN is handled,
/// then negative values, then calendar gaps are filled. ±∞ is always an error.
/// </remarks>
public sealed record SeriesCleaningOptions
{
    /// <summary>Spacing of the calendar grid; <c>null</c> infers it from the smallest spacing of each series.</summary>
    public Frequency? Frequency { get; init; }

    /// <summary>Policy for missing periods. Default: <see cref="GapPolicy.Error"/>.</summary>
    public GapPolicy Gaps { get; init; } = GapPolicy.Error;

    /// <summary>Policy for NaN values. Default: <see cref="MissingValuePolicy.Error"/>.</summary>
    public MissingValuePolicy MissingValues { get; init; } = MissingValuePolicy.Error;

    /// <summary>Policy for repeated timestamps. Default: <see cref="DuplicatePolicy.Error"/>.</summary>
    public DuplicatePolicy Duplicates { get; init; } = DuplicatePolicy.Error;

    /// <summary>Policy for negative values. Default: <see cref="NegativeValuePolicy.Error"/>.</summary>
    public NegativeValuePolicy NegativeValues { get; init; } = NegativeValuePolicy.Error;

    /// <summary>Strict policies: every irregularity is an error.</summary>
    public static SeriesCleaningOptions Strict { get; } = new();

    /// <summary>
    /// Policies for daily sales: a missing day is zero sales, rows for the same day are summed,
    /// negative totals (net returns) are kept, NaN is an error.
    /// </summary>
    public static SeriesCleaningOptions Sales { get; } = new()
    {
        Gaps = GapPolicy.Zero,
        Duplicates = DuplicatePolicy.Sum,
        NegativeValues = NegativeValuePolicy.Keep,
    };
}

/// <summary>Counts of what the cleaning policies changed, so nothing happens silently.</summary>
/// <param name="SeriesCount">Series produced.</param>
/// <param name="GapsFilled">Periods inserted into calendar gaps.</param>
/// <param name="DuplicatesMerged">Rows merged or dropped by the duplicate policy.</param>
/// <param name="MissingValuesFilled">NaN values replaced.</param>
/// <param name="NegativeValuesClamped">Negative values replaced by zero.</param>
public sealed record CleaningReport(int SeriesCount, int GapsFilled, int DuplicatesMerged, int MissingValuesFilled, int NegativeValuesClamped)
{
    /// <summary>An empty report.</summary>
    public static CleaningReport Empty { get; } = new(0, 0, 0, 0, 0);

    /// <summary>Adds two reports.</summary>
    public static CleaningReport operator +(CleaningReport a, CleaningReport b) => new(
        a.SeriesCount + b.SeriesCount, a.GapsFilled + b.GapsFilled, a.DuplicatesMerged + b.DuplicatesMerged,
        a.MissingValuesFilled + b.MissingValuesFilled, a.NegativeValuesClamped + b.NegativeValuesClamped);
}
