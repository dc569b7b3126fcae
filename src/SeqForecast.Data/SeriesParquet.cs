using Parquet;
using Parquet.Schema;

namespace SeqForecast.Data;

/// <summary>Series from Parquet files (read column by column with Parquet.Net), in long layout, and series written back as Parquet.</summary>
public static class SeriesParquet
{
    /// <summary>Reads a long Parquet file (a row per id and time) and assembles one series per id.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ArgumentException">A column is missing or of an unsupported type, a cell is not a timestamp or number, or a cleaning policy set to <c>Error</c> met its case.</exception>
    /// <exception cref="InvalidDataException">The file is not a readable Parquet file.</exception>
    public static SeriesLoadResult ReadLong(string path, LongTableFormat format, SeriesCleaningOptions cleaning) =>
        ReadLongAsync(path, format, cleaning).GetAwaiter().GetResult();

    /// <summary>Asynchronous <see cref="ReadLong"/>.</summary>
    public static async Task<SeriesLoadResult> ReadLongAsync(string path, LongTableFormat format, SeriesCleaningOptions cleaning, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(cleaning);
        if (!File.Exists(path)) throw new FileNotFoundException($"Parquet file '{path}' does not exist", path);
        var ids = new List<string>();
        var times = new List<DateTime>();
        List<double>[]? values = null;
        IReadOnlyList<string> valueNames = [];
        try
        {
            await using var reader = await ParquetReader.CreateAsync(path, cancellationToken: cancellationToken).ConfigureAwait(false);
            var fields = reader.Schema.GetDataFields();
            DataField Field(string name) => fields.FirstOrDefault(f => f.Name == name)
                ?? throw new ArgumentException($"Parquet file '{path}' has no column '{name}'; it has: {string.Join(", ", fields.Select(f => f.Name))}", nameof(format));
            var idField = Field(format.IdColumn);
            var dateField = Field(format.DateColumn);
            valueNames = format.ValueColumns ?? fields.Select(f => f.Name).Where(n => n != format.IdColumn && n != format.DateColumn).ToArray();
            if (valueNames.Count == 0) throw new ArgumentException($"Parquet file '{path}' has no value columns besides '{format.IdColumn}' and '{format.DateColumn}'", nameof(format));
            var valueFields = valueNames.Select(Field).ToArray();
            values = valueFields.Select(_ => new List<double>()).ToArray();
            for (int g = 0; g < reader.RowGroupCount; g++)
            {
                using var group = reader.OpenRowGroupReader(g);
                int rows = checked((int)group.RowCount);
                long first = ids.Count;
                var idCells = await ReadAsync(group, idField, rows, cancellationToken).ConfigureAwait(false);
                if (idCells is string[] idStrings)
                    for (int r = 0; r < rows; r++) ids.Add(string.IsNullOrWhiteSpace(idStrings[r]) ? Cells.Id(idStrings[r], path, first + r + 1, format.IdColumn) : idStrings[r]);
                else
                    for (int r = 0; r < rows; r++) ids.Add(Cells.Id(idCells.GetValue(r), path, first + r + 1, format.IdColumn));
                var dateCells = await ReadAsync(group, dateField, rows, cancellationToken).ConfigureAwait(false);
                if (dateCells is DateTime[] dates)
                    foreach (var d in dates) times.Add(DateTime.SpecifyKind(d, DateTimeKind.Unspecified));
                else
                    for (int r = 0; r < rows; r++) times.Add(Cells.Time(dateCells.GetValue(r), path, first + r + 1, format.DateColumn));
                for (int v = 0; v < valueFields.Length; v++)
                {
                    var cells = await ReadAsync(group, valueFields[v], rows, cancellationToken).ConfigureAwait(false);
                    if (cells is double[] doubles) values[v].AddRange(doubles);
                    else
                        for (int r = 0; r < rows; r++) values[v].Add(Cells.Number(cells.GetValue(r), path, first + r + 1, valueNames[v]));
                }
            }
        }
        catch (Exception ex) when (ex is not ArgumentException and not OperationCanceledException and not FileNotFoundException)
        {
            throw new InvalidDataException($"Parquet file '{path}' cannot be read: {ex.Message}", ex);
        }
        if (ids.Count == 0) throw new ArgumentException($"Parquet file '{path}' holds no rows", nameof(path));
        var columns = values!;
        return SeriesRecords.Assemble(Enumerable.Range(0, ids.Count), r => ids[r], r => times[r],
            valueNames.Select((n, v) => (n, (Func<int, double>)(r => columns[v][r]))).ToArray(), cleaning, $"Parquet file '{path}'");
    }

    /// <summary>Writes the series as a long Parquet file: <c>id</c> (string), <c>date</c> (timestamp) and one double column per value column, in row groups of at most <paramref name="rowGroupSize"/> rows.</summary>
    /// <exception cref="ArgumentException">No series, series without timestamps, or series with different columns.</exception>
    public static void WriteLong(string path, IReadOnlyList<TimeSeries> series, int rowGroupSize = 1_000_000) =>
        WriteLongAsync(path, series, rowGroupSize).GetAwaiter().GetResult();

    /// <summary>Asynchronous <see cref="WriteLong"/>; the file is written to a temporary name and then renamed.</summary>
    public static async Task WriteLongAsync(string path, IReadOnlyList<TimeSeries> series, int rowGroupSize = 1_000_000, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rowGroupSize);
        if (series.Count == 0) throw new ArgumentException("series is empty", nameof(series));
        var names = series[0].ColumnNames;
        foreach (var s in series)
        {
            if (!s.HasTimestamps) throw new ArgumentException($"series '{s.Id}' has no timestamps; a long Parquet file needs them", nameof(series));
            if (!s.ColumnNames.SequenceEqual(names)) throw new ArgumentException($"series '{s.Id}' has columns unlike series '{series[0].Id}'", nameof(series));
        }
        var idField = new DataField<string>("id");
        var dateField = new DataField<DateTime>("date");
        var valueFields = names.Select(n => new DataField<double>(n)).ToArray();
        var schema = new ParquetSchema([idField, dateField, .. valueFields]);
        var rows = series.SelectMany(s => Enumerable.Range(0, s.Length).Select(t => (Series: s, Index: t)));
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = File.Create(temporary))
            await using (var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                foreach (var chunk in rows.Chunk(rowGroupSize))
                {
                    using var group = writer.CreateRowGroup();
                    await group.WriteAsync(idField, chunk.Select(r => r.Series.Id).ToArray(), null).ConfigureAwait(false);
                    await group.WriteAsync<DateTime>(dateField, chunk.Select(r => r.Series.Timestamps[r.Index]).ToArray(), null, null, cancellationToken).ConfigureAwait(false);
                    for (int c = 0; c < valueFields.Length; c++)
                    {
                        int column = c;
                        await group.WriteAsync<double>(valueFields[c], chunk.Select(r => r.Series.Column(column)[r.Index]).ToArray(), null, null, cancellationToken).ConfigureAwait(false);
                    }
                }
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>A column of one row group as a typed array (nullable values as <c>T?[]</c>).</summary>
    private static async Task<Array> ReadAsync(ParquetRowGroupReader group, DataField field, int rows, CancellationToken token)
    {
        var type = field.ClrType;
        if (type == typeof(string) || type == typeof(ReadOnlyMemory<char>))
        {
            var strings = new string[rows];
            await group.ReadAsync(field, strings, null, token).ConfigureAwait(false);
            return strings;
        }
        if (type == typeof(double)) return await Read<double>(group, field, rows, token).ConfigureAwait(false);
        if (type == typeof(float)) return await Read<float>(group, field, rows, token).ConfigureAwait(false);
        if (type == typeof(int)) return await Read<int>(group, field, rows, token).ConfigureAwait(false);
        if (type == typeof(long)) return await Read<long>(group, field, rows, token).ConfigureAwait(false);
        if (type == typeof(short)) return await Read<short>(group, field, rows, token).ConfigureAwait(false);
        if (type == typeof(decimal)) return await Read<decimal>(group, field, rows, token).ConfigureAwait(false);
        if (type == typeof(bool)) return await Read<bool>(group, field, rows, token).ConfigureAwait(false);
        if (type == typeof(DateTime)) return await Read<DateTime>(group, field, rows, token).ConfigureAwait(false);
        if (type == typeof(DateTimeOffset)) return await Read<DateTimeOffset>(group, field, rows, token).ConfigureAwait(false);
        if (type == typeof(DateOnly)) return await Read<DateOnly>(group, field, rows, token).ConfigureAwait(false);
        throw new ArgumentException($"column '{field.Name}' has type {type.Name}, which series cannot be read from", nameof(field));
    }

    private static async Task<Array> Read<T>(ParquetRowGroupReader group, DataField field, int rows, CancellationToken token) where T : struct
    {
        if (field.IsNullable)
        {
            var nullable = new T?[rows];
            await group.ReadAsync<T>(field, nullable, null, token).ConfigureAwait(false);
            return nullable;
        }
        var values = new T[rows];
        await group.ReadAsync<T>(field, values, null, token).ConfigureAwait(false);
        return values;
    }
}
