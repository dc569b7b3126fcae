using Microsoft.Data.Analysis;
using SeqForecast.Forecasting;

namespace SeqForecast.Data;

/// <summary>Series from Microsoft.Data.Analysis <see cref="DataFrame"/>s (long or wide), and series and forecasts back as frames.</summary>
public static class SeriesDataFrame
{
    /// <summary>One series per id of a long frame (a row per id and time).</summary>
    /// <exception cref="ArgumentException">A column is missing, a cell is not a timestamp or number, or a cleaning policy set to <c>Error</c> met its case.</exception>
    public static SeriesLoadResult FromLong(DataFrame frame, LongTableFormat format, SeriesCleaningOptions cleaning)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(format);
        ArgumentNullException.ThrowIfNull(cleaning);
        var id = Column(frame, format.IdColumn);
        var date = Column(frame, format.DateColumn);
        var valueNames = format.ValueColumns ?? frame.Columns.Select(c => c.Name).Where(n => n != format.IdColumn && n != format.DateColumn).ToArray();
        if (valueNames.Count == 0) throw new ArgumentException($"the frame has no value columns besides '{format.IdColumn}' and '{format.DateColumn}'", nameof(format));
        var values = valueNames.Select(n => Column(frame, n)).ToArray();
        const string source = "data frame";
        return SeriesRecords.Assemble(Rows(frame.Rows.Count), r => Cells.Id(id[r], source, r + 1, format.IdColumn), r => Cells.Time(date[r], source, r + 1, format.DateColumn),
            valueNames.Select((n, v) => (n, (Func<long, double>)(r => Cells.Number(values[v][r], source, r + 1, n)))).ToArray(), cleaning, source);
    }

    /// <summary>One series per value column of a wide frame (a row per time, a column per series), named <paramref name="valueColumnName"/>.</summary>
    public static SeriesLoadResult FromWide(DataFrame frame, string dateColumn, SeriesCleaningOptions cleaning, string valueColumnName = "value")
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentException.ThrowIfNullOrWhiteSpace(dateColumn);
        ArgumentNullException.ThrowIfNull(cleaning);
        var date = Column(frame, dateColumn);
        var seriesColumns = frame.Columns.Where(c => c.Name != dateColumn).ToArray();
        if (seriesColumns.Length == 0) throw new ArgumentException($"the frame has no series columns besides '{dateColumn}'", nameof(frame));
        const string source = "data frame";
        var cells = Rows(frame.Rows.Count).SelectMany(r => seriesColumns.Select(c => (Row: r, Column: c)));
        return SeriesRecords.Assemble(cells, cell => cell.Column.Name, cell => Cells.Time(date[cell.Row], source, cell.Row + 1, dateColumn),
            [(valueColumnName, cell => Cells.Number(cell.Column[cell.Row], source, cell.Row + 1, cell.Column.Name))], cleaning, source);
    }

    /// <summary>The series as a long frame: <c>id</c>, <c>date</c> (when they have timestamps, else <c>index</c>) and one column per value column.</summary>
    public static DataFrame ToDataFrame(IReadOnlyList<TimeSeries> series)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("series is empty", nameof(series));
        var names = series[0].ColumnNames;
        bool timed = series.All(s => s.HasTimestamps);
        var id = new StringDataFrameColumn("id");
        var date = new PrimitiveDataFrameColumn<DateTime>("date");
        var index = new PrimitiveDataFrameColumn<int>("index");
        var values = names.Select(n => new DoubleDataFrameColumn(n)).ToArray();
        foreach (var s in series)
        {
            if (!s.ColumnNames.SequenceEqual(names))
                throw new ArgumentException($"series '{s.Id}' has columns ({string.Join(", ", s.ColumnNames)}) unlike series '{series[0].Id}' ({string.Join(", ", names)})", nameof(series));
            for (int t = 0; t < s.Length; t++)
            {
                id.Append(s.Id);
                if (timed) date.Append(s.Timestamps[t]);
                else index.Append(t);
                for (int c = 0; c < values.Length; c++) values[c].Append(s.Column(c)[t]);
            }
        }
        return new DataFrame([id, timed ? date : index, .. values]);
    }

    /// <summary>
    /// Forecasts as a long frame: <c>id</c>, <c>date</c> (empty without timestamps), <c>step</c> (from 1), <c>target</c>,
    /// <c>forecast</c>, and one column per quantile level (<c>q0.05</c>, …) when the forecasts have them.
    /// </summary>
    public static DataFrame ToDataFrame(IReadOnlyList<Prediction> predictions)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        var levels = predictions.Count > 0 ? predictions[0].QuantileLevels : [];
        var id = new StringDataFrameColumn("id");
        var date = new PrimitiveDataFrameColumn<DateTime>("date");
        var step = new PrimitiveDataFrameColumn<int>("step");
        var target = new StringDataFrameColumn("target");
        var forecast = new DoubleDataFrameColumn("forecast");
        var quantiles = levels.Select(l => new DoubleDataFrameColumn($"q{l.ToString(System.Globalization.CultureInfo.InvariantCulture)}")).ToArray();
        foreach (var p in predictions)
        {
            if (!p.QuantileLevels.SequenceEqual(levels))
                throw new ArgumentException($"the forecast of '{p.SeriesId}' has quantile levels ({string.Join(", ", p.QuantileLevels)}) unlike the first ({string.Join(", ", levels)})", nameof(predictions));
            for (int k = 0; k < p.Targets.Count; k++)
                for (int h = 0; h < p.Values[k].Length; h++)
                {
                    id.Append(p.SeriesId);
                    date.Append(h < p.Timestamps.Count ? p.Timestamps[h] : null);
                    step.Append(h + 1);
                    target.Append(p.Targets[k]);
                    forecast.Append(p.Values[k][h]);
                    for (int q = 0; q < quantiles.Length; q++) quantiles[q].Append(p.Quantiles.Count > k ? p.Quantiles[k][q][h] : double.NaN);
                }
        }
        return new DataFrame([id, date, step, target, forecast, .. quantiles]);
    }

    private static DataFrameColumn Column(DataFrame frame, string name) =>
        frame.Columns.FirstOrDefault(c => c.Name == name) ?? throw new ArgumentException($"the frame has no column '{name}'; it has: {string.Join(", ", frame.Columns.Select(c => c.Name))}", nameof(name));

    private static IEnumerable<long> Rows(long count)
    {
        for (long r = 0; r < count; r++) yield return r;
    }
}
