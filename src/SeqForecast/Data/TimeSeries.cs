using System.Collections.ObjectModel;
using System.Globalization;

namespace SeqForecast.Data;

/// <summary>
/// A static (time-invariant) attribute of a series: a category (store, product group, region) or a number (shelf
/// size). Converts implicitly from <see cref="string"/> and <see cref="double"/>.
/// </summary>
public readonly record struct StaticValue
{
    private StaticValue(string? category, double number)
    {
        Category = category;
        Number = number;
    }

    /// <summary>The category, or null for a numeric attribute.</summary>
    public string? Category { get; }

    /// <summary>The number (NaN for a category).</summary>
    public double Number { get; }

    /// <summary>True for a categorical attribute.</summary>
    public bool IsCategory => Category is not null;

    /// <summary>A categorical attribute.</summary>
    /// <exception cref="ArgumentException">The category is empty.</exception>
    public static StaticValue Of(string category)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(category);
        return new StaticValue(category, double.NaN);
    }

    /// <summary>A numeric attribute.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The number is NaN or infinite.</exception>
    public static StaticValue Of(double number) => double.IsFinite(number)
        ? new StaticValue(null, number)
        : throw new ArgumentOutOfRangeException(nameof(number), number, $"a numeric static value must be finite; got {number}");

    /// <summary>A categorical attribute.</summary>
    public static implicit operator StaticValue(string category) => Of(category);

    /// <summary>A numeric attribute.</summary>
    public static implicit operator StaticValue(double number) => Of(number);

    /// <inheritdoc />
    public override string ToString() => Category ?? Number.ToString("G", CultureInfo.InvariantCulture);
}

/// <summary>
/// One time series: an identifier, optional timestamps, and one or more named value columns of equal length.
/// </summary>
/// <remarks>
/// Values are stored column by column as <see cref="double"/>. The type is immutable: every operation that
/// changes values returns a new instance. Timestamps, when present, are strictly increasing.
/// </remarks>
public sealed class TimeSeries
{
    private readonly double[][] _columns;
    private readonly DateTime[]? _timestamps;
    private static readonly IReadOnlyDictionary<string, StaticValue> NoStatics = new ReadOnlyDictionary<string, StaticValue>(new Dictionary<string, StaticValue>());

    /// <summary>Creates a series from named columns and optional timestamps.</summary>
    /// <param name="id">Series identifier (for example a SKU). Must not be empty.</param>
    /// <param name="columnNames">Names of the value columns; unique, at least one.</param>
    /// <param name="columns">One array per column, all of the same length (at least 1). The arrays are copied.</param>
    /// <param name="timestamps">Optional timestamps, one per point, strictly increasing. Copied.</param>
    /// <param name="statics">Optional static attributes by name (category, store, …). Copied.</param>
    /// <exception cref="ArgumentException">Empty id, no columns, duplicate names, unequal lengths, empty series or unordered timestamps.</exception>
    public TimeSeries(string id, IReadOnlyList<string> columnNames, IReadOnlyList<double[]> columns, IReadOnlyList<DateTime>? timestamps = null, IReadOnlyDictionary<string, StaticValue>? statics = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentNullException.ThrowIfNull(columnNames);
        ArgumentNullException.ThrowIfNull(columns);
        if (columnNames.Count == 0)
            throw new ArgumentException($"series '{id}' needs at least one value column; got 0", nameof(columnNames));
        if (columns.Count != columnNames.Count)
            throw new ArgumentException($"series '{id}' has {columnNames.Count} column names but {columns.Count} columns; the counts must match", nameof(columns));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in columnNames)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(name, nameof(columnNames));
            if (!names.Add(name))
                throw new ArgumentException($"series '{id}' has column '{name}' twice; column names must be unique", nameof(columnNames));
        }

        int length = columns[0]?.Length ?? throw new ArgumentNullException(nameof(columns));
        if (length == 0)
            throw new ArgumentException($"series '{id}' is empty; a series needs at least 1 point", nameof(columns));
        _columns = new double[columns.Count][];
        for (int c = 0; c < columns.Count; c++)
        {
            var column = columns[c] ?? throw new ArgumentNullException(nameof(columns));
            if (column.Length != length)
                throw new ArgumentException($"series '{id}' column '{columnNames[c]}' has {column.Length} points but column '{columnNames[0]}' has {length}; all columns must have the same length", nameof(columns));
            _columns[c] = (double[])column.Clone();
        }

        if (timestamps is not null)
        {
            if (timestamps.Count != length)
                throw new ArgumentException($"series '{id}' has {timestamps.Count} timestamps for {length} points; the counts must match", nameof(timestamps));
            _timestamps = new DateTime[length];
            for (int i = 0; i < length; i++)
            {
                _timestamps[i] = timestamps[i];
                if (i > 0 && _timestamps[i] <= _timestamps[i - 1])
                    throw new ArgumentException($"series '{id}' timestamp {FrequencyExtensions.Format(_timestamps[i])} at index {i} is not after {FrequencyExtensions.Format(_timestamps[i - 1])}; timestamps must be strictly increasing", nameof(timestamps));
            }
        }

        Id = id;
        ColumnNames = new ReadOnlyCollection<string>(columnNames.ToArray());
        if (statics is { Count: > 0 })
        {
            foreach (var name in statics.Keys) ArgumentException.ThrowIfNullOrWhiteSpace(name, nameof(statics));
            Statics = new ReadOnlyDictionary<string, StaticValue>(new Dictionary<string, StaticValue>(statics, StringComparer.Ordinal));
        }
        else
        {
            Statics = NoStatics;
        }
    }

    /// <summary>Creates a single-column series.</summary>
    /// <param name="id">Series identifier.</param>
    /// <param name="values">The values; copied.</param>
    /// <param name="timestamps">Optional timestamps, strictly increasing.</param>
    /// <param name="columnName">Name of the value column; <c>"value"</c> by default.</param>
    public static TimeSeries FromValues(string id, IReadOnlyList<double> values, IReadOnlyList<DateTime>? timestamps = null, string columnName = "value")
    {
        ArgumentNullException.ThrowIfNull(values);
        return new TimeSeries(id, [columnName], [values.ToArray()], timestamps);
    }

    /// <summary>Series identifier.</summary>
    public string Id { get; }

    /// <summary>Names of the value columns, in storage order.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>Static attributes (category, store, region, …) by name; empty when the series has none.</summary>
    public IReadOnlyDictionary<string, StaticValue> Statics { get; }

    /// <summary>Number of points.</summary>
    public int Length => _columns[0].Length;

    /// <summary>True when the series carries timestamps.</summary>
    public bool HasTimestamps => _timestamps is not null;

    /// <summary>The timestamps; empty when the series has none.</summary>
    public ReadOnlySpan<DateTime> Timestamps => _timestamps;

    /// <summary>The values of column <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is not a column index.</exception>
    public ReadOnlySpan<double> Column(int index)
    {
        if ((uint)index >= (uint)_columns.Length)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"series '{Id}' has {_columns.Length} columns; index must be in [0, {_columns.Length - 1}]");
        return _columns[index];
    }

    /// <summary>The values of the column named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No column has that name.</exception>
    public ReadOnlySpan<double> Column(string name) => _columns[ColumnIndex(name)];

    /// <summary>Index of the column named <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No column has that name.</exception>
    public int ColumnIndex(string name)
    {
        for (int c = 0; c < ColumnNames.Count; c++)
            if (string.Equals(ColumnNames[c], name, StringComparison.Ordinal))
                return c;
        throw new ArgumentException($"series '{Id}' has no column '{name}'; its columns are: {string.Join(", ", ColumnNames)}", nameof(name));
    }

    /// <summary>Returns the points [<paramref name="start"/>, <paramref name="start"/> + <paramref name="length"/>) as a new series.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty or outside the series.</exception>
    public TimeSeries Slice(int start, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (start + length > Length)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"series '{Id}' has {Length} points; start {start} + length {length} must be at most {Length}");
        var columns = _columns.Select(c => c.AsSpan(start, length).ToArray()).ToArray();
        return new TimeSeries(Id, ColumnNames, columns, _timestamps?.AsSpan(start, length).ToArray(), Statics);
    }

    /// <summary>Returns a copy whose column values are replaced by <paramref name="columns"/>; id, names, timestamps and statics are kept.</summary>
    public TimeSeries WithColumns(IReadOnlyList<double[]> columns) => new(Id, ColumnNames, columns, _timestamps, Statics);

    /// <summary>Returns a copy with the static attributes <paramref name="statics"/> (replacing any it had).</summary>
    public TimeSeries WithStatics(IReadOnlyDictionary<string, StaticValue> statics) => new(Id, ColumnNames, _columns, _timestamps, statics);

    /// <summary>Returns a copy with the columns and timestamps of <paramref name="columnNames"/> only, in that order; id and statics are kept.</summary>
    /// <exception cref="ArgumentException">A column is missing.</exception>
    public TimeSeries SelectColumns(IReadOnlyList<string> columnNames)
    {
        ArgumentNullException.ThrowIfNull(columnNames);
        return new TimeSeries(Id, columnNames, columnNames.Select(n => _columns[ColumnIndex(n)]).ToArray(), _timestamps, Statics);
    }

    /// <inheritdoc />
    public override string ToString() => $"TimeSeries '{Id}' ({Length} points, columns: {string.Join(", ", ColumnNames)})";
}
