namespace SeqForecast.Baselines;

/// <summary>Naive forecast: every future value equals the last observation, <c>ŷ(n+h) = y(n)</c>.</summary>
public sealed class NaiveModel : IBaselineModel
{
    /// <inheritdoc />
    public string Name => "naive";

    /// <inheritdoc />
    public double[] Forecast(ReadOnlySpan<double> history, int horizon)
    {
        BaselineGuards.Check(history, horizon, 1, Name);
        var forecast = new double[horizon];
        Array.Fill(forecast, history[^1]);
        return forecast;
    }
}

/// <summary>
/// Seasonal naive forecast: each future value repeats the value one season earlier,
/// <c>ŷ(n+h) = y(n + h − m·⌈h/m⌉)</c> for season length m.
/// </summary>
public sealed class SeasonalNaiveModel : IBaselineModel
{
    /// <summary>Creates the model.</summary>
    /// <param name="seasonLength">Season length m (7 for daily data with a weekly cycle, 12 for monthly). Range: ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="seasonLength"/> is below 1.</exception>
    public SeasonalNaiveModel(int seasonLength)
    {
        if (seasonLength < 1)
            throw new ArgumentOutOfRangeException(nameof(seasonLength), seasonLength, $"season length ({seasonLength}) must be >= 1");
        SeasonLength = seasonLength;
    }

    /// <summary>Season length m.</summary>
    public int SeasonLength { get; }

    /// <inheritdoc />
    public string Name => $"seasonal-naive({SeasonLength})";

    /// <inheritdoc />
    public double[] Forecast(ReadOnlySpan<double> history, int horizon)
    {
        BaselineGuards.Check(history, horizon, SeasonLength, Name);
        var forecast = new double[horizon];
        int n = history.Length;
        for (int h = 0; h < horizon; h++)
            forecast[h] = history[n - SeasonLength + h % SeasonLength];
        return forecast;
    }
}

/// <summary>
/// Drift forecast: the line through the first and last observations, extended,
/// <c>ŷ(n+h) = y(n) + h·(y(n) − y(1))/(n − 1)</c>.
/// </summary>
public sealed class DriftModel : IBaselineModel
{
    /// <inheritdoc />
    public string Name => "drift";

    /// <inheritdoc />
    public double[] Forecast(ReadOnlySpan<double> history, int horizon)
    {
        BaselineGuards.Check(history, horizon, 2, Name);
        double slope = (history[^1] - history[0]) / (history.Length - 1);
        var forecast = new double[horizon];
        for (int h = 0; h < horizon; h++)
            forecast[h] = history[^1] + (h + 1) * slope;
        return forecast;
    }
}
