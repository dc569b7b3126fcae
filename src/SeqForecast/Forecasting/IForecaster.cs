using SeqForecast.Data;
using SeqForecast.Training;

namespace SeqForecast.Forecasting;

/// <summary>How a fit runs: validation hold-out, progress reports and cancellation.</summary>
public sealed record FitOptions
{
    /// <summary>
    /// Points at the end of each series held out for validation (early stopping, model selection); they are never
    /// trained on. Null: the forecaster's own default. Range: ≥ 0.
    /// </summary>
    public int? ValidationLength { get; init; }

    /// <summary>Epoch reports of neural forecasters; null: none.</summary>
    public IProgress<EpochProgress>? Progress { get; init; }

    /// <summary>Reports within an epoch (at most every 250 ms); null: none.</summary>
    public IProgress<BatchProgress>? BatchProgress { get; init; }

    /// <summary>
    /// Cancels the fit: it throws <see cref="TrainingCanceledException"/> (an <see cref="OperationCanceledException"/>),
    /// whose <see cref="TrainingCanceledException.PartialModel"/> holds the best model so far when there is one.
    /// </summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        if (ValidationLength is < 0) throw new ArgumentOutOfRangeException(nameof(ValidationLength), ValidationLength, $"validation length ({ValidationLength}) must be >= 0");
    }
}

/// <summary>What a prediction needs beyond the history: how far, and the known-future covariate values.</summary>
public sealed record PredictOptions
{
    /// <summary>Steps to forecast; null: the forecaster's trained horizon. Longer horizons are decoded recursively. Range: ≥ 1.</summary>
    public int? Horizon { get; init; }

    /// <summary>
    /// Values of the known-future covariates for the steps after each history, one series per history matched by id
    /// (the same columns, at least as many points as the horizon). Needed when the model has known-future covariates.
    /// </summary>
    public IReadOnlyList<TimeSeries>? Future { get; init; }

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        if (Horizon is < 1) throw new ArgumentOutOfRangeException(nameof(Horizon), Horizon, $"horizon ({Horizon}) must be >= 1");
    }
}

/// <summary>
/// The contract every forecaster shares (baselines, recurrent networks, ensembles, the auto forecaster, conformal
/// wrappers): configured once, fitted on series, returning an immutable fitted forecaster. Evaluation and backtests
/// (<see cref="Backtesting"/>) work on any of them.
/// </summary>
public interface IForecaster
{
    /// <summary>Short name for reports, for example "lstm" or "seasonal-naive(7)".</summary>
    string Name { get; }

    /// <summary>Fits on <paramref name="series"/> (the last <see cref="FitOptions.ValidationLength"/> points of each validate).</summary>
    /// <exception cref="ArgumentException">The series do not suit the forecaster (too short, missing columns, non-finite values).</exception>
    /// <exception cref="TrainingCanceledException">The token fired.</exception>
    IFittedForecaster Fit(IReadOnlyList<TimeSeries> series, FitOptions? options = null);
}

/// <summary>
/// A fitted forecaster: forecasts the steps after each history in original units, and saves itself. Immutable;
/// <see cref="Predict"/> is safe from any number of threads at once. Dispose releases backend resources (native memory
/// on libtorch); a fitted forecaster that is never disposed is released by the garbage collector.
/// </summary>
public interface IFittedForecaster : IDisposable
{
    /// <summary>Short name for reports.</summary>
    string Name { get; }

    /// <summary>Steps of one direct forecast (the trained horizon); longer requests are decoded recursively where the model allows.</summary>
    int Horizon { get; }

    /// <summary>Quantile levels of its forecasts; empty for point forecasts.</summary>
    IReadOnlyList<double> QuantileLevels { get; }

    /// <summary>Forecasts the steps after the end of each history.</summary>
    /// <exception cref="ArgumentException">A history is too short, lacks a column, holds a non-finite value, or the known-future covariates are missing or too short.</exception>
    IReadOnlyList<Prediction> Predict(IReadOnlyList<TimeSeries> history, PredictOptions? options = null);

    /// <summary>Writes the model file to <paramref name="stream"/> (see <c>ModelFile</c>); <see cref="ForecasterExtensions.Save"/> writes a path atomically.</summary>
    void Save(Stream stream);
}

/// <summary>Conveniences over <see cref="IFittedForecaster"/>.</summary>
public static class ForecasterExtensions
{
    /// <summary>Forecasts one series.</summary>
    public static Prediction Predict(this IFittedForecaster forecaster, TimeSeries history, int? horizon = null, TimeSeries? future = null)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        ArgumentNullException.ThrowIfNull(history);
        return forecaster.Predict([history], new PredictOptions { Horizon = horizon, Future = future is null ? null : [future] })[0];
    }

    /// <summary>Forecasts <paramref name="horizon"/> steps after each history.</summary>
    public static IReadOnlyList<Prediction> Predict(this IFittedForecaster forecaster, IReadOnlyList<TimeSeries> history, int horizon)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        return forecaster.Predict(history, new PredictOptions { Horizon = horizon });
    }

    /// <summary>Saves the model to <paramref name="path"/>: written to a temporary file beside it, then renamed.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static void Save(this IFittedForecaster forecaster, string path)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        Serialization.AtomicFile.Write(path, forecaster.Save);
    }
}
