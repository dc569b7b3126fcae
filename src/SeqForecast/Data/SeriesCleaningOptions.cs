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
    /// <summary>Average the rows (prices recorded twice on one day).</summary>
    Mean,
    /// <summary>Keep the largest value (a flag set by any of the rows).</summary>
    Max,
    /// <summary>Keep the smallest value.</summary>
    Min,
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
/// Policies for one value column; a null property falls back to the series-wide policy of
/// <see cref="SeriesCleaningOptions"/>. Presets: <see cref="Quantity"/>, <see cref="Price"/>, <see cref="Flag"/>.
/// </summary>
public sealed record ColumnCleaning
{
    /// <summary>Policy for missing periods of this column; null: the series-wide policy.</summary>
    public GapPolicy? Gaps { get; init; }

    /// <summary>Policy for NaN values of this column; null: the series-wide policy.</summary>
    public MissingValuePolicy? MissingValues { get; init; }

    /// <summary>Policy for repeated timestamps of this column; null: the series-wide policy.</summary>
    public DuplicatePolicy? Duplicates { get; init; }

    /// <summary>Policy for negative values of this column; null: the series-wide policy.</summary>
    public NegativeValuePolicy? NegativeValues { get; init; }

    /// <summary>A quantity (units sold): duplicates summed, missing periods are zero, negatives (net returns) kept.</summary>
    public static ColumnCleaning Quantity { get; } = new() { Gaps = GapPolicy.Zero, Duplicates = DuplicatePolicy.Sum, NegativeValues = NegativeValuePolicy.Keep };

    /// <summary>A price or other level: duplicates averaged, missing periods carry the last price forward; never summed or zero-filled.</summary>
    public static ColumnCleaning Price { get; } = new() { Gaps = GapPolicy.ForwardFill, Duplicates = DuplicatePolicy.Mean, MissingValues = MissingValuePolicy.ForwardFill };

    /// <summary>A 0/1 flag (promotion, holiday): set when any duplicate row sets it, missing periods carry it forward.</summary>
    public static ColumnCleaning Flag { get; } = new() { Gaps = GapPolicy.ForwardFill, Duplicates = DuplicatePolicy.Max, MissingValues = MissingValuePolicy.ForwardFill };
}

/// <summary>The policies that apply to one column, resolved from <see cref="SeriesCleaningOptions"/>.</summary>
/// <param name="Gaps">Missing periods.</param>
/// <param name="MissingValues">NaN values.</param>
/// <param name="Duplicates">Repeated timestamps.</param>
/// <param name="NegativeValues">Negative values.</param>
public readonly record struct ColumnPolicies(GapPolicy Gaps, MissingValuePolicy MissingValues, DuplicatePolicy Duplicates, NegativeValuePolicy NegativeValues);

/// <summary>
/// Explicit policies for turning raw rows into clean, regular series. Nothing is changed silently: every policy
/// defaults to <c>Error</c>, and <see cref="CleaningReport"/> counts what each policy did.
/// </summary>
/// <remarks>
/// <para>Each column gets its own policies: <see cref="Columns"/> names a column, else <see cref="OtherColumns"/>
/// applies to every value column after the first, else the series-wide policies here apply. A null property of a
/// <see cref="ColumnCleaning"/> falls back to the series-wide policy.</para>
/// <para>Order of application: duplicates are resolved, then infinite values are rejected, then NaN is handled,
/// then negative values, then calendar gaps are filled. ±∞ is always an error.</para>
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

    /// <summary>Per-column policies, by column name. Default: none.</summary>
    public IReadOnlyDictionary<string, ColumnCleaning> Columns { get; init; } = new Dictionary<string, ColumnCleaning>(StringComparer.Ordinal);

    /// <summary>Policies for every value column after the first that <see cref="Columns"/> does not name; null: the series-wide policies.</summary>
    public ColumnCleaning? OtherColumns { get; init; }

    /// <summary>
    /// Longest gap, in periods, that a gap policy may fill; a longer one is an error that names the two dates (a date
    /// typed wrong, such as 2099 for 2019, would otherwise create millions of rows). Null: no limit. Default 10,000.
    /// </summary>
    public int? MaxGapPeriods { get; init; } = 10_000;

    /// <summary>Strict policies: every irregularity is an error.</summary>
    public static SeriesCleaningOptions Strict { get; } = new();

    /// <summary>
    /// Policies for sales data whose first value column is the quantity sold: a missing day is zero sales, rows for the
    /// same day are summed, negative totals (net returns) are kept, NaN is an error. Every further column (price,
    /// promotion flag) is treated as a level (<see cref="ColumnCleaning.Price"/>): averaged, never summed, and carried
    /// forward over missing days, never zero-filled. Name a column in <see cref="Columns"/> to change its policies,
    /// for example <c>ColumnCleaning.Flag</c> for a promotion flag.
    /// </summary>
    public static SeriesCleaningOptions Sales { get; } = new()
    {
        Gaps = GapPolicy.Zero,
        Duplicates = DuplicatePolicy.Sum,
        NegativeValues = NegativeValuePolicy.Keep,
        OtherColumns = ColumnCleaning.Price with { NegativeValues = NegativeValuePolicy.Keep },
    };

    /// <summary>
    /// Policies for measurements that may be negative (temperatures, balances): negatives kept, gaps and duplicates
    /// errors, NaN an error.
    /// </summary>
    public static SeriesCleaningOptions Measurements { get; } = new() { NegativeValues = NegativeValuePolicy.Keep };

    /// <summary>A copy with <paramref name="column"/>'s policies set to <paramref name="cleaning"/>.</summary>
    public SeriesCleaningOptions WithColumn(string column, ColumnCleaning cleaning)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(column);
        ArgumentNullException.ThrowIfNull(cleaning);
        var columns = new Dictionary<string, ColumnCleaning>(Columns, StringComparer.Ordinal) { [column] = cleaning };
        return this with { Columns = columns };
    }

    /// <summary>The policies of the value column <paramref name="name"/> at <paramref name="index"/> (0: the first).</summary>
    public ColumnPolicies For(string name, int index)
    {
        var specific = Columns.TryGetValue(name, out var named) ? named : index > 0 ? OtherColumns : null;
        return new ColumnPolicies(
            specific?.Gaps ?? Gaps,
            specific?.MissingValues ?? MissingValues,
            specific?.Duplicates ?? Duplicates,
            specific?.NegativeValues ?? NegativeValues);
    }

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A policy is not defined, or the gap limit is below 1.</exception>
    public void Validate()
    {
        if (MaxGapPeriods is < 1) throw new ArgumentOutOfRangeException(nameof(MaxGapPeriods), MaxGapPeriods, $"max gap periods ({MaxGapPeriods}) must be >= 1");
        if (Frequency is { } f && !Enum.IsDefined(f)) throw new ArgumentOutOfRangeException(nameof(Frequency), f, "unknown frequency");
        ArgumentNullException.ThrowIfNull(Columns);
    }
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
