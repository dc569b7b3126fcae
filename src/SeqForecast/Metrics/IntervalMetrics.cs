namespace SeqForecast.Metrics;

/// <summary>
/// Metrics of interval and quantile forecasts over one series. <c>y</c> is the actual, <c>[L, U]</c> the interval of
/// nominal coverage <c>1 − α</c>, and n the number of points. Every method needs equal, non-zero lengths of finite values.
/// </summary>
public static class IntervalMetrics
{
    /// <summary>Share of actuals inside their interval: <c>(1/n)·Σ 1{L ≤ y ≤ U}</c>, in [0, 1].</summary>
    public static double Coverage(ReadOnlySpan<double> actual, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper)
    {
        Check(actual, lower, upper);
        int inside = 0;
        for (int i = 0; i < actual.Length; i++) if (actual[i] >= lower[i] && actual[i] <= upper[i]) inside++;
        return (double)inside / actual.Length;
    }

    /// <summary>Mean interval width: <c>(1/n)·Σ (U − L)</c>.</summary>
    public static double MeanWidth(ReadOnlySpan<double> lower, ReadOnlySpan<double> upper)
    {
        Check(lower, lower, upper);
        double sum = 0;
        for (int i = 0; i < lower.Length; i++) sum += upper[i] - lower[i];
        return sum / lower.Length;
    }

    /// <summary>Mean pinball loss of the quantile-τ forecast q: <c>(1/n)·Σ max(τ·(y − q), (τ − 1)·(y − q))</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">τ is not in (0, 1).</exception>
    public static double Pinball(ReadOnlySpan<double> actual, ReadOnlySpan<double> quantile, double tau)
    {
        if (!(tau > 0 && tau < 1)) throw new ArgumentOutOfRangeException(nameof(tau), tau, $"quantile level ({tau}) must be in (0, 1)");
        Check(actual, quantile, quantile);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double u = actual[i] - quantile[i];
            sum += Math.Max(tau * u, (tau - 1) * u);
        }
        return sum / actual.Length;
    }

    /// <summary>
    /// Mean scaled interval score as defined by the M4 competition:
    /// <c>MSIS = (1/n)·Σ [(U − L) + (2/α)·(L − y)·1{y &lt; L} + (2/α)·(y − U)·1{y &gt; U}] / ((1/(T − m))·Σ_{t=m+1..T}|x(t) − x(t−m)|)</c>,
    /// with α = 1 − coverage (M4 used α = 0.05), x the in-sample history of T points and m the seasonal period.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">α is not in (0, 1) or m is below 1.</exception>
    /// <exception cref="ArgumentException">The history is too short, holds non-finite values, or its seasonal-naive MAE is 0.</exception>
    public static double Msis(ReadOnlySpan<double> actual, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper, ReadOnlySpan<double> inSample, int seasonalPeriod, double alpha)
    {
        if (!(alpha > 0 && alpha < 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"alpha ({alpha}) must be in (0, 1)");
        Check(actual, lower, upper);
        double scale = ForecastMetrics.SeasonalNaiveScale(inSample, seasonalPeriod);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            sum += upper[i] - lower[i];
            if (actual[i] < lower[i]) sum += 2 / alpha * (lower[i] - actual[i]);
            if (actual[i] > upper[i]) sum += 2 / alpha * (actual[i] - upper[i]);
        }
        return sum / actual.Length / scale;
    }

    private static void Check(ReadOnlySpan<double> actual, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper)
    {
        if (actual.Length == 0) throw new ArgumentException("actual is empty; a metric needs at least 1 point", nameof(actual));
        if (lower.Length != actual.Length || upper.Length != actual.Length)
            throw new ArgumentException($"actual has {actual.Length} points, lower {lower.Length} and upper {upper.Length}; they must match", nameof(lower));
        for (int i = 0; i < actual.Length; i++)
        {
            if (!double.IsFinite(actual[i]) || !double.IsFinite(lower[i]) || !double.IsFinite(upper[i]))
                throw new ArgumentException($"point {i} holds a non-finite value; interval metrics need finite values", nameof(actual));
            if (lower[i] > upper[i])
                throw new ArgumentException($"point {i} has lower {lower[i]} above upper {upper[i]}", nameof(lower));
        }
    }
}
