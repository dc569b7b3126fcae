namespace SeqForecast.Data;

/// <summary>
/// A CSV file holds data that cannot be read: a malformed row, a missing column, or a date or number that
/// does not parse. The message names the file, the line and the column.
/// </summary>
public sealed class CsvDataException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="source">File path or source name.</param>
    /// <param name="line">1-based line number in the file; 0 when the problem is not on one line.</param>
    /// <param name="column">Column name, or null when the problem is not in one column.</param>
    /// <param name="problem">What is wrong.</param>
    /// <param name="inner">The underlying exception, if any.</param>
    public CsvDataException(string source, int line, string? column, string problem, Exception? inner = null)
        : base(Format(source, line, column, problem), inner)
    {
        Source = source;
        Line = line;
        Column = column;
    }

    /// <summary>File path or source name.</summary>
    public new string Source { get; }

    /// <summary>1-based line number; 0 when the problem is not on one line (for example a missing header column).</summary>
    public int Line { get; }

    /// <summary>Column name, or null.</summary>
    public string? Column { get; }

    private static string Format(string source, int line, string? column, string problem)
    {
        var where = $"file '{source}'";
        if (line > 0) where += $", line {line}";
        if (column is not null) where += $", column '{column}'";
        return $"{where}: {problem}";
    }
}
