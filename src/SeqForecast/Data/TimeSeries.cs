using System.Collections.ObjectModel;

namespace SeqForecast.Data;

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

    /// <summary>Creates a series from named columns and optional timestamps.</summary>
    /// <param name="id">Series identifier (for example a SKU). Must not be empty.</param>
    /// <param name="columnNames">Names of the value columns; unique, at least one.</param>
    /// <param name="columns">One array per column, all of the same length (at least 1). The arrays are copied.</param>
    /// <param name="timestamps">Optional timestamps, one per point, strictly increasing. Copied.</param>
    /// <exception cref="ArgumentException">Empty id, no columns, duplicate names, unequal lengths, empty series or unordered timestamps.</exception>
    public TimeSeries(string id, IReadOnlyList<string> columnNames, IReadOnlyList<double[]> columns, IReadOnlyList<DateTime>? timestamps = null)
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
                    throw new ArgumentException($"series '{id}' timestamp {_timestamps[i]:yyyy-MM-dd} at index {i} is not after {_timestamps[i - 1]:yyyy-MM-dd}; timestamps must be strictly increasing", nameof(timestamps));
            }
        }

        Id = id;
        ColumnNames = new ReadOnlyCollection<string>(columnNames.ToArray());
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
        return new TimeSeries(Id, ColumnNames, columns, _timestamps?.AsSpan(start, length).ToArray());
    }

    /// <summary>Returns a copy whose column values are replaced by <paramref name="columns"/>; id, names and timestamps are kept.</summary>
    public TimeSeries WithColumns(IReadOnlyList<double[]> columns) => new(Id, ColumnNames, columns, _timestamps);

    /// <inheritdoc />
    public override string ToString() => $"TimeSeries '{Id}' ({Length} points, columns: {string.Join(", ", ColumnNames)})";
}
