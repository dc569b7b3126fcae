using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Metrics;
using SeqForecast.Scaling;
using SeqForecast.Serialization;
using SeqForecast.Splits;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Forecasting;

/// <summary>
/// A recurrent (LSTM or GRU) forecaster: it scales the series, cuts windows, trains a network on a backend and returns
/// a <see cref="FittedRnnForecaster"/>. One global model is trained over all the series it is given.
/// </summary>
public sealed class RnnForecaster
{
    /// <summary>Creates the forecaster. The options are validated here.</summary>
    public RnnForecaster(RnnForecasterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public RnnForecasterOptions Options { get; }

    /// <summary>
    /// Fits on <paramref name="series"/>, holding out the last <paramref name="validationLength"/> points of each for
    /// validation (early stopping, schedules). The scaler is fitted on the training part only.
    /// </summary>
    public FittedRnnForecaster Fit(IReadOnlyList<TimeSeries> series, int validationLength = 0, IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(validationLength);
        var split = ChronologicalSplit.Split(series, validationLength, 0, validationLength > 0 ? Options.Window.Lookback : 0);
        return Fit(split, progress, cancellationToken);
    }

    /// <summary>
    /// Fits on <see cref="DatasetSplit.Train"/>, validating on <see cref="DatasetSplit.Validation"/> when present. The
    /// test part is not touched.
    /// </summary>
    /// <exception cref="ArgumentException">A series is too short for the windows, or the validation part cannot hold one window.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public FittedRnnForecaster Fit(DatasetSplit split, IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        var window = Options.Window;
        if (split.Validation.Count > 0 && (split.ContextLength < window.Lookback || split.ValidationLength < window.Horizon))
            throw new ArgumentException($"validation holds {split.ValidationLength} points with context {split.ContextLength}; lookback {window.Lookback} and horizon {window.Horizon} need context >= {window.Lookback} and validation length >= {window.Horizon}", nameof(split));
        var scaler = Options.Scaler?.Fit(split);
        var scaled = scaler is null ? split : scaler.Transform(split);
        var train = WindowDataset.Create(scaled.Train, window);
        var validation = scaled.Validation.Count > 0 ? WindowDataset.Create(scaled.Validation, window) : null;
        var network = Options.NetworkFor(train.InputFeatureCount, train.TargetCount);
        var session = Options.Backend.CreateSession(network, Options.Training.Setup, Options.Training.Seed);
        try
        {
            var result = new Trainer(Options.Training).Fit(session, train, validation, progress, cancellationToken);
            var config = new ModelConfig(network, window.Lookback, window.Horizon, window.Stride, window.TargetNames(split.Train[0]), window.Features, window.Calendar,
                scaler is null ? null : ScalerState.From(scaler), Options.Backend.Name, Options.NonNegative);
            return new FittedRnnForecaster(config, scaler, session, result);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}

/// <summary>
/// A trained recurrent forecaster: predicts the next horizon of each series in original units, evaluates, backtests,
/// and saves itself to a model file. Owns its backend session (dispose it when done).
/// </summary>
public sealed class FittedRnnForecaster : IDisposable
{
    private readonly INetworkSession _session;

    internal FittedRnnForecaster(ModelConfig config, FittedScaler? scaler, INetworkSession session, TrainingResult? training)
    {
        Config = config;
        Scaler = scaler;
        _session = session;
        Training = training;
    }

    /// <summary>Network, window and scaler configuration.</summary>
    public ModelConfig Config { get; }

    /// <summary>The window spec.</summary>
    public WindowSpec Window => Config.Window;

    /// <summary>The fitted scaler, or null when unscaled.</summary>
    public FittedScaler? Scaler { get; }

    /// <summary>How training went; null for a loaded model.</summary>
    public TrainingResult? Training { get; }

    /// <summary>The backend session (lower-level API: parameters, raw predictions).</summary>
    public INetworkSession Session => _session;

    /// <summary>
    /// Forecasts the <paramref name="horizon"/> steps after the end of each series (default: the trained horizon).
    /// A longer horizon is decoded recursively, feeding forecasts back as inputs; that needs no extra feature columns.
    /// </summary>
    /// <exception cref="ArgumentException">A series is shorter than the lookback or lacks a column.</exception>
    /// <exception cref="InvalidOperationException">A per-series scaler does not know a series, or a recursive horizon meets extra features.</exception>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<TimeSeries> series, int? horizon = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        int steps = horizon ?? Window.Horizon;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps, nameof(horizon));
        if (steps > Window.Horizon && Window.Features.Count > 0)
            throw new InvalidOperationException($"horizon {steps} is beyond the trained horizon {Window.Horizon}, and recursive decoding cannot forecast the extra features ({string.Join(", ", Window.Features)}); ask for at most {Window.Horizon} steps");
        if (series.Count == 0) return [];
        foreach (var s in series) Window.ValidateSeries(s, Window.Lookback);

        var working = series.Select(s => Scaler is null ? s : Scaler.Transform(s)).ToList();
        int targets = Config.Targets.Count;
        var collected = series.Select(_ => Enumerable.Range(0, targets).Select(_ => new List<double>()).ToArray()).ToArray();
        int features = Config.Network.InputSize;
        var inputs = new float[series.Count * Window.Lookback * features];
        var outputs = new float[series.Count * Config.Network.OutputSize];
        while (collected[0][0].Count < steps)
        {
            for (int s = 0; s < working.Count; s++)
                WindowDataset.CopyLatestInput(working[s], Window, inputs.AsSpan(s * Window.Lookback * features, Window.Lookback * features));
            _session.Predict(inputs, series.Count, Window.Lookback, outputs);
            for (int s = 0; s < working.Count; s++)
            {
                var block = outputs.AsSpan(s * Config.Network.OutputSize, Config.Network.OutputSize); // [horizon, targets]
                for (int h = 0; h < Window.Horizon; h++)
                    for (int k = 0; k < targets; k++)
                        collected[s][k].Add(block[h * targets + k]);
                if (collected[s][0].Count < steps) working[s] = Extend(working[s], block);
            }
        }

        var result = new Prediction[series.Count];
        for (int s = 0; s < series.Count; s++)
        {
            var values = new double[targets][];
            for (int k = 0; k < targets; k++)
            {
                values[k] = collected[s][k].Take(steps).ToArray();
                Scaler?.InverseTransform(series[s].Id, Config.Targets[k], values[k].AsSpan());
                if (Config.NonNegative)
                    for (int h = 0; h < values[k].Length; h++) values[k][h] = Math.Max(0, values[k][h]);
            }
            result[s] = new Prediction(series[s].Id, FutureTimestamps(series[s], steps), Config.Targets, values);
        }
        return result;
    }

    /// <summary>Forecasts one series.</summary>
    public Prediction Predict(TimeSeries series, int? horizon = null) => Predict([series], horizon)[0];

    /// <summary>
    /// Holds out the last <paramref name="holdout"/> points of each series, forecasts them from the rest, and scores the
    /// first target with every metric (MASE scaled by the in-sample seasonal naive of period <paramref name="seasonalPeriod"/>).
    /// </summary>
    public (MetricReport Report, IReadOnlyList<Prediction> Predictions) Evaluate(IReadOnlyList<TimeSeries> series, int holdout, int seasonalPeriod)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(holdout);
        var histories = series.Select(s => s.Length > holdout ? s.Slice(0, s.Length - holdout)
            : throw new ArgumentException($"series '{s.Id}' has {s.Length} points; holdout {holdout} leaves no history", nameof(series))).ToArray();
        var predictions = Predict(histories, holdout);
        var scored = series.Select((s, i) => new SeriesForecast(s.Id,
            s.Column(Config.Targets[0])[^holdout..].ToArray(), predictions[i].Values[0], histories[i].Column(Config.Targets[0]).ToArray())).ToArray();
        return (ForecastEvaluation.Evaluate(scored, seasonalPeriod), predictions);
    }

    /// <summary>
    /// Walk-forward backtest without retraining: at each fold origin, forecast the fold's horizon from the history
    /// before it, and score every (series, fold) forecast. Entries are named "id@origin".
    /// </summary>
    public MetricReport Backtest(IReadOnlyList<TimeSeries> series, BacktestOptions options, int seasonalPeriod)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        var scored = new List<SeriesForecast>();
        foreach (var s in series)
        {
            foreach (var fold in WalkForward.Folds(s.Length, options))
            {
                var history = s.Slice(0, fold.Origin);
                var prediction = Predict(history, fold.Horizon);
                scored.Add(new SeriesForecast($"{s.Id}@{fold.Origin}", fold.Test(s).Column(Config.Targets[0]).ToArray(), prediction.Values[0], fold.Train(s).Column(Config.Targets[0]).ToArray()));
            }
        }
        return ForecastEvaluation.Evaluate(scored, seasonalPeriod);
    }

    /// <summary>Saves weights, configuration and scaler state to <paramref name="path"/> (written atomically).</summary>
    public void Save(string path)
    {
        var parameters = new float[_session.Layout.TotalLength];
        _session.CopyParametersTo(parameters);
        ModelFile.Write(path, Config, _session.Layout, parameters);
    }

    /// <summary>Loads a model file onto <paramref name="backend"/> (default: the managed engine).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid model file.</exception>
    public static FittedRnnForecaster Load(string path, IBackend? backend = null)
    {
        var (config, parameters) = ModelFile.Read(path);
        backend ??= ManagedBackend.Default;
        var session = backend.CreateSession(config.Network, new TrainerOptions().Setup, seed: 0);
        try
        {
            session.LoadParameters(parameters);
            return new FittedRnnForecaster(config, config.Scaler?.ToScaler(), session, training: null);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    private TimeSeries Extend(TimeSeries series, ReadOnlySpan<float> block)
    {
        // Recursive decoding: append the forecast (scaled) as new points of the target columns.
        int targets = Config.Targets.Count, horizon = Window.Horizon;
        var columns = new double[series.ColumnNames.Count][];
        for (int c = 0; c < columns.Length; c++)
        {
            int k = -1;
            for (int t = 0; t < targets; t++)
                if (Config.Targets[t] == series.ColumnNames[c]) k = t;
            var extended = new double[series.Length + horizon];
            series.Column(c).CopyTo(extended);
            for (int h = 0; h < horizon; h++) extended[series.Length + h] = k >= 0 ? block[h * targets + k] : double.NaN;
            columns[c] = extended;
        }
        return new TimeSeries(series.Id, series.ColumnNames, columns, series.HasTimestamps ? [.. series.Timestamps, .. FutureTimestamps(series, horizon)] : null);
    }

    private static IReadOnlyList<DateTime> FutureTimestamps(TimeSeries series, int steps)
    {
        if (!series.HasTimestamps || series.Length < 2) return [];
        var frequency = FrequencyExtensions.Infer(series.Timestamps.ToArray(), series.Id);
        var last = series.Timestamps[^1];
        return Enumerable.Range(1, steps).Select(k => frequency.Advance(last, k)).ToArray();
    }
}
