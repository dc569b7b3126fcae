using System.Globalization;
using Microsoft.Data.Sqlite;
using SeqForecast.Data;

namespace SalesForecast;

/// <summary>Where the sales come from: the bundled file, a CSV, or a SQLite query.</summary>
internal static class SalesData
{
    /// <summary>Name of the value column of every loaded series, whatever the source calls it, so a model trained from one source forecasts another.</summary>
    public const string ValueColumn = "sales";

    /// <summary>The bundled UCI Online Retail extract (see data/SOURCES.md).</summary>
    public static string BundledPath => Path.Combine(AppContext.BaseDirectory, "data", "uci_online_retail_top30_daily.csv");

    /// <summary>
    /// Reads a CSV in long format (id, date, value: the first three columns) or wide format (date, then one column per
    /// series). The format is detected from the first data row: a date in the first column means wide.
    /// </summary>
    public static SeriesLoadResult ReadCsv(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"input file '{path}' does not exist", path);
        using var reader = new StreamReader(path);
        var header = reader.ReadLine();
        var first = reader.ReadLine();
        if (header is null || first is null)
            throw new CsvDataException(path, header is null ? 1 : 2, null, "the file needs a header row and at least one data row");
        var columns = header.Split(',').Select(c => c.Trim().Trim('"')).ToArray();
        var firstField = first.Split(',')[0].Trim().Trim('"');
        bool wide = SeriesCsv.DefaultDateFormats.Any(f => DateTime.TryParseExact(firstField, f, CultureInfo.InvariantCulture, DateTimeStyles.None, out _));
        if (wide)
            return SeriesCsv.ReadWide(path, new WideCsvFormat { DateColumn = columns[0], ValueColumnName = ValueColumn }, SeriesCleaningOptions.Sales);
        if (columns.Length < 3)
            throw new CsvDataException(path, 1, null, $"a long-format file needs id, date and value columns; the header has {columns.Length}: {string.Join(", ", columns)}");
        var loaded = SeriesCsv.ReadLong(path, new LongCsvFormat { IdColumn = columns[0], DateColumn = columns[1], ValueColumns = [columns[2]] }, SeriesCleaningOptions.Sales);
        return loaded with { Series = loaded.Series.Select(Rename).ToArray() };
    }

    /// <summary>Runs <paramref name="query"/>, which must return (id, date, value) rows, and assembles the series.</summary>
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
        var rows = new Dictionary<string, List<Observation>>(StringComparer.Ordinal);
        var order = new List<string>();
        int row = 0;
        while (reader.Read())
        {
            row++;
            var id = reader.IsDBNull(0) ? throw new ArgumentException($"query row {row}: the id (column 1) is NULL") : reader.GetValue(0).ToString()!;
            var dateText = reader.IsDBNull(1) ? "" : reader.GetValue(1).ToString()!;
            if (!DateTime.TryParseExact(dateText, SeriesCsv.DefaultDateFormats.ToArray(), CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                throw new ArgumentException($"query row {row}, column '{reader.GetName(1)}': '{dateText}' is not a date (expected yyyy-MM-dd)");
            double value = reader.IsDBNull(2) ? double.NaN : Convert.ToDouble(reader.GetValue(2), CultureInfo.InvariantCulture);
            if (!rows.TryGetValue(id, out var list)) { rows[id] = list = []; order.Add(id); }
            list.Add(new Observation(date, [value]));
        }
        if (order.Count == 0) throw new ArgumentException($"query returned no rows: {query}");
        var series = new List<TimeSeries>();
        var report = CleaningReport.Empty;
        foreach (var id in order)
        {
            var (s, r) = SeriesAssembler.Assemble(id, [ValueColumn], rows[id], SeriesCleaningOptions.Sales);
            series.Add(s);
            report += r;
        }
        return new SeriesLoadResult(series, report);
    }

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
