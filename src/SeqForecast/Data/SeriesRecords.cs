namespace SeqForecast.Data;

/// <summary>One observation of one series: an id, a timestamp, the value and optional covariate values by name.</summary>
/// <param name="Id">Series identifier (a SKU, a store-product pair).</param>
/// <param name="Timestamp">When it was observed.</param>
/// <param name="Value">The value (quantity sold); NaN is a missing value.</param>
/// <param name="Covariates">Further columns by name (price, promotion flag); null: none.</param>
public readonly record struct SeriesRecord(string Id, DateTime Timestamp, double Value, IReadOnlyDictionary<string, double>? Covariates = null);

/// <summary>
/// Builds series from records in any order, in one call: rows are grouped by id, cleaned with the same per-column
/// policies as the CSV readers, and put on one calendar grid (inferred over all series unless set).
/// </summary>
public static class SeriesRecords
{
    /// <summary>Groups <paramref name="records"/> by id into series whose first column is <paramref name="valueColumn"/>, followed by <paramref name="covariates"/>.</summary>
    /// <param name="records">The observations, any order.</param>
    /// <param name="valueColumn">Name of the value column. Default "value".</param>
    /// <param name="cleaning">Cleaning policies (for example <see cref="SeriesCleaningOptions.Sales"/>).</param>
    /// <param name="covariates">Covariate names to take from <see cref="SeriesRecord.Covariates"/>; null: every name the first record carries.</param>
    /// <param name="source">Names the data in errors.</param>
    /// <exception cref="ArgumentException">No records, an empty id, a record without one of the covariates, or a cleaning policy set to <c>Error</c> met its case.</exception>
    public static SeriesLoadResult Assemble(IEnumerable<SeriesRecord> records, string valueColumn, SeriesCleaningOptions cleaning, IReadOnlyList<string>? covariates = null, string source = "records")
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentException.ThrowIfNullOrWhiteSpace(valueColumn);
        ArgumentNullException.ThrowIfNull(cleaning);
        IReadOnlyList<string>? names = covariates;
        var groups = new Dictionary<string, List<Observation>>(StringComparer.Ordinal);
        var order = new List<string>();
        long index = 0;
        foreach (var record in records)
        {
            index++;
            if (string.IsNullOrWhiteSpace(record.Id)) throw new ArgumentException($"{source}: record {index} has an empty id", nameof(records));
            names ??= record.Covariates?.Keys.Order(StringComparer.Ordinal).ToArray() ?? [];
            var values = new double[1 + names.Count];
            values[0] = record.Value;
            for (int c = 0; c < names.Count; c++)
                values[c + 1] = record.Covariates is not null && record.Covariates.TryGetValue(names[c], out var v) ? v
                    : throw new ArgumentException($"{source}: record {index} (series '{record.Id}', {FrequencyExtensions.Format(record.Timestamp)}) has no covariate '{names[c]}'", nameof(records));
            if (!groups.TryGetValue(record.Id, out var rows))
            {
                groups[record.Id] = rows = [];
                order.Add(record.Id);
            }
            rows.Add(new Observation(record.Timestamp, values));
        }
        if (order.Count == 0) throw new ArgumentException($"{source} holds no records", nameof(records));
        return SeriesCsv.Assemble(source, order.Select(id => (id, (IReadOnlyList<Observation>)groups[id])), [valueColumn, .. names!], cleaning);
    }

    /// <summary>
    /// Builds series from records of any type: <paramref name="id"/> and <paramref name="timestamp"/> pick the series
    /// and time, and each of <paramref name="columns"/> one value column (the first is the target by convention).
    /// </summary>
    /// <example><code>
    /// var loaded = SeriesRecords.Assemble(orders, o => o.Sku, o => o.Day,
    ///     [("qty", o => o.Quantity), ("price", o => o.Price)], SeriesCleaningOptions.Sales);
    /// </code></example>
    public static SeriesLoadResult Assemble<T>(IEnumerable<T> records, Func<T, string> id, Func<T, DateTime> timestamp, IReadOnlyList<(string Name, Func<T, double> Value)> columns, SeriesCleaningOptions cleaning, string source = "records")
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(id);
        ArgumentNullException.ThrowIfNull(timestamp);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(cleaning);
        if (columns.Count == 0) throw new ArgumentException("columns is empty; give at least the value column", nameof(columns));
        var groups = new Dictionary<string, List<Observation>>(StringComparer.Ordinal);
        var order = new List<string>();
        long index = 0;
        foreach (var record in records)
        {
            index++;
            var key = id(record);
            if (string.IsNullOrWhiteSpace(key)) throw new ArgumentException($"{source}: record {index} has an empty id", nameof(records));
            var values = new double[columns.Count];
            for (int c = 0; c < values.Length; c++) values[c] = columns[c].Value(record);
            if (!groups.TryGetValue(key, out var rows))
            {
                groups[key] = rows = [];
                order.Add(key);
            }
            rows.Add(new Observation(timestamp(record), values));
        }
        if (order.Count == 0) throw new ArgumentException($"{source} holds no records", nameof(records));
        return SeriesCsv.Assemble(source, order.Select(k => (k, (IReadOnlyList<Observation>)groups[k])), columns.Select(c => c.Name).ToArray(), cleaning);
    }
}
