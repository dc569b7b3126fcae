using System.Globalization;

namespace SeqForecast.Windows;

/// <summary>
/// A list of holiday dates, given by the user (no maintained holiday package is available to SeqForecast, so there is
/// no built-in country calendar). As a known-future input it adds one value per step: 1 on a holiday, else 0.
/// </summary>
/// <remarks>Dates compare by calendar day: any time on a listed day is a holiday.</remarks>
public sealed class HolidayCalendar
{
    private readonly HashSet<DateOnly> _days;

    /// <summary>Creates the calendar.</summary>
    /// <param name="name">Name for reports (for example "UK bank holidays").</param>
    /// <param name="dates">The holidays; the time of day is ignored, duplicates are merged.</param>
    /// <exception cref="ArgumentException">The name is empty.</exception>
    public HolidayCalendar(string name, IEnumerable<DateTime> dates)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(dates);
        Name = name;
        _days = dates.Select(DateOnly.FromDateTime).ToHashSet();
        Dates = _days.Order().Select(d => d.ToDateTime(TimeOnly.MinValue)).ToArray();
    }

    /// <summary>Name for reports.</summary>
    public string Name { get; }

    /// <summary>The holidays, sorted, one per day.</summary>
    public IReadOnlyList<DateTime> Dates { get; }

    /// <summary>True when <paramref name="time"/> falls on a listed day.</summary>
    public bool IsHoliday(DateTime time) => _days.Contains(DateOnly.FromDateTime(time));

    /// <summary>
    /// Reads holidays from a CSV file whose first column holds ISO dates (yyyy-MM-dd); a header row and further columns
    /// (names) are allowed, and lines starting with '#' are comments.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="SeqForecast.Data.CsvDataException">A line's first field is not a date.</exception>
    public static HolidayCalendar ReadCsv(string path, string? name = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"holiday file '{path}' does not exist", path);
        var dates = new List<DateTime>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            var trimmed = text.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;
            var field = trimmed.Split(',')[0].Trim().Trim('"');
            if (DateTime.TryParseExact(field, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) dates.Add(date);
            else if (line != 1 || dates.Count > 0) throw new SeqForecast.Data.CsvDataException(path, line, null, $"'{field}' is not a date (yyyy-MM-dd)");
        }
        return new HolidayCalendar(name ?? Path.GetFileNameWithoutExtension(path), dates);
    }
}
