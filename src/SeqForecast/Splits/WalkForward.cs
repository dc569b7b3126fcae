using SeqForecast.Data;

namespace SeqForecast.Splits;

/// <summary>How the training window moves in a walk-forward backtest.</summary>
public enum BacktestWindow
{
    /// <summary>Training always starts at the first point and grows by the step.</summary>
    Expanding,
    /// <summary>Training keeps the initial length and slides forward by the step.</summary>
    Sliding,
}

/// <summary>Walk-forward backtest settings.</summary>
/// <param name="InitialTrainLength">Training points of the first fold. Range: ≥ 1.</param>
/// <param name="Horizon">Points forecast in each fold. Range: ≥ 1.</param>
public sealed record BacktestOptions(int InitialTrainLength, int Horizon)
{
    /// <summary>Points the forecast origin moves between folds. Range: ≥ 1. Default: the horizon.</summary>
    public int? Step { get; init; }

    /// <summary>Expanding (default) or sliding training window.</summary>
    public BacktestWindow Window { get; init; } = BacktestWindow.Expanding;

    /// <summary>
    /// For backtests that fit (<c>Backtesting.Run</c>): refit the forecaster every this many folds, on the data before
    /// the fold's origin; 0 (default) fits once, on the first fold's data. Range: ≥ 0.
    /// </summary>
    public int RefitEvery { get; init; }

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A length or the step is below 1.</exception>
    public void Validate()
    {
        if (InitialTrainLength < 1) throw new ArgumentOutOfRangeException(nameof(InitialTrainLength), InitialTrainLength, $"initial train length ({InitialTrainLength}) must be >= 1");
        if (Horizon < 1) throw new ArgumentOutOfRangeException(nameof(Horizon), Horizon, $"horizon ({Horizon}) must be >= 1");
        if (Step is < 1) throw new ArgumentOutOfRangeException(nameof(Step), Step, $"step ({Step}) must be >= 1");
        if (RefitEvery < 0) throw new ArgumentOutOfRangeException(nameof(RefitEvery), RefitEvery, $"refit every ({RefitEvery}) must be >= 0");
        if (!Enum.IsDefined(Window)) throw new ArgumentOutOfRangeException(nameof(Window), Window, "window must be Expanding or Sliding");
    }
}

/// <summary>One walk-forward fold: train on [TrainStart, Origin), forecast [Origin, Origin + horizon).</summary>
/// <param name="Index">Fold number, from 0.</param>
/// <param name="TrainStart">First training point.</param>
/// <param name="Origin">Forecast origin: the first held-out point.</param>
/// <param name="Horizon">Held-out points.</param>
public sealed record BacktestFold(int Index, int TrainStart, int Origin, int Horizon)
{
    /// <summary>The training part of <paramref name="series"/>.</summary>
    public TimeSeries Train(TimeSeries series) => series.Slice(TrainStart, Origin - TrainStart);

    /// <summary>The held-out part of <paramref name="series"/>.</summary>
    public TimeSeries Test(TimeSeries series) => series.Slice(Origin, Horizon);
}

/// <summary>Walk-forward (rolling-origin) backtest folds.</summary>
public static class WalkForward
{
    /// <summary>
    /// Folds for a series of <paramref name="seriesLength"/> points: origins at initial, initial + step, … while a full
    /// horizon still fits.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">The series is shorter than the initial training length + horizon.</exception>
    public static IReadOnlyList<BacktestFold> Folds(int seriesLength, BacktestOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (seriesLength < options.InitialTrainLength + options.Horizon)
            throw new ArgumentException($"series has {seriesLength} points; initial train length {options.InitialTrainLength} + horizon {options.Horizon} needs at least {options.InitialTrainLength + options.Horizon}", nameof(seriesLength));
        int step = options.Step ?? options.Horizon;
        var folds = new List<BacktestFold>();
        for (int origin = options.InitialTrainLength; origin + options.Horizon <= seriesLength; origin += step)
        {
            int start = options.Window == BacktestWindow.Expanding ? 0 : origin - options.InitialTrainLength;
            folds.Add(new BacktestFold(folds.Count, start, origin, options.Horizon));
        }
        return folds;
    }
}
