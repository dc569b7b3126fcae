namespace SeqForecast.Data;

/// <summary>One raw row of one series: a timestamp and one value per column.</summary>
/// <param name="Timestamp">When the values were observed.</param>
/// <param name="Values">One value per column, in the series' column order.</param>
public readonly record struct Observation(DateTime Timestamp, double[] Values);

/// <summary>
/// Builds a clean, regular <see cref="TimeSeries"/> from unordered raw rows by applying
/// <see cref="SeriesCleaningOptions"/>, column by column: duplicates, ±∞, NaN, negative values and calendar gaps.
/// </summary>
public static class SeriesAssembler
{
    /// <summary>Assembles one series.</summary>
    /// <param name="id">Series identifier.</param>
    /// <param name="columnNames">Value column names; each observation has one value per name.</param>
    /// <param name="observations">Raw rows in input order (needed for KeepFirst/KeepLast).</param>
    /// <param name="options">Cleaning policies.</param>
    /// <returns>The series and a report of what the policies changed.</returns>
    /// <exception cref="ArgumentException">A policy set to <c>Error</c> met its case, a value is ±∞, or a gap is longer than <see cref="SeriesCleaningOptions.MaxGapPeriods"/>.</exception>
    public static (TimeSeries Series, CleaningReport Report) Assemble(string id, IReadOnlyList<string> columnNames, IReadOnlyList<Observation> observations, SeriesCleaningOptions options) =>
        Assemble(id, columnNames, observations, options, null);

    /// <summary>
    /// As <see cref="Assemble(string, IReadOnlyList{string}, IReadOnlyList{Observation}, SeriesCleaningOptions)"/>;
    /// <paramref name="describe"/> names a timestamp in errors (a file without dates names rows instead of made-up dates).
    /// </summary>
    internal static (TimeSeries Series, CleaningReport Report) Assemble(string id, IReadOnlyList<string> columnNames, IReadOnlyList<Observation> observations, SeriesCleaningOptions options, Func<DateTime, string>? describe)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(columnNames);
        ArgumentNullException.ThrowIfNull(observations);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        describe ??= FrequencyExtensions.Format;
        if (observations.Count == 0)
            throw new ArgumentException($"series '{id}' has no rows; a series needs at least 1", nameof(observations));
        int columnCount = columnNames.Count;
        foreach (var o in observations)
            if (o.Values is null || o.Values.Length != columnCount)
                throw new ArgumentException($"series '{id}' row at {describe(o.Timestamp)} has {o.Values?.Length ?? 0} values for {columnCount} columns", nameof(observations));
        var policies = columnNames.Select((name, c) => options.For(name, c)).ToArray();

        var (times, rows, duplicates) = ResolveDuplicates(id, columnNames, observations, policies, describe);

        int missing = 0, clamped = 0;
        for (int r = 0; r < rows.Count; r++)
            for (int c = 0; c < columnCount; c++)
                if (double.IsInfinity(rows[r][c]))
                    throw new ArgumentException($"series '{id}' column '{columnNames[c]}' at {describe(times[r])} is {rows[r][c]}; infinite values are not allowed", nameof(observations));

        var columns = new double[columnCount][];
        for (int c = 0; c < columnCount; c++)
        {
            columns[c] = rows.Select(r => r[c]).ToArray();
            missing += FillMissing(id, columnNames[c], times, columns[c], policies[c].MissingValues, describe);
            clamped += ApplyNegativePolicy(id, columnNames[c], times, columns[c], policies[c].NegativeValues, describe);
        }

        var frequency = options.Frequency ?? (times.Count >= 2 ? FrequencyExtensions.Infer(times, id) : Frequency.Daily);
        var (grid, filledColumns, gaps) = FillGaps(id, columnNames, frequency, times, columns, policies, options.MaxGapPeriods, describe);
        var series = new TimeSeries(id, columnNames, filledColumns, grid);
        return (series, new CleaningReport(1, gaps, duplicates, missing, clamped));
    }

    private static (List<DateTime> Times, List<double[]> Rows, int Merged) ResolveDuplicates(string id, IReadOnlyList<string> columns, IReadOnlyList<Observation> observations, ColumnPolicies[] policies, Func<DateTime, string> describe)
    {
        // A stable sort keeps input order among equal timestamps, which KeepFirst/KeepLast rely on.
        var ordered = observations.Select((o, i) => (o, i)).OrderBy(p => p.o.Timestamp).ThenBy(p => p.i).Select(p => p.o).ToList();
        var times = new List<DateTime>(ordered.Count);
        var rows = new List<double[]>(ordered.Count);
        var counts = new List<int>(ordered.Count);
        int merged = 0;
        foreach (var o in ordered)
        {
            if (times.Count > 0 && times[^1] == o.Timestamp)
            {
                merged++;
                var row = rows[^1];
                for (int c = 0; c < row.Length; c++)
                {
                    double value = o.Values[c];
                    row[c] = policies[c].Duplicates switch
                    {
                        DuplicatePolicy.Error => throw new ArgumentException($"series '{id}' has more than one row for {describe(o.Timestamp)}; set a DuplicatePolicy (Sum, Mean, KeepFirst, KeepLast, Max or Min) for column '{columns[c]}' to merge them", "observations"),
                        DuplicatePolicy.Sum => row[c] + value,
                        DuplicatePolicy.KeepFirst => row[c],
                        DuplicatePolicy.KeepLast => value,
                        // Running mean: the row holds the mean of the counts[^1] rows merged so far.
                        DuplicatePolicy.Mean => row[c] + (value - row[c]) / (counts[^1] + 1),
                        DuplicatePolicy.Max => double.IsNaN(row[c]) ? value : double.IsNaN(value) ? row[c] : Math.Max(row[c], value),
                        DuplicatePolicy.Min => double.IsNaN(row[c]) ? value : double.IsNaN(value) ? row[c] : Math.Min(row[c], value),
                        _ => throw new ArgumentOutOfRangeException(nameof(policies), policies[c].Duplicates, "unknown duplicate policy"),
                    };
                }
                counts[^1]++;
                continue;
            }
            times.Add(o.Timestamp);
            rows.Add((double[])o.Values.Clone());
            counts.Add(1);
        }
        return (times, rows, merged);
    }

    private static int FillMissing(string id, string column, List<DateTime> times, double[] values, MissingValuePolicy policy, Func<DateTime, string> describe)
    {
        int count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsNaN(values[i])) continue;
            count++;
            switch (policy)
            {
                case MissingValuePolicy.Error:
                    throw new ArgumentException($"series '{id}' column '{column}' is NaN at {describe(times[i])}; set a MissingValuePolicy (Zero, ForwardFill or Interpolate) to fill it", "observations");
                case MissingValuePolicy.Zero:
                    values[i] = 0;
                    break;
                case MissingValuePolicy.ForwardFill:
                    if (i == 0)
                        throw new ArgumentException($"series '{id}' column '{column}' starts with NaN at {describe(times[0])}; forward fill needs an earlier finite value", "observations");
                    values[i] = values[i - 1];
                    break;
                case MissingValuePolicy.Interpolate:
                    int next = i + 1;
                    while (next < values.Length && double.IsNaN(values[next])) next++;
                    if (i == 0 || next == values.Length)
                        throw new ArgumentException($"series '{id}' column '{column}' has NaN at {describe(times[i])} with no finite value on {(i == 0 ? "the left" : "the right")}; interpolation needs both neighbours", "observations");
                    double left = values[i - 1], right = values[next];
                    int span = next - (i - 1);
                    for (int k = i; k < next; k++) values[k] = left + (right - left) * (k - (i - 1)) / span;
                    count += next - i - 1;
                    i = next - 1;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown missing-value policy");
            }
        }
        return count;
    }

    private static int ApplyNegativePolicy(string id, string column, List<DateTime> times, double[] values, NegativeValuePolicy policy, Func<DateTime, string> describe)
    {
        int count = 0;
        for (int i = 0; i < values.Length; i++)
        {
            if (!(values[i] < 0)) continue;
            switch (policy)
            {
                case NegativeValuePolicy.Error:
                    throw new ArgumentException($"series '{id}' column '{column}' is {values[i]} at {describe(times[i])}; negative values need a NegativeValuePolicy (Keep or ClampToZero)", "observations");
                case NegativeValuePolicy.Keep:
                    break;
                case NegativeValuePolicy.ClampToZero:
                    values[i] = 0;
                    count++;
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown negative-value policy");
            }
        }
        return count;
    }

    private static (DateTime[] Grid, double[][] Columns, int Filled) FillGaps(string id, IReadOnlyList<string> names, Frequency frequency, List<DateTime> times, double[][] columns, ColumnPolicies[] policies, int? maxGap, Func<DateTime, string> describe)
    {
        var start = times[0];
        var positions = new long[times.Count];
        for (int i = 0; i < times.Count; i++)
        {
            positions[i] = frequency.PeriodsBetween(start, times[i]);
            if (positions[i] < 0)
                throw new ArgumentException($"series '{id}' timestamp {describe(times[i])} is not on the {frequency.Describe()} grid that starts at {describe(start)}", "observations");
            if (i > 0 && maxGap is { } limit && positions[i] - positions[i - 1] - 1 > limit)
                throw new ArgumentException($"series '{id}' has no row from {describe(times[i - 1])} to {describe(times[i])}: a gap of {positions[i] - positions[i - 1] - 1:N0} {frequency.Describe()} periods, more than MaxGapPeriods ({limit:N0}); check that date, or raise SeriesCleaningOptions.MaxGapPeriods", "observations");
        }
        long last = positions[^1];
        if (last + 1 > int.MaxValue / 2)
            throw new ArgumentException($"series '{id}' spans {last + 1:N0} {frequency.Describe()} periods from {describe(start)} to {describe(times[^1])}; at most {int.MaxValue / 2:N0} are supported", "observations");
        int length = (int)last + 1;
        int filled = length - times.Count;
        if (filled == 0)
            return (times.ToArray(), columns, 0);
        for (int c = 0; c < columns.Length; c++)
        {
            if (policies[c].Gaps != GapPolicy.Error) continue;
            int i = 1;
            while (positions[i] == positions[i - 1] + 1) i++;
            throw new ArgumentException($"series '{id}' has no row for {describe(frequency.Advance(times[i - 1], 1))} ({filled} missing {frequency.Describe()} periods in all); set a GapPolicy (Zero, ForwardFill or Interpolate){(columns.Length > 1 ? $" for column '{names[c]}'" : "")} to fill them", "observations");
        }

        var grid = new DateTime[length];
        for (int k = 0; k < length; k++) grid[k] = frequency.Advance(start, k);
        var result = new double[columns.Length][];
        for (int c = 0; c < columns.Length; c++)
        {
            var policy = policies[c].Gaps;
            var dense = new double[length];
            for (int i = 0; i < times.Count; i++)
            {
                dense[positions[i]] = columns[c][i];
                if (i == 0) continue;
                long from = positions[i - 1], to = positions[i];
                for (long k = from + 1; k < to; k++)
                {
                    dense[k] = policy switch
                    {
                        GapPolicy.Zero => 0,
                        GapPolicy.ForwardFill => columns[c][i - 1],
                        GapPolicy.Interpolate => columns[c][i - 1] + (columns[c][i] - columns[c][i - 1]) * (k - from) / (to - from),
                        _ => throw new ArgumentOutOfRangeException(nameof(policies), policy, "unknown gap policy"),
                    };
                }
            }
            result[c] = dense;
        }
        return (grid, result, filled);
    }
}
