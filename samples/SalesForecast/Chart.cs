using ScottPlot;

namespace SalesForecast;

/// <summary>One product's panel: its recent history, the held-out actuals, the forecast with its bands, and a comparison forecast.</summary>
internal sealed record ChartPanel(string Product, DateTime[] HistoryDates, double[] History, DateTime[] HoldoutDates, double[] Actual, double[] Forecast,
    (double[] Lower, double[] Upper)? Band80, (double[] Lower, double[] Upper)? Band95, string ForecastName, double[]? Comparison, string? ComparisonName);

/// <summary>The forecast chart, drawn with ScottPlot (rendered headless through SkiaSharp): a grid of panels, written as PNG and SVG.</summary>
internal static class Chart
{
    private const int PanelWidth = 640, PanelHeight = 300;

    public static void Save(string title, IReadOnlyList<ChartPanel> panels, string pngPath, string svgPath)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(panels.Count, nameof(panels));
        var multiplot = new Multiplot();
        int columns = panels.Count == 1 ? 1 : 2, rows = (panels.Count + columns - 1) / columns;
        multiplot.AddPlots(panels.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        for (int i = 0; i < panels.Count; i++) Draw(multiplot.GetPlot(i), panels[i], i == 0 ? title : null);
        int width = columns * PanelWidth, height = rows * PanelHeight;
        multiplot.SavePng(pngPath, width, height);
        // Multiplot has no SVG export of its own: render it onto SkiaSharp's SVG canvas, as Plot.SaveSvg does for one plot.
        using var stream = File.Create(svgPath);
        using (var canvas = SkiaSharp.SKSvgCanvas.Create(new SkiaSharp.SKRect(0, 0, width, height), stream))
            multiplot.Render(canvas, new PixelRect(0, width, height, 0));
    }

    private static void Draw(Plot plot, ChartPanel panel, string? title)
    {
        static double[] X(DateTime[] dates) => dates.Select(d => d.ToOADate()).ToArray();
        var holdout = X(panel.HoldoutDates);
        if (panel.Band95 is { } band95)
        {
            var fill = plot.Add.FillY(holdout, band95.Lower, band95.Upper);
            fill.FillStyle.Color = Color.FromHex("#d62728").WithAlpha(0.15);
            fill.LineStyle.Width = 0;
            fill.LegendText = "95% interval";
        }
        if (panel.Band80 is { } band80)
        {
            var fill = plot.Add.FillY(holdout, band80.Lower, band80.Upper);
            fill.FillStyle.Color = Color.FromHex("#d62728").WithAlpha(0.3);
            fill.LineStyle.Width = 0;
            fill.LegendText = "80% interval";
        }
        Line(plot, X(panel.HistoryDates), panel.History, "#555555", "history", LinePattern.Solid);
        Line(plot, holdout, panel.Actual, "#1f77b4", "holdout actual", LinePattern.Solid);
        Line(plot, holdout, panel.Forecast, "#d62728", $"{panel.ForecastName} forecast", LinePattern.Solid);
        if (panel.Comparison is not null) Line(plot, holdout, panel.Comparison, "#2ca02c", panel.ComparisonName ?? "comparison", LinePattern.Dashed);
        var dates = plot.Axes.DateTimeTicksBottom();
        dates.TickGenerator = new ScottPlot.TickGenerators.DateTimeAutomatic { LabelFormatter = d => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) };
        plot.Axes.Title.Label.Text = title is null ? $"product {panel.Product}" : $"{title}\nproduct {panel.Product}";
        plot.YLabel("units per day");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Legend.FontSize = 9;
    }

    private static void Line(Plot plot, double[] xs, double[] ys, string color, string label, LinePattern pattern)
    {
        var line = plot.Add.Scatter(xs, ys);
        line.Color = Color.FromHex(color);
        line.MarkerSize = 0;
        line.LineWidth = 1.8f;
        line.LinePattern = pattern;
        line.LegendText = label;
    }
}
