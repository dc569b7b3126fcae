namespace SeqForecast.Metrics;

/// <summary>What MAPE does with an actual value of zero, where the percentage error is undefined.</summary>
public enum ZeroActualPolicy
{
    /// <summary>Throw, naming the index.</summary>
    Error,
    /// <summary>Leave those points out of the mean; if every actual is zero the result is NaN.</summary>
    Skip,
}

/// <summary>
/// Point-forecast error metrics over one series. <c>y</c> is the actual, <c>f</c> the forecast, n the number of points.
/// </summary>
/// <remarks>
/// Every method needs actual and forecast of equal, non-zero length with finite values, and throws
/// <see cref="ArgumentException"/> otherwise.
/// </remarks>
public static class ForecastMetrics
{
    /// <summary>Mean squared error: <c>MSE = (1/n)·Σ(y − f)²</c>.</summary>
    public static double Mse(ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast)
    {
        Check(actual, forecast);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++) sum += (actual[i] - forecast[i]) * (actual[i] - forecast[i]);
        return sum / actual.Length;
    }

    /// <summary>Root mean squared error: <c>RMSE = √MSE</c>.</summary>
    public static double Rmse(ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast) => Math.Sqrt(Mse(actual, forecast));

    /// <summary>Mean absolute error: <c>MAE = (1/n)·Σ|y − f|</c>.</summary>
    public static double Mae(ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast)
    {
        Check(actual, forecast);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++) sum += Math.Abs(actual[i] - forecast[i]);
        return sum / actual.Length;
    }

    /// <summary>
    /// Mean absolute percentage error: <c>MAPE = (100/n)·Σ|y − f|/|y|</c>. Points with y = 0 follow <paramref name="zeros"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An actual is zero and <paramref name="zeros"/> is <see cref="ZeroActualPolicy.Error"/>.</exception>
    public static double Mape(ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast, ZeroActualPolicy zeros = ZeroActualPolicy.Error)
    {
        Check(actual, forecast);
        double sum = 0;
        int count = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] == 0)
            {
                if (zeros == ZeroActualPolicy.Error)
                    throw new ArgumentException($"actual[{i}] is 0, where MAPE is undefined; use ZeroActualPolicy.Skip or another metric (sMAPE, MASE)", nameof(actual));
                continue;
            }
            sum += Math.Abs(actual[i] - forecast[i]) / Math.Abs(actual[i]);
            count++;
        }
        return count == 0 ? double.NaN : 100 * sum / count;
    }

    /// <summary>
    /// Symmetric MAPE as defined by the M4 competition: <c>sMAPE = (1/n)·Σ 200·|y − f| / (|y| + |f|)</c>, in [0, 200].
    /// A point where y = f = 0 is a perfect forecast and contributes 0.
    /// </summary>
    public static double Smape(ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast)
    {
        Check(actual, forecast);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double denominator = Math.Abs(actual[i]) + Math.Abs(forecast[i]);
            if (denominator > 0) sum += 200 * Math.Abs(actual[i] - forecast[i]) / denominator;
        }
        return sum / actual.Length;
    }

    /// <summary>
    /// Mean absolute scaled error as defined by the M4 competition:
    /// <c>MASE = MAE(y, f) / ((1/(T − m))·Σ_{t=m+1..T}|x(t) − x(t−m)|)</c>, where x is the in-sample history of T points
    /// and m the seasonal period (1 for non-seasonal).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seasonalPeriod"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The in-sample history has m points or fewer, holds non-finite values, or its seasonal-naive MAE is 0 (a constant or exactly periodic history), where MASE is undefined.</exception>
    public static double Mase(ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast, ReadOnlySpan<double> inSample, int seasonalPeriod) =>
        Mae(actual, forecast) / SeasonalNaiveScale(inSample, seasonalPeriod);

    /// <summary>
    /// The in-sample seasonal-naive MAE that scales MASE and MSIS: <c>(1/(T − m))·Σ_{t=m+1..T}|x(t) − x(t−m)|</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seasonalPeriod"/> is below 1.</exception>
    /// <exception cref="ArgumentException">The history has m points or fewer, holds non-finite values, or the scale is 0.</exception>
    public static double SeasonalNaiveScale(ReadOnlySpan<double> inSample, int seasonalPeriod)
    {
        if (seasonalPeriod < 1)
            throw new ArgumentOutOfRangeException(nameof(seasonalPeriod), seasonalPeriod, $"seasonal period ({seasonalPeriod}) must be >= 1");
        if (inSample.Length <= seasonalPeriod)
            throw new ArgumentException($"in-sample history has {inSample.Length} points; MASE with seasonal period {seasonalPeriod} needs more than {seasonalPeriod}", nameof(inSample));
        double scale = 0;
        for (int t = seasonalPeriod; t < inSample.Length; t++)
        {
            if (!double.IsFinite(inSample[t]) || !double.IsFinite(inSample[t - seasonalPeriod]))
                throw new ArgumentException($"in-sample history holds a non-finite value near index {t}; MASE needs finite values", nameof(inSample));
            scale += Math.Abs(inSample[t] - inSample[t - seasonalPeriod]);
        }
        scale /= inSample.Length - seasonalPeriod;
        if (scale == 0)
            throw new ArgumentException($"the in-sample seasonal-naive MAE (period {seasonalPeriod}) is 0, so MASE is undefined; the history repeats exactly", nameof(inSample));
        return scale;
    }

    private static void Check(ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast)
    {
        if (actual.Length == 0)
            throw new ArgumentException("actual is empty; a metric needs at least 1 point", nameof(actual));
        if (actual.Length != forecast.Length)
            throw new ArgumentException($"actual has {actual.Length} points but forecast has {forecast.Length}; they must match", nameof(forecast));
        for (int i = 0; i < actual.Length; i++)
        {
            if (!double.IsFinite(actual[i])) throw new ArgumentException($"actual[{i}] is {actual[i]}; metrics need finite values", nameof(actual));
            if (!double.IsFinite(forecast[i])) throw new ArgumentException($"forecast[{i}] is {forecast[i]}; metrics need finite values", nameof(forecast));
        }
    }
}
