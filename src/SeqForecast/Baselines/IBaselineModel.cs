namespace SeqForecast.Baselines;

/// <summary>A statistical baseline that forecasts a univariate history.</summary>
public interface IBaselineModel
{
    /// <summary>Short name for reports (for example "naive" or "seasonal-naive(7)").</summary>
    string Name { get; }

    /// <summary>Forecasts the <paramref name="horizon"/> points after <paramref name="history"/>.</summary>
    /// <param name="history">Observed values, oldest first; all finite.</param>
    /// <param name="horizon">Points to forecast. Range: ≥ 1.</param>
    /// <returns>The forecast, <paramref name="horizon"/> values.</returns>
    /// <exception cref="ArgumentException">The history is too short for the model, or holds NaN or ±∞.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="horizon"/> is below 1.</exception>
    double[] Forecast(ReadOnlySpan<double> history, int horizon);
}

internal static class BaselineGuards
{
    public static void Check(ReadOnlySpan<double> history, int horizon, int minimumLength, string model)
    {
        if (horizon < 1)
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"horizon ({horizon}) must be >= 1");
        if (history.Length < minimumLength)
            throw new ArgumentException($"history has {history.Length} points; {model} needs at least {minimumLength}", nameof(history));
        for (int i = 0; i < history.Length; i++)
            if (!double.IsFinite(history[i]))
                throw new ArgumentException($"history[{i}] is {history[i]}; {model} needs finite values", nameof(history));
    }
}
