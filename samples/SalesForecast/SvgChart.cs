using System.Globalization;
using System.Security;
using System.Text;

namespace SalesForecast;

/// <summary>One line of a panel: dated values drawn as a polyline.</summary>
internal sealed record ChartLine(string Label, IReadOnlyList<DateTime> Dates, IReadOnlyList<double> Values, string Color, bool Dashed = false);

/// <summary>One panel of the chart, with its own axes.</summary>
internal sealed record ChartPanel(string Title, IReadOnlyList<ChartLine> Lines);

/// <summary>
/// A small, dependency-free SVG line chart: a grid of panels, each with a date axis, a value axis with round ticks,
/// and polylines; one legend for the whole chart. No chart library is served here, so this is the whole renderer.
/// </summary>
internal static class SvgChart
{
    private const int PanelWidth = 560, PanelHeight = 260, Left = 56, Right = 16, Top = 30, Bottom = 40, LegendHeight = 34;

    public static string Render(string title, IReadOnlyList<ChartPanel> panels, int columns = 2)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(panels.Count, nameof(panels));
        int rows = (panels.Count + columns - 1) / columns;
        int width = columns * PanelWidth, height = LegendHeight + 28 + rows * PanelHeight;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{width / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">{Escape(title)}</text>\n");
        Legend(svg, panels.SelectMany(p => p.Lines).DistinctBy(l => l.Label).ToArray(), 28);
        for (int i = 0; i < panels.Count; i++)
            Panel(svg, panels[i], (i % columns) * PanelWidth, LegendHeight + 28 + (i / columns) * PanelHeight);
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Legend(StringBuilder svg, IReadOnlyList<ChartLine> lines, int y)
    {
        double x = 16;
        foreach (var line in lines)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x}\" y1=\"{y + 8}\" x2=\"{x + 24}\" y2=\"{y + 8}\" stroke=\"{line.Color}\" stroke-width=\"2.5\"{Dash(line)}/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{x + 30}\" y=\"{y + 12}\">{Escape(line.Label)}</text>\n");
            x += 44 + 7 * line.Label.Length;
        }
    }

    private static void Panel(StringBuilder svg, ChartPanel panel, int originX, int originY)
    {
        var points = panel.Lines.SelectMany(l => l.Dates.Zip(l.Values)).Where(p => double.IsFinite(p.Second)).ToArray();
        if (points.Length == 0) return;
        var start = points.Min(p => p.First);
        var end = points.Max(p => p.First);
        double low = Math.Min(0, points.Min(p => p.Second));
        double high = points.Max(p => p.Second);
        var ticks = NiceTicks(low, high);
        low = ticks[0];
        high = ticks[^1];
        double plotWidth = PanelWidth - Left - Right, plotHeight = PanelHeight - Top - Bottom;
        double days = Math.Max(1, (end - start).TotalDays);
        double X(DateTime d) => originX + Left + (d - start).TotalDays / days * plotWidth;
        double Y(double v) => originY + Top + (high - v) / (high - low) * plotHeight;

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{originX + Left}\" y=\"{originY + 18}\" font-weight=\"bold\">{Escape(panel.Title)}</text>\n");
        foreach (var tick in ticks)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{originX + Left}\" y1=\"{Y(tick):F1}\" x2=\"{originX + PanelWidth - Right}\" y2=\"{Y(tick):F1}\" stroke=\"#e3e3e3\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{originX + Left - 6}\" y=\"{Y(tick) + 4:F1}\" text-anchor=\"end\">{tick.ToString("G4", CultureInfo.InvariantCulture)}</text>\n");
        }
        int stepDays = (int)Math.Max(1, Math.Ceiling(days / 6 / 7.0) * 7);
        for (var d = start; d <= end; d = d.AddDays(stepDays))
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(d):F1}\" y1=\"{originY + Top + plotHeight}\" x2=\"{X(d):F1}\" y2=\"{originY + Top + plotHeight + 4}\" stroke=\"#444\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(d):F1}\" y=\"{originY + Top + plotHeight + 17}\" text-anchor=\"middle\">{d:yyyy-MM-dd}</text>\n");
        }
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{originX + Left}\" y=\"{originY + Top}\" width=\"{plotWidth}\" height=\"{plotHeight}\" fill=\"none\" stroke=\"#444\"/>\n");
        foreach (var line in panel.Lines)
        {
            var coordinates = line.Dates.Zip(line.Values).Where(p => double.IsFinite(p.Second))
                .Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.First):F1},{Y(p.Second):F1}"));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{line.Color}\" stroke-width=\"1.8\"{Dash(line)} points=\"{string.Join(' ', coordinates)}\"><title>{Escape(line.Label)}</title></polyline>\n");
        }
    }

    /// <summary>Round tick values covering [low, high]: steps of 1, 2 or 5 × 10^k, about five of them.</summary>
    internal static double[] NiceTicks(double low, double high)
    {
        if (high <= low) high = low + 1;
        double raw = (high - low) / 5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        double first = Math.Floor(low / step) * step;
        var ticks = new List<double>();
        for (double v = first; v < high + step * 0.999; v += step) ticks.Add(Math.Round(v, 10));
        return ticks.ToArray();
    }

    private static string Dash(ChartLine line) => line.Dashed ? " stroke-dasharray=\"5,3\"" : "";

    private static string Escape(string text) => SecurityElement.Escape(text) ?? "";
}
