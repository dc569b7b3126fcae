namespace SeqForecast.Forecasting;

/// <summary>
/// Which single number a quantile forecaster reports as its point forecast. Each rule is the value that minimises one
/// metric's expected error under the forecast distribution, so the rule follows the metric the forecast is judged by.
/// </summary>
public enum PointForecast
{
    /// <summary>
    /// The 0.5 quantile (or the level nearest it); minimises expected absolute error, so it suits MAE and MASE. For a
    /// point loss (MSE, MAE, …) the network's single output. The default.
    /// </summary>
    Median,

    /// <summary>The mean of the forecast distribution; minimises expected squared error (MSE, RMSE).</summary>
    Mean,

    /// <summary>
    /// The value with the smallest expected M4 sMAPE under the forecast distribution. On intermittent data (many days
    /// with no sales) this is 0 on days whose chance of selling nothing is high enough, and otherwise lies above the
    /// median, because sMAPE punishes under-forecasts more than over-forecasts of the same size.
    /// </summary>
    MinimumSmape,
}

/// <summary>
/// Point forecasts from a set of quantiles: the quantile function is taken as piecewise linear between the levels and
/// flat beyond the outermost ones, and read at <see cref="Draws"/> evenly spaced probabilities. Allocates nothing.
/// </summary>
internal static class QuantilePoint
{
    /// <summary>Probabilities at which the quantile function is read: (j + ½) / Draws.</summary>
    public const int Draws = 64;

    /// <summary>The point by <paramref name="rule"/>; <paramref name="values"/> are the quantiles at <paramref name="levels"/>, ascending.</summary>
    /// <param name="rule">Mean or MinimumSmape (the median is read directly by the caller).</param>
    /// <param name="levels">Quantile levels, strictly increasing, in (0, 1).</param>
    /// <param name="values">Quantile values, ascending.</param>
    /// <param name="round">Round the draws (and candidates) to whole numbers: a count distribution.</param>
    /// <param name="draws">Scratch of at least <see cref="Draws"/> values.</param>
    public static double Point(PointForecast rule, ReadOnlySpan<double> levels, ReadOnlySpan<double> values, bool round, Span<double> draws)
    {
        var sample = draws[..Draws];
        Draw(levels, values, round, sample);
        return rule switch
        {
            PointForecast.Mean => Mean(sample),
            PointForecast.MinimumSmape => MinimumSmape(sample, round),
            _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "the point rule must be Mean or MinimumSmape here"),
        };
    }

    /// <summary>Reads the quantile function at (j + ½) / n for j = 0 … n − 1.</summary>
    public static void Draw(ReadOnlySpan<double> levels, ReadOnlySpan<double> values, bool round, Span<double> draws)
    {
        int n = draws.Length, k = levels.Length, segment = 0;
        for (int j = 0; j < n; j++)
        {
            double u = (j + 0.5) / n, value;
            if (k == 1 || u <= levels[0]) value = values[0];
            else if (u >= levels[k - 1]) value = values[k - 1];
            else
            {
                while (levels[segment + 1] < u) segment++;
                double w = (u - levels[segment]) / (levels[segment + 1] - levels[segment]);
                value = values[segment] + w * (values[segment + 1] - values[segment]);
            }
            draws[j] = round ? Math.Round(value, MidpointRounding.AwayFromZero) : value;
        }
    }

    /// <summary>The mean of the draws.</summary>
    public static double Mean(ReadOnlySpan<double> draws)
    {
        double sum = 0;
        foreach (var d in draws) sum += d;
        return sum / draws.Length;
    }

    /// <summary>
    /// The candidate with the smallest mean sMAPE term 200·|y − f| / (|y| + |f|) over the draws y (0 when y = f = 0).
    /// The candidates are 0, every distinct draw and the quarter points between neighbouring distinct draws (the expected
    /// sMAPE can dip between two draws); with <paramref name="round"/>, every whole number between draws at most 16
    /// apart, and the rounded quarter points between draws further apart. Ties go to the smaller value.
    /// </summary>
    /// <param name="draws">Draws, ascending.</param>
    /// <param name="round">Only whole numbers are candidates.</param>
    public static double MinimumSmape(ReadOnlySpan<double> draws, bool round = false)
    {
        double best = 0, bestCost = Cost(draws, 0), previous = double.NaN;
        foreach (var d in draws)
        {
            if (d == previous) continue;
            if (!double.IsNaN(previous) && round && d - previous <= 16)
                for (double between = previous + 1; between < d; between++) Consider(draws, between, ref best, ref bestCost);
            else if (!double.IsNaN(previous))
                for (int quarter = 1; quarter < 4; quarter++)
                {
                    double between = previous + quarter * (d - previous) / 4;
                    Consider(draws, round ? Math.Round(between, MidpointRounding.AwayFromZero) : between, ref best, ref bestCost);
                }
            Consider(draws, d, ref best, ref bestCost);
            previous = d;
        }
        return best;
    }

    private static void Consider(ReadOnlySpan<double> draws, double f, ref double best, ref double bestCost)
    {
        double cost = Cost(draws, f);
        if (cost < bestCost || (cost == bestCost && Math.Abs(f) < Math.Abs(best))) (best, bestCost) = (f, cost);
    }

    /// <summary>Mean sMAPE term of forecast <paramref name="f"/> over the draws.</summary>
    public static double Cost(ReadOnlySpan<double> draws, double f)
    {
        double sum = 0;
        foreach (var y in draws)
        {
            double denominator = Math.Abs(y) + Math.Abs(f);
            if (denominator > 0) sum += 200 * Math.Abs(y - f) / denominator;
        }
        return sum / draws.Length;
    }
}
