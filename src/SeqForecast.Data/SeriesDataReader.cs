using System.Data;

namespace SeqForecast.Data;

/// <summary>Series from ADO.NET sources: any <see cref="IDataReader"/> (a database query) or a <see cref="DataTable"/>, in long layout.</summary>
public static class SeriesDataReader
{
    /// <summary>Reads every row of <paramref name="reader"/> and assembles one series per id.</summary>
    /// <param name="reader">Rows of (id, time, values…), in any order.</param>
    /// <param name="format">The id, time and value columns; null value columns take every other column.</param>
    /// <param name="cleaning">Cleaning policies.</param>
    /// <param name="source">Names the data in errors.</param>
    /// <exception cref="ArgumentException">A column is missing, a cell is not a timestamp or number (the message names row and column), or a cleaning policy set to <c>Error</c> met its case.</exception>
    public static SeriesLoadResult ReadLong(IDataReader reader, LongTableFormat format, SeriesCleaningOptions cleaning, string source = "data reader")
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(cleaning);
        var names = Enumerable.Range(0, reader.FieldCount).Select(reader.GetName).ToArray();
        int Ordinal(string name)
        {
            int i = Array.FindIndex(names, n => string.Equals(n, name, StringComparison.Ordinal));
            return i >= 0 ? i : throw new ArgumentException($"{source} has no column '{name}'; it has: {string.Join(", ", names)}", nameof(format));
        }
        int id = Ordinal(format.IdColumn), date = Ordinal(format.DateColumn);
        var valueNames = format.ValueColumns ?? names.Where((_, i) => i != id && i != date).ToArray();
        if (valueNames.Count == 0) throw new ArgumentException($"{source} has no value columns besides '{format.IdColumn}' and '{format.DateColumn}'", nameof(format));
        var values = valueNames.Select(Ordinal).ToArray();
        var rows = new List<(string Id, DateTime Time, double[] Values)>();
        long row = 0;
        while (reader.Read())
        {
            row++;
            var cells = new double[values.Length];
            for (int v = 0; v < values.Length; v++) cells[v] = Cells.Number(reader.GetValue(values[v]), source, row, valueNames[v]);
            rows.Add((Cells.Id(reader.GetValue(id), source, row, format.IdColumn), Cells.Time(reader.GetValue(date), source, row, format.DateColumn), cells));
        }
        if (rows.Count == 0) throw new ArgumentException($"{source} returned no rows", nameof(reader));
        return SeriesRecords.Assemble(rows, r => r.Id, r => r.Time, valueNames.Select((n, v) => (n, (Func<(string Id, DateTime Time, double[] Values), double>)(r => r.Values[v]))).ToArray(), cleaning, source);
    }

    /// <summary>Reads the rows of <paramref name="table"/> (see <see cref="ReadLong(IDataReader, LongTableFormat, SeriesCleaningOptions, string)"/>).</summary>
    public static SeriesLoadResult ReadLong(DataTable table, LongTableFormat format, SeriesCleaningOptions cleaning)
    {
        ArgumentNullException.ThrowIfNull(table);
        using var reader = table.CreateDataReader();
        return ReadLong(reader, format, cleaning, string.IsNullOrEmpty(table.TableName) ? "data table" : $"data table '{table.TableName}'");
    }
}
