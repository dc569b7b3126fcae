using System.Globalization;
using Microsoft.Data.Sqlite;
using SeqForecast.Data;
using SeqForecast.Windows;

namespace SalesForecast;

/// <summary>How a sales CSV is laid out.</summary>
internal enum CsvLayout
{
    /// <summary>Decide from the file; a file that could be either is an error naming the option to set.</summary>
    Auto,
    /// <summary>One row per (product, day): id, date and quantity columns.</summary>
    Long,
    /// <summary>One row per day: a date column, then one column per product.</summary>
    Wide,
}

/// <summary>Which columns of a long CSV hold what; null takes the first three columns in the order id, date, value.</summary>
internal sealed record CsvColumns(string? Id, string? Date, string? Value, string Delimiter = ",");

/// <summary>Where the sales come from: the bundled file, a CSV, or a SQLite query.</summary>
internal static class SalesData
{
    /// <summary>Name of the value column of every loaded series, whatever the source calls it, so a model trained from one source forecasts another.</summary>
    public const string ValueColumn = "sales";

    /// <summary>Largest absolute quantity accepted; bigger values are almost surely a unit or parsing mistake, and lose precision in training.</summary>
    public const double MaxAbsoluteValue = 1e12;

    /// <summary>The bundled UCI Online Retail extract (see data/SOURCES.md).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "data", "uci_online_retail_top30_daily.csv");

    /// <summary>England and Wales bank holidays 2010–2012, the span of the bundled data (see data/SOURCES.md).</summary>
    public static string BundledHolidays => Path.Combine(AppContext.BaseDirectory, "data", "uk_bank_holidays.csv");

    /// <summary>The cleaning rules of every source: a missing day is zero sales, duplicate rows are summed, and a gap of more than three years is a mistake.</summary>
    public static SeriesCleaningOptions Cleaning { get; } = SeriesCleaningOptions.Sales with { MaxGapPeriods = 3 * 366 };

    /// <summary>Reads a CSV in long or wide layout. In <see cref="CsvLayout.Auto"/>, a file whose layout is not certain is an error.</summary>
    public static SeriesLoadResult ReadCsv(string path, CsvLayout layout = CsvLayout.Auto, CsvColumns? columns = null)
    {
        columns ??= new CsvColumns(null, null, null);
        if (!File.Exists(path)) throw new FileNotFoundException($"input file '{path}' does not exist", path);
        var (header, first) = Peek(path, columns.Delimiter);
        if (layout == CsvLayout.Auto && header.Length < 3 && !IsDate(first[0]))
            throw new CsvDataException(path, 1, null, $"a long-format file needs id, date and value columns; the header has {header.Length}: {string.Join(", ", header)}");
        if (layout == CsvLayout.Auto) layout = Detect(path, header, first, columns);
        SeriesLoadResult loaded;
        if (layout == CsvLayout.Wide)
        {
            loaded = SeriesCsv.ReadWide(path, new WideCsvFormat { DateColumn = columns.Date ?? header[0], ValueColumnName = ValueColumn, Delimiter = columns.Delimiter }, Cleaning);
        }
        else
        {
            if (header.Length < 3 && (columns.Id is null || columns.Date is null || columns.Value is null))
                throw new CsvDataException(path, 1, null, $"a long-format file needs id, date and value columns; the header has {header.Length}: {string.Join(", ", header)}");
            var format = new LongCsvFormat
            {
                IdColumn = columns.Id ?? header[0], DateColumn = columns.Date ?? header[1], ValueColumns = [columns.Value ?? header[2]], Delimiter = columns.Delimiter,
            };
            loaded = SeriesCsv.ReadLong(path, format, Cleaning);
            loaded = loaded with { Series = loaded.Series.Select(Rename).ToArray() };
        }
        CheckMagnitudes(loaded.Series, path);
        return loaded;
    }

    private static (string[] Header, string[] First) Peek(string path, string delimiter)
    {
        using var reader = new StreamReader(path);
        var header = reader.ReadLine();
        var first = reader.ReadLine();
        if (header is null || first is null)
            throw new CsvDataException(path, header is null ? 1 : 2, null, "the file needs a header row and at least one data row");
        return (Split(header, delimiter), Split(first, delimiter));
    }

    private static string[] Split(string line, string delimiter) => line.Split(delimiter).Select(c => c.Trim().Trim('"')).ToArray();

    private static bool IsDate(string text) => SeriesCsv.DefaultDateFormats.Any(f => DateTime.TryParseExact(text, f, CultureInfo.InvariantCulture, DateTimeStyles.None, out _));

    /// <summary>
    /// Long when the second column holds dates (id, date, value); wide when the first column holds dates and no date
    /// repeats. A first column of dates that repeat is a long file with the date first (date, sku, qty): reading it as
    /// wide would sum product ids as sales, so that case is an error that says what to set.
    /// </summary>
    private static CsvLayout Detect(string path, string[] header, string[] first, CsvColumns columns)
    {
        if (columns.Id is not null || columns.Value is not null) return CsvLayout.Long;
        bool firstIsDate = first.Length > 0 && IsDate(first[0]);
        bool secondIsDate = first.Length > 1 && IsDate(first[1]);
        if (secondIsDate && !firstIsDate) return CsvLayout.Long;
        if (!firstIsDate)
            throw new CsvDataException(path, 2, null, $"neither of the first two columns ({string.Join(", ", header.Take(2))}) holds a date; name the columns with --id-column, --date-column and --value-column");
        var dates = new HashSet<string>(StringComparer.Ordinal);
        int line = 1;
        foreach (var text in File.ReadLines(path).Skip(1))
        {
            line++;
            var date = Split(text, columns.Delimiter)[0];
            if (date.Length > 0 && !dates.Add(date))
                throw new CsvDataException(path, line, header[0],
                    $"the date {date} appears on more than one row, so this is not a wide file (one row per day); for a long file with the date first, run with --layout long --date-column {header[0]} --id-column <product column> --value-column <quantity column>");
        }
        return CsvLayout.Wide;
    }

    /// <summary>Runs <paramref name="query"/>, which must return (id, date, value) rows, and assembles the series.</summary>
    /// <exception cref="ArgumentException">A row's id or date is missing or its value is not a number (the message names the row and column).</exception>
    public static SeriesLoadResult ReadSqlite(string databasePath, string query)
    {
        if (!File.Exists(databasePath)) throw new FileNotFoundException($"SQLite database '{databasePath}' does not exist", databasePath);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath, Mode = SqliteOpenMode.ReadOnly }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = query;
        using var reader = command.ExecuteReader();
        if (reader.FieldCount < 3)
            throw new ArgumentException($"query returns {reader.FieldCount} columns; it must return id, date and value (in that order)");
        var rows = new List<SeriesRecord>();
        int row = 0;
        while (reader.Read())
        {
            row++;
            var id = reader.IsDBNull(0) ? throw new ArgumentException($"query row {row}: the id (column '{reader.GetName(0)}') is NULL") : Text(reader, 0, row);
            var dateText = reader.IsDBNull(1) ? "" : Text(reader, 1, row);
            if (!DateTime.TryParseExact(dateText, SeriesCsv.DefaultDateFormats.ToArray(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                throw new ArgumentException($"query row {row}, column '{reader.GetName(1)}': '{dateText}' is not a date (expected yyyy-MM-dd)");
            rows.Add(new SeriesRecord(id, date, Number(reader, 2, row)));
        }
        if (rows.Count == 0) throw new ArgumentException($"query returned no rows: {query}");
        var loaded = SeriesRecords.Assemble(rows, ValueColumn, Cleaning, source: $"query on {databasePath}");
        CheckMagnitudes(loaded.Series, databasePath);
        return loaded;
    }

    private static string Text(SqliteDataReader reader, int column, int row) => reader.GetFieldType(column) == typeof(byte[])
        ? throw new ArgumentException($"query row {row}, column '{reader.GetName(column)}': the value is a BLOB; expected text or a number")
        : Convert.ToString(reader.GetValue(column), CultureInfo.InvariantCulture)!;

    private static double Number(SqliteDataReader reader, int column, int row)
    {
        if (reader.IsDBNull(column)) return double.NaN;
        var value = reader.GetValue(column);
        return value switch
        {
            long l => l,
            double d => d,
            string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            string s => throw new ArgumentException($"query row {row}, column '{reader.GetName(column)}': '{s}' is not a number"),
            byte[] => throw new ArgumentException($"query row {row}, column '{reader.GetName(column)}': the value is a BLOB; expected a number"),
            _ => throw new ArgumentException($"query row {row}, column '{reader.GetName(column)}': a {value.GetType().Name} is not a number"),
        };
    }

    /// <summary>Rejects quantities too large to be sales figures, naming the series and day.</summary>
    private static void CheckMagnitudes(IReadOnlyList<TimeSeries> series, string source)
    {
        foreach (var s in series)
        {
            var values = s.Column(0);
            for (int t = 0; t < values.Length; t++)
                if (Math.Abs(values[t]) > MaxAbsoluteValue)
                    throw new ArgumentException($"'{source}': series '{s.Id}' has {values[t]:G4} on {s.Timestamps[t]:yyyy-MM-dd}, more than 1e12 in size; that is not a plausible daily quantity (wrong column or units?)");
        }
    }

    public static HolidayCalendar Holidays(string? path) => HolidayCalendar.ReadCsv(path ?? BundledHolidays, path is null ? "UK bank holidays" : null);

    private static TimeSeries Rename(TimeSeries series) => new(series.Id, [ValueColumn], [series.Column(0).ToArray()], series.Timestamps.ToArray());

    /// <summary>Loads a long-format CSV into table <paramref name="table"/> (id TEXT, date TEXT, value REAL) of a SQLite file.</summary>
    public static int Import(string csvPath, string databasePath, string table)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(table, "^[A-Za-z_][A-Za-z0-9_]*$"))
            throw new ArgumentException($"table name '{table}' is not a plain identifier (letters, digits, underscore)");
        var loaded = ReadCsv(csvPath);
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databasePath }.ToString());
        connection.Open();
        using var transaction = connection.BeginTransaction();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = $"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (id TEXT NOT NULL, date TEXT NOT NULL, value REAL)";
            create.ExecuteNonQuery();
        }
        using var insert = connection.CreateCommand();
        insert.CommandText = $"INSERT INTO {table} (id, date, value) VALUES ($id, $date, $value)";
        var id = insert.Parameters.Add("$id", SqliteType.Text);
        var date = insert.Parameters.Add("$date", SqliteType.Text);
        var value = insert.Parameters.Add("$value", SqliteType.Real);
        int count = 0;
        foreach (var series in loaded.Series)
            for (int t = 0; t < series.Length; t++)
            {
                id.Value = series.Id;
                date.Value = series.Timestamps[t].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                value.Value = series.Column(0)[t];
                insert.ExecuteNonQuery();
                count++;
            }
        transaction.Commit();
        return count;
    }
}
