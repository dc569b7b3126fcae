using System.Globalization;
using CsvHelper;
using CsvHelper.Configuration;

namespace SeqForecast.Data;

/// <summary>Long CSV layout: one row per (series, timestamp), with one or more value columns.</summary>
/// <remarks>Example: <c>item,ds,y</c> with rows <c>15036,2010-12-02,48</c>.</remarks>
public sealed record LongCsvFormat
{
    /// <summary>Column holding the series id. Default <c>"id"</c>.</summary>
    public string IdColumn { get; init; } = "id";

    /// <summary>Column holding the timestamp. Default <c>"date"</c>.</summary>
    public string DateColumn { get; init; } = "date";

    /// <summary>Value columns to read; <c>null</c> reads every column other than the id and date columns.</summary>
    public IReadOnlyList<string>? ValueColumns { get; init; }

    /// <summary>Accepted timestamp formats (invariant culture), tried in order.</summary>
    public IReadOnlyList<string> DateFormats { get; init; } = SeriesCsv.DefaultDateFormats;

    /// <summary>Field delimiter. Default ","; European files often use ";".</summary>
    public string Delimiter { get; init; } = ",";
}

/// <summary>Wide CSV layout: one row per timestamp, one column per series.</summary>
/// <remarks>Example: <c>"Month","Passengers"</c> with rows <c>"1949-01",112</c>.</remarks>
public sealed record WideCsvFormat
{
    /// <summary>Column holding the timestamp; <c>null</c> when the file has none (the series get no timestamps). Default <c>"date"</c>.</summary>
    public string? DateColumn { get; init; } = "date";

    /// <summary>Series columns to read; <c>null</c> reads every column other than the date column.</summary>
    public IReadOnlyList<string>? SeriesColumns { get; init; }

    /// <summary>Name given to the single value column of each series. Default <c>"value"</c>.</summary>
    public string ValueColumnName { get; init; } = "value";

    /// <summary>Accepted timestamp formats (invariant culture), tried in order.</summary>
    public IReadOnlyList<string> DateFormats { get; init; } = SeriesCsv.DefaultDateFormats;

    /// <summary>Field delimiter. Default ","; European files often use ";".</summary>
    public string Delimiter { get; init; } = ",";
}

/// <summary>
/// One-row-per-series CSV layout, as the M4 competition files: an id, then the series' values in order; rows have
/// different lengths, and a row ends at its first empty field. The series get no timestamps.
/// </summary>
/// <remarks>Example: <c>"V1","V2","V3"</c> then <c>"W1","1089.2","1078.91"</c>.</remarks>
public sealed record RaggedCsvFormat
{
    /// <summary>The first row is a header (M4's <c>"V1","V2",…</c>) and is skipped. Default true.</summary>
    public bool HasHeader { get; init; } = true;

    /// <summary>Name given to the value column of each series. Default <c>"value"</c>.</summary>
    public string ValueColumnName { get; init; } = "value";

    /// <summary>Field delimiter. Default ",".</summary>
    public string Delimiter { get; init; } = ",";
}

/// <summary>Series read from a file, with what the cleaning policies changed.</summary>
/// <param name="Series">The series, in order of first appearance (long format) or column order (wide format).</param>
/// <param name="Report">Counts of gaps filled, duplicates merged, NaN filled and negatives clamped.</param>
public sealed record SeriesLoadResult(IReadOnlyList<TimeSeries> Series, CleaningReport Report);

/// <summary>Reads series from CSV files in long or wide layout, using CsvHelper.</summary>
/// <remarks>
/// Numbers use the invariant culture. An empty value field, or the text <c>NaN</c>, is a missing value and goes
/// to <see cref="SeriesCleaningOptions.MissingValues"/>. Errors in the file throw <see cref="CsvDataException"/>
/// with the file, line and column; a cleaning policy set to <c>Error</c> throws <see cref="ArgumentException"/>
/// prefixed with the file name.
/// </remarks>
public static class SeriesCsv
{
    /// <summary>Timestamp formats tried by default: ISO dates, ISO date-times and year-month.</summary>
    public static IReadOnlyList<string> DefaultDateFormats { get; } =
        ["yyyy-MM-dd", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM", "yyyy/MM/dd"];

    /// <summary>Reads a long-format file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CsvDataException">A malformed row, a missing column, or an unparseable date or number.</exception>
    /// <exception cref="ArgumentException">A cleaning policy set to <c>Error</c> met its case.</exception>
    public static SeriesLoadResult ReadLong(string path, LongCsvFormat format, SeriesCleaningOptions cleaning)
    {
        using var reader = OpenFile(path);
        return ReadLong(reader, path, format, cleaning);
    }

    /// <summary>Reads long-format CSV text from <paramref name="reader"/>; <paramref name="sourceName"/> names it in errors.</summary>
    public static SeriesLoadResult ReadLong(TextReader reader, string sourceName, LongCsvFormat format, SeriesCleaningOptions cleaning)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(cleaning);
        using var csv = new CsvReader(reader, Configuration(format.Delimiter));
        var header = ReadHeader(csv, sourceName);
        int idIndex = RequireColumn(header, format.IdColumn, sourceName);
        int dateIndex = RequireColumn(header, format.DateColumn, sourceName);
        var valueNames = format.ValueColumns ?? header.Where((_, i) => i != idIndex && i != dateIndex).ToArray();
        if (valueNames.Count == 0)
            throw new CsvDataException(sourceName, 1, null, $"no value columns besides '{format.IdColumn}' and '{format.DateColumn}'");
        var valueIndices = valueNames.Select(n => RequireColumn(header, n, sourceName)).ToArray();

        var rowsById = new Dictionary<string, List<Observation>>(StringComparer.Ordinal);
        var order = new List<string>();
        while (ReadRow(csv, sourceName, header.Length))
        {
            int line = csv.Parser.RawRow;
            var id = csv.GetField(idIndex)!.Trim();
            if (id.Length == 0)
                throw new CsvDataException(sourceName, line, format.IdColumn, "the series id is empty");
            var time = ParseDate(csv.GetField(dateIndex)!, format.DateFormats, sourceName, line, format.DateColumn);
            var values = new double[valueIndices.Length];
            for (int v = 0; v < values.Length; v++)
                values[v] = ParseNumber(csv.GetField(valueIndices[v])!, sourceName, line, valueNames[v]);
            if (!rowsById.TryGetValue(id, out var rows))
            {
                rowsById[id] = rows = [];
                order.Add(id);
            }
            rows.Add(new Observation(time, values));
        }
        if (order.Count == 0)
            throw new CsvDataException(sourceName, 0, null, "the file has a header but no data rows");
        return Assemble($"file '{sourceName}'", order.Select(id => (id, (IReadOnlyList<Observation>)rowsById[id])), valueNames, cleaning);
    }

    /// <summary>Reads a wide-format file.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CsvDataException">A malformed row, a missing column, or an unparseable date or number.</exception>
    /// <exception cref="ArgumentException">A cleaning policy set to <c>Error</c> met its case.</exception>
    public static SeriesLoadResult ReadWide(string path, WideCsvFormat format, SeriesCleaningOptions cleaning)
    {
        using var reader = OpenFile(path);
        return ReadWide(reader, path, format, cleaning);
    }

    /// <summary>Reads wide-format CSV text from <paramref name="reader"/>; <paramref name="sourceName"/> names it in errors.</summary>
    public static SeriesLoadResult ReadWide(TextReader reader, string sourceName, WideCsvFormat format, SeriesCleaningOptions cleaning)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(cleaning);
        using var csv = new CsvReader(reader, Configuration(format.Delimiter));
        var header = ReadHeader(csv, sourceName);
        int dateIndex = format.DateColumn is null ? -1 : RequireColumn(header, format.DateColumn, sourceName);
        var seriesNames = format.SeriesColumns ?? header.Where((_, i) => i != dateIndex).ToArray();
        if (seriesNames.Count == 0)
            throw new CsvDataException(sourceName, 1, null, "no series columns besides the date column");
        var seriesIndices = seriesNames.Select(n => RequireColumn(header, n, sourceName)).ToArray();

        var rows = seriesNames.Select(_ => new List<Observation>()).ToArray();
        int rowNumber = 0;
        while (ReadRow(csv, sourceName, header.Length))
        {
            int line = csv.Parser.RawRow;
            // Without a date column, the row number stands in as a daily index so the assembler sees a regular grid.
            var time = dateIndex < 0 ? DateTime.UnixEpoch.AddDays(rowNumber) : ParseDate(csv.GetField(dateIndex)!, format.DateFormats, sourceName, line, format.DateColumn!);
            rowNumber++;
            for (int s = 0; s < seriesIndices.Length; s++)
                rows[s].Add(new Observation(time, [ParseNumber(csv.GetField(seriesIndices[s])!, sourceName, line, seriesNames[s])]));
        }
        if (rowNumber == 0)
            throw new CsvDataException(sourceName, 0, null, "the file has a header but no data rows");
        // Rows stand in for dates when the file has none: errors then name data rows, not made-up dates.
        Func<DateTime, string>? describe = dateIndex < 0 ? t => $"data row {(int)(t - DateTime.UnixEpoch).TotalDays + 1}" : null;
        var result = Assemble($"file '{sourceName}'", seriesNames.Select((n, s) => (n, (IReadOnlyList<Observation>)rows[s])), [format.ValueColumnName], dateIndex < 0 ? cleaning with { Frequency = Frequency.Daily } : cleaning, describe);
        if (dateIndex >= 0) return result;
        var untimed = result.Series.Select(s => new TimeSeries(s.Id, s.ColumnNames, Enumerable.Range(0, s.ColumnNames.Count).Select(c => s.Column(c).ToArray()).ToArray())).ToArray();
        return result with { Series = untimed };
    }

    /// <summary>Reads a one-row-per-series file (the M4 layout).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="CsvDataException">A malformed row, an empty id, a repeated id, a row without values, or a value that is not a number.</exception>
    public static SeriesLoadResult ReadRagged(string path, RaggedCsvFormat format)
    {
        using var reader = OpenFile(path);
        return ReadRagged(reader, path, format);
    }

    /// <summary>Reads one-row-per-series CSV text from <paramref name="reader"/>; <paramref name="sourceName"/> names it in errors.</summary>
    public static SeriesLoadResult ReadRagged(TextReader reader, string sourceName, RaggedCsvFormat format)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(format);
        using var csv = new CsvReader(reader, Configuration(format.Delimiter));
        var series = new List<TimeSeries>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            bool first = true;
            while (csv.Read())
            {
                int line = csv.Parser.RawRow;
                if (first && format.HasHeader) { first = false; continue; }
                first = false;
                if (csv.Parser.Count == 1 && string.IsNullOrWhiteSpace(csv.Parser.RawRecord)) continue;
                var id = csv.GetField(0)!.Trim();
                if (id.Length == 0) throw new CsvDataException(sourceName, line, null, "the series id (first field) is empty");
                if (!ids.Add(id)) throw new CsvDataException(sourceName, line, null, $"series '{id}' appears on two rows");
                var values = new List<double>(csv.Parser.Count - 1);
                for (int f = 1; f < csv.Parser.Count; f++)
                {
                    var text = csv.GetField(f)!.Trim();
                    if (text.Length == 0) break;
                    if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
                        throw new CsvDataException(sourceName, line, $"field {f + 1}", $"'{text}' is not a finite number");
                    values.Add(value);
                }
                if (values.Count == 0) throw new CsvDataException(sourceName, line, null, $"series '{id}' has no values");
                series.Add(TimeSeries.FromValues(id, values, columnName: format.ValueColumnName));
            }
        }
        catch (CsvHelperException ex)
        {
            throw new CsvDataException(sourceName, ex.Context?.Parser?.RawRow ?? 0, null, "the row is malformed (unbalanced quotes or bad data)", ex);
        }
        if (series.Count == 0) throw new CsvDataException(sourceName, 0, null, "the file holds no series rows");
        return new SeriesLoadResult(series, CleaningReport.Empty with { SeriesCount = series.Count });
    }

    private static CsvConfiguration Configuration(string delimiter)
    {
        if (string.IsNullOrEmpty(delimiter) || delimiter.Contains('"') || delimiter.Contains('\n') || delimiter.Contains('\r'))
            throw new ArgumentException($"delimiter '{delimiter}' is invalid; use a non-empty text without quotes or line breaks, such as \",\" or \";\"", nameof(delimiter));
        return new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            Delimiter = delimiter,
            TrimOptions = TrimOptions.Trim,
            DetectColumnCountChanges = false,
            MissingFieldFound = null,
            HeaderValidated = null,
        };
    }

    private static StreamReader OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"file '{path}' does not exist", path);
        return new StreamReader(path);
    }

    private static string[] ReadHeader(CsvReader csv, string source)
    {
        try
        {
            if (!csv.Read() || !csv.ReadHeader() || csv.HeaderRecord is null || csv.HeaderRecord.Length == 0)
                throw new CsvDataException(source, 1, null, "the file is empty; expected a header row");
        }
        catch (CsvHelperException ex)
        {
            throw new CsvDataException(source, 1, null, $"the header row is malformed ({ex.GetType().Name})", ex);
        }
        var header = csv.HeaderRecord;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in header)
            if (!seen.Add(name))
                throw new CsvDataException(source, 1, name, "the header names this column twice");
        return header;
    }

    private static bool ReadRow(CsvReader csv, string source, int expectedFields)
    {
        try
        {
            while (csv.Read())
            {
                var count = csv.Parser.Count;
                if (count == 1 && string.IsNullOrWhiteSpace(csv.Parser.RawRecord)) continue;
                if (count != expectedFields)
                    throw new CsvDataException(source, csv.Parser.RawRow, null, $"the row has {count} fields but the header has {expectedFields}");
                return true;
            }
            return false;
        }
        catch (CsvHelperException ex)
        {
            throw new CsvDataException(source, ex.Context?.Parser?.RawRow ?? 0, null, "the row is malformed (unbalanced quotes or bad data)", ex);
        }
    }

    private static int RequireColumn(string[] header, string name, string source)
    {
        int index = Array.IndexOf(header, name);
        if (index < 0)
            throw new CsvDataException(source, 1, name, $"the header has no such column; it has: {string.Join(", ", header)}");
        return index;
    }

    private static DateTime ParseDate(string text, IReadOnlyList<string> formats, string source, int line, string column)
    {
        var trimmed = text.Trim();
        foreach (var format in formats)
            if (DateTime.TryParseExact(trimmed, format, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time))
                return DateTime.SpecifyKind(time, DateTimeKind.Unspecified);
        throw new CsvDataException(source, line, column, $"'{text}' is not a date; expected one of: {string.Join(", ", formats)}");
    }

    private static double ParseNumber(string text, string source, int line, string column)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0 || trimmed.Equals("NaN", StringComparison.OrdinalIgnoreCase))
            return double.NaN;
        if (double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            return value;
        throw new CsvDataException(source, line, column, $"'{text}' is not a number");
    }

    /// <summary>Assembles grouped rows; <paramref name="source"/> describes the data in errors ("file 'x.csv'", "records").</summary>
    internal static SeriesLoadResult Assemble(string source, IEnumerable<(string Id, IReadOnlyList<Observation> Rows)> groups, IReadOnlyList<string> columns, SeriesCleaningOptions cleaning, Func<DateTime, string>? describe = null)
    {
        var list = groups.ToList();
        if (cleaning.Frequency is null && list.Count > 1)
        {
            try
            {
                var frequency = FrequencyExtensions.InferCommon(list.Select(g => (IReadOnlyList<DateTime>)g.Rows.Select(r => r.Timestamp).Order().ToArray()), source);
                cleaning = cleaning with { Frequency = frequency };
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException(ErrorMessages.Bare(ex), "path", ex);
            }
        }
        var series = new List<TimeSeries>();
        var report = CleaningReport.Empty;
        foreach (var (id, rows) in list)
        {
            try
            {
                var (s, r) = SeriesAssembler.Assemble(id, columns, rows, cleaning, describe);
                series.Add(s);
                report += r;
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"{source}: {ErrorMessages.Bare(ex)}", "path", ex);
            }
        }
        return new SeriesLoadResult(series, report);
    }
}
