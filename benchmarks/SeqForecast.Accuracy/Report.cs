using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace SeqForecast.Accuracy;

/// <summary>One row of a results table: a model and its scores, in the table's column order.</summary>
internal sealed record Row(string Model, IReadOnlyList<double> Values, string Note = "");

/// <summary>A section of docs/accuracy.md written by the runner: a table per data set, with its provenance.</summary>
internal sealed record Section(string Key, string Title, string Protocol, IReadOnlyList<string> Columns, IReadOnlyList<Row> Rows, IReadOnlyList<Row> Anchors, TimeSpan WallTime, string Seeds, string Notes);

/// <summary>
/// Writes docs/accuracy.md: the machine and date, then one section per data set between markers, so that running one
/// data set replaces its own section and keeps the others.
/// </summary>
internal static class Report
{
    public static string Machine()
    {
        string cpu = "unknown CPU";
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? cpu;
        }
        catch (IOException)
        {
        }
        return $"{cpu}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}";
    }

    public static string Render(Section section)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"<!-- accuracy:{section.Key}:begin -->\n## {section.Title}\n\n{section.Protocol}\n\n");
        text.Append("| model | ").Append(string.Join(" | ", section.Columns)).Append(" | notes |\n|---|").Append(string.Concat(section.Columns.Select(_ => "---:|"))).Append("---|\n");
        foreach (var row in section.Rows)
            text.Append(CultureInfo.InvariantCulture, $"| {row.Model} | {string.Join(" | ", row.Values.Select(Format))} | {row.Note} |\n");
        if (section.Anchors.Count > 0)
        {
            text.Append("\nPublished anchors (from `../shared/datasets/SOURCES.md`):\n\n| model | ").Append(string.Join(" | ", section.Columns)).Append(" |\n|---|").Append(string.Concat(section.Columns.Select(_ => "---:|"))).Append('\n');
            foreach (var row in section.Anchors)
                text.Append(CultureInfo.InvariantCulture, $"| {row.Model} | {string.Join(" | ", row.Values.Select(Format))} |\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"\nRun {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC on {Machine()}; wall time {section.WallTime.TotalMinutes:F1} min; seeds {section.Seeds}.\n");
        if (section.Notes.Length > 0) text.Append('\n').Append(section.Notes).Append('\n');
        text.Append(CultureInfo.InvariantCulture, $"<!-- accuracy:{section.Key}:end -->\n");
        return text.ToString();
    }

    /// <summary>Replaces (or appends) the section of <paramref name="section"/> in the file at <paramref name="path"/>.</summary>
    public static void Update(string path, Section section)
    {
        string existing = File.Exists(path) ? File.ReadAllText(path) : Header;
        string begin = $"<!-- accuracy:{section.Key}:begin -->", end = $"<!-- accuracy:{section.Key}:end -->";
        string rendered = Render(section);
        int from = existing.IndexOf(begin, StringComparison.Ordinal), to = existing.IndexOf(end, StringComparison.Ordinal);
        string updated = from >= 0 && to > from
            ? existing[..from] + rendered + existing[(to + end.Length + 1)..]
            : existing.TrimEnd() + "\n\n" + rendered;
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, updated);
        File.Move(temporary, path, overwrite: true);
    }

    private const string Header = """
        # Accuracy

        Written by the accuracy runner (`dotnet run --project benchmarks/SeqForecast.Accuracy -c Release`), never by hand:
        each section below is replaced when its data set is run again. Every model uses the library's public API; every
        setting was chosen on validation data (the last horizon of each training series, or the protocol's validation
        rows), never on the test rows.
        """;

    private static string Format(double value) => double.IsNaN(value) ? "–" : value.ToString(Math.Abs(value) >= 100 ? "F1" : Math.Abs(value) >= 10 ? "F2" : "F3", CultureInfo.InvariantCulture);
}
