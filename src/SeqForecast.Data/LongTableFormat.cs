using System.Globalization;

namespace SeqForecast.Data;

/// <summary>Which columns of a long table (one row per series and time) hold the id, the time and the values.</summary>
public sealed record LongTableFormat
{
    /// <summary>Column holding the series id. Default <c>"id"</c>.</summary>
    public string IdColumn { get; init; } = "id";

    /// <summary>Column holding the timestamp. Default <c>"date"</c>.</summary>
    public string DateColumn { get; init; } = "date";

    /// <summary>Value columns, the first being the target by convention; null: every other column.</summary>
    public IReadOnlyList<string>? ValueColumns { get; init; }
}

/// <summary>Cell conversions shared by the table readers: every failure names the source, the row and the column.</summary>
internal static class Cells
{
    public static DateTime Time(object? value, string source, long row, string column) => value switch
    {
        DateTime t => DateTime.SpecifyKind(t, DateTimeKind.Unspecified),
        DateTimeOffset t => DateTime.SpecifyKind(t.UtcDateTime, DateTimeKind.Unspecified),
        DateOnly d => d.ToDateTime(TimeOnly.MinValue),
        string s when TryParse(s, out var t) => t,
        null or DBNull => throw new ArgumentException($"{source}: row {row}, column '{column}' has no timestamp", nameof(value)),
        _ => throw new ArgumentException($"{source}: row {row}, column '{column}' holds {Describe(value)}, not a timestamp", nameof(value)),
    };

    public static double Number(object? value, string source, long row, string column) => value switch
    {
        null or DBNull => double.NaN,
        double d => d,
        float f => f,
        decimal m => (double)m,
        long l => l,
        int i => i,
        short s => s,
        byte b => b,
        bool b => b ? 1 : 0,
        string s when s.Trim().Length == 0 => double.NaN,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        IConvertible c when value is not string and not DateTime => c.ToDouble(CultureInfo.InvariantCulture),
        _ => throw new ArgumentException($"{source}: row {row}, column '{column}' holds {Describe(value)}, not a number", nameof(value)),
    };

    public static string Id(object? value, string source, long row, string column)
    {
        var text = value is null or DBNull ? "" : Convert.ToString(value, CultureInfo.InvariantCulture)!.Trim();
        return text.Length > 0 ? text : throw new ArgumentException($"{source}: row {row}, column '{column}' has an empty series id", nameof(value));
    }

    private static bool TryParse(string text, out DateTime time)
    {
        foreach (var format in SeriesCsv.DefaultDateFormats)
            if (DateTime.TryParseExact(text.Trim(), format, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out time))
            {
                time = DateTime.SpecifyKind(time, DateTimeKind.Unspecified);
                return true;
            }
        time = default;
        return false;
    }

    private static string Describe(object value) => value is string s ? $"'{s}'" : $"a {value.GetType().Name} ({Convert.ToString(value, CultureInfo.InvariantCulture)})";
}
