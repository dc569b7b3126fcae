using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Scaling;
using SeqForecast.Serialization;
using SeqForecast.Splits;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Forecasting;

/// <summary>What a fit did beyond the training history: windows used and series left out.</summary>
/// <param name="TrainingWindows">Training windows.</param>
/// <param name="ValidationWindows">Validation windows.</param>
/// <param name="SkippedSeries">Series with no training window (too short even with padding, or skipped by policy), with the reason.</param>
/// <param name="RefitEpochs">Epochs of the refit on training + validation data, or 0 when there was none.</param>
public sealed record TrainingReport(int TrainingWindows, int ValidationWindows, IReadOnlyList<(string SeriesId, string Reason)> SkippedSeries, int RefitEpochs);

/// <summary>Options of <see cref="FittedRnnForecaster.Update"/>: how to continue training a fitted model on new data.</summary>
/// <param name="Training">Epochs, optimizer, learning rate, batch size and seed of the continued training (honoured as given).</param>
public sealed record UpdateOptions(TrainerOptions Training)
{
    /// <summary>Backend of the updated model; null: the backend it was trained or loaded on.</summary>
    public IBackend? Backend { get; init; }

    /// <summary>
    /// Refit the covariate standardisation and the per-series scaler (if any) on the new data; false (default) keeps
    /// them. Static category vocabularies are always kept, since they fix the network's input size.
    /// </summary>
    public bool RefitScaling { get; init; }

    /// <summary>Points at the end of each new series held out for validation. Default 0.</summary>
    public int ValidationLength { get; init; }

    /// <summary>Epoch reports; null: none.</summary>
    public IProgress<EpochProgress>? Progress { get; init; }

    /// <summary>Cancels the update (throws <see cref="TrainingCanceledException"/>; the original model is untouched).</summary>
    public CancellationToken CancellationToken { get; init; }
}

/// <summary>
/// A recurrent (LSTM or GRU) forecaster: it normalises each window, cuts windows with their covariates, trains a
/// network on a backend and returns a <see cref="FittedRnnForecaster"/>. One global model is trained over all the
/// series it is given.
/// </summary>
public sealed class RnnForecaster : IForecaster
{
    /// <summary>Creates the forecaster. The options are validated here.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">A combination of options is invalid.</exception>
    public RnnForecaster(RnnForecasterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public RnnForecasterOptions Options { get; }

    /// <inheritdoc />
    public string Name => Options.Cell.ToString().ToLowerInvariant();

    IFittedForecaster IForecaster.Fit(IReadOnlyList<TimeSeries> series, FitOptions? options) => Fit(series, options);

    /// <summary>
    /// Fits on <paramref name="series"/>: the last <see cref="FitOptions.ValidationLength"/> points of each (default:
    /// <see cref="RnnForecasterOptions.DefaultValidationLength"/>) validate (early stopping, schedules, the monitor),
    /// everything before them trains. Normalisation statistics come from the training part only.
    /// </summary>
    /// <exception cref="ArgumentException">No series, duplicate ids, different targets, a series too short (with <see cref="ShortSeriesPolicy.Error"/>), a missing column or a non-finite value.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="TrainingCanceledException">The token fired; <see cref="TrainingCanceledException.PartialModel"/> holds the best model so far.</exception>
    public FittedRnnForecaster Fit(IReadOnlyList<TimeSeries> series, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        options ??= new FitOptions();
        options.Validate();
        int validation = options.ValidationLength ?? Options.DefaultValidationLength;
        var ends = series.Select(s => s.Length - validation).ToArray();
        return FitCore(series, ends, options);
    }

    /// <summary>Fits on <paramref name="series"/>, holding out the last <paramref name="validationLength"/> points of each for validation.</summary>
    public FittedRnnForecaster Fit(IReadOnlyList<TimeSeries> series, int validationLength, IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default) =>
        Fit(series, new FitOptions { ValidationLength = validationLength, Progress = progress, CancellationToken = cancellationToken });

    /// <summary>
    /// Fits on <see cref="DatasetSplit.Train"/>, validating on <see cref="DatasetSplit.Validation"/> when present. The
    /// test part is not touched.
    /// </summary>
    public FittedRnnForecaster Fit(DatasetSplit split, IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(split);
        var full = new TimeSeries[split.Train.Count];
        var ends = new int[split.Train.Count];
        for (int s = 0; s < full.Length; s++)
        {
            full[s] = split.Validation.Count > 0 ? Concatenate(split.Train[s], split.Validation[s], split.ContextLength) : split.Train[s];
            ends[s] = split.Train[s].Length;
        }
        return FitCore(full, ends, new FitOptions { Progress = progress, CancellationToken = cancellationToken });
    }

    /// <summary>Fits on a thread-pool thread; the caller's thread is not blocked. Same rules as <see cref="Fit(IReadOnlyList{TimeSeries}, FitOptions?)"/>.</summary>
    public Task<FittedRnnForecaster> FitAsync(IReadOnlyList<TimeSeries> series, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        var token = options?.CancellationToken ?? default;
        if (token.IsCancellationRequested) return Task.FromCanceled<FittedRnnForecaster>(token);
        return Task.Factory.StartNew(() => Fit(series, options), token, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private FittedRnnForecaster FitCore(IReadOnlyList<TimeSeries> series, int[] trainEnds, FitOptions fit)
    {
        fit.CancellationToken.ThrowIfCancellationRequested();
        var spec = Options.Window;
        var targets = CheckSeries(series, spec);
        int validationLength = series.Count == 0 ? 0 : series.Max(s => s.Length) - trainEnds.Min();
        for (int s = 0; s < series.Count; s++)
        {
            int held = series[s].Length - trainEnds[s];
            if (held > 0 && held < spec.Horizon)
                throw new ArgumentException($"validation holds {held} points of series '{series[s].Id}'; horizon {spec.Horizon} needs validation length >= {spec.Horizon}", nameof(series));
            if (trainEnds[s] < 1)
                throw new ArgumentException($"series '{series[s].Id}' has {series[s].Length} points; validation {held} leaves none for training", nameof(series));
        }

        var trainParts = series.Select((s, i) => s.Slice(0, trainEnds[i])).ToArray();
        var state = WindowEncoder.FitState(spec, trainParts, standardize: true);
        var scaler = Options.Scaler?.Fit(ChronologicalSplit.Split(trainParts, 0, 0, 0));
        var encoder = new WindowEncoder(spec, targets, Settings(Options), state);
        var frames = series.Select(s => encoder.Frame(s, scaler)).ToArray();

        int minimum = encoder.MinimumHistory, horizon = spec.Horizon;
        var skipped = new List<(string, string)>();
        var trainFirst = new int[frames.Length];
        var trainLast = new int[frames.Length];
        var validFirst = new int[frames.Length];
        var validLast = new int[frames.Length];
        for (int s = 0; s < frames.Length; s++)
        {
            trainFirst[s] = minimum;
            trainLast[s] = trainEnds[s] - horizon;
            validFirst[s] = Math.Max(trainEnds[s], minimum);
            validLast[s] = series[s].Length - horizon;
            if (trainLast[s] >= trainFirst[s]) continue;
            string reason = $"has {trainEnds[s]} {(trainEnds[s] == series[s].Length ? "points" : "training points")}; {(Options.ShortSeries == ShortSeriesPolicy.Pad ? $"a padded window needs history {minimum}" : $"lookback {spec.Lookback}")} + horizon {horizon} needs at least {minimum + horizon}";
            if (Options.ShortSeries == ShortSeriesPolicy.Error)
                throw new ArgumentException($"series '{series[s].Id}' {reason} (set ShortSeries = Pad or Skip to train without it)", nameof(series));
            skipped.Add((series[s].Id, reason));
        }
        var train = new EncodedWindows(encoder, frames, trainFirst, trainLast, spec.Stride, withContext: true);
        if (train.Count == 0)
            throw new ArgumentException($"no series yields a training window: {string.Join("; ", skipped.Select(p => $"'{p.Item1}' {p.Item2}"))}", nameof(series));
        EncodedWindows? validationWindows = null;
        if (validationLength > 0)
        {
            validationWindows = new EncodedWindows(encoder, frames, validFirst, validLast, 1, withContext: true);
            if (validationWindows.Count == 0) validationWindows = null;
        }

        var network = Options.NetworkFor(encoder.FeatureCount, targets.Count);
        var trainer = new Trainer(validationWindows is null && Options.Training.Monitor != ValidationMonitor.Loss ? Options.Training with { Monitor = ValidationMonitor.Loss } : Options.Training);
        var session = Options.Backend.CreateSession(network, Options.Training.Setup, Options.Training.Seed);
        TrainingResult result;
        try
        {
            result = trainer.Fit(session, train, validationWindows, fit.Progress, fit.BatchProgress, fit.CancellationToken);
        }
        catch (TrainingCanceledException canceled)
        {
            if (canceled.Result.BestEpoch == 0)
            {
                session.Dispose();
                throw;
            }
            var partial = new FittedRnnForecaster(Options, encoder, scaler, session, Options.Backend, canceled.Result,
                new TrainingReport(train.Count, validationWindows?.Count ?? 0, skipped, 0));
            throw new TrainingCanceledException(canceled.Result, canceled.CancellationToken, partial);
        }
        catch
        {
            session.Dispose();
            throw;
        }

        int refitEpochs = 0;
        if (Options.RefitOnFullData && validationWindows is not null && result.BestEpoch > 0)
        {
            session.Dispose();
            refitEpochs = result.BestEpoch;
            var all = new EncodedWindows(encoder, frames, trainFirst, validLast, spec.Stride, withContext: true);
            var refitOptions = Options.Training with { Epochs = refitEpochs, EarlyStopping = null, Monitor = ValidationMonitor.Loss };
            session = Options.Backend.CreateSession(network, refitOptions.Setup, refitOptions.Seed);
            try
            {
                new Trainer(refitOptions).Fit(session, all, null, fit.Progress, fit.BatchProgress, fit.CancellationToken);
            }
            catch
            {
                session.Dispose();
                throw;
            }
        }
        return new FittedRnnForecaster(Options, encoder, scaler, session, Options.Backend, result,
            new TrainingReport(train.Count, validationWindows?.Count ?? 0, skipped, refitEpochs));
    }

    internal static EncoderSettings Settings(RnnForecasterOptions options) => new(options.Normalization, options.Residual, options.ShortSeries,
        options.EffectiveMinimumHistory, options.UnknownCategories, options.SeasonLength);

    internal static IReadOnlyList<string> CheckSeries(IReadOnlyList<TimeSeries> series, WindowSpec spec)
    {
        if (series.Count == 0)
            throw new ArgumentException("series is empty; fitting needs at least one series", nameof(series));
        var targets = spec.TargetNames(series[0]);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in series)
        {
            ArgumentNullException.ThrowIfNull(s, nameof(series));
            if (!ids.Add(s.Id)) throw new ArgumentException($"series id '{s.Id}' appears twice; every series needs its own id", nameof(series));
            spec.ValidateSeries(s, 1);
            if (!spec.TargetNames(s).SequenceEqual(targets))
                throw new ArgumentException($"series '{s.Id}' has targets ({string.Join(", ", spec.TargetNames(s))}) unlike series '{series[0].Id}' ({string.Join(", ", targets)}); pooled series need the same target columns", nameof(series));
        }
        return targets;
    }

    /// <summary>The training part followed by the held-out points of its validation part (which starts <paramref name="context"/> points early).</summary>
    private static TimeSeries Concatenate(TimeSeries train, TimeSeries validation, int context)
    {
        int extra = validation.Length - context;
        var columns = train.ColumnNames.Select(name =>
        {
            var values = new double[train.Length + extra];
            train.Column(name).CopyTo(values);
            validation.Column(name)[context..].CopyTo(values.AsSpan(train.Length));
            return values;
        }).ToArray();
        DateTime[]? times = train.HasTimestamps && validation.HasTimestamps ? [.. train.Timestamps, .. validation.Timestamps[context..]] : null;
        return new TimeSeries(train.Id, train.ColumnNames, columns, times, train.Statics);
    }
}

/// <summary>What a fitted recurrent forecaster is: its network, windows, inputs and normalisation.</summary>
/// <param name="Network">Network shape.</param>
/// <param name="Window">Window spec (targets resolved).</param>
/// <param name="Targets">Target columns.</param>
/// <param name="Normalization">Instance normalisation, or null.</param>
/// <param name="Residual">Residual baseline, or null.</param>
/// <param name="QuantileLevels">Quantile levels, empty for point forecasts.</param>
/// <param name="NonNegative">Forecasts are clamped at zero.</param>
/// <param name="RoundForecasts">Forecasts are rounded to whole numbers.</param>
/// <param name="Point">How the point forecast is read from the quantiles.</param>
/// <param name="TrainedOn">Backend the weights were trained on.</param>
/// <param name="FeatureNames">Inputs of one step, in order.</param>
public sealed record RnnModelInfo(NetworkOptions Network, WindowSpec Window, IReadOnlyList<string> Targets, InstanceNormalization? Normalization, ResidualBaseline? Residual,
    IReadOnlyList<double> QuantileLevels, bool NonNegative, string TrainedOn, IReadOnlyList<string> FeatureNames, bool RoundForecasts = false, PointForecast Point = PointForecast.Median);

/// <summary>
/// A trained recurrent forecaster: predicts the next horizon of each series in original units (point and quantiles),
/// continues training on new data (<see cref="Update"/>), and saves itself to a model file. Owns its backend session.
/// <see cref="IFittedForecaster.Predict"/> is thread-safe.
/// </summary>
public sealed class FittedRnnForecaster : IFittedForecaster, IModelNode
{
    private readonly WindowEncoder _encoder;
    private readonly INetworkSession _session;
    private readonly LossOptions _loss;
    private readonly int _pointIndex;
    private readonly RnnForecasterOptions? _options;
    private readonly IBackend _backend;
    private readonly double[] _levels;

    internal FittedRnnForecaster(RnnForecasterOptions? options, WindowEncoder encoder, FittedScaler? scaler, INetworkSession session, IBackend backend, TrainingResult? training, TrainingReport? report, bool nonNegative = false, string? name = null, string? trainedOn = null, bool round = false, PointForecast point = PointForecast.Median)
    {
        _options = options;
        _backend = backend;
        _encoder = encoder;
        Scaler = scaler;
        _session = session;
        _loss = session.Training.Loss;
        _pointIndex = Trainer.PointIndex(_loss);
        Training = training;
        Report = report;
        NonNegative = options?.NonNegative ?? nonNegative;
        RoundForecasts = options?.RoundForecasts ?? round;
        Point = options?.Point ?? point;
        if (Point != PointForecast.Median && (_loss.Kind != LossKind.Pinball || _loss.Quantiles.Count < 3))
            throw new InvalidDataException($"point forecast {Point} needs the pinball loss with at least three levels; the model has {_loss.Kind} with {_loss.Quantiles.Count}");
        _levels = _loss.Quantiles.ToArray();
        Name = name ?? session.Network.Cell.ToString().ToLowerInvariant();
        Info = new RnnModelInfo(session.Network, encoder.Spec with { Targets = encoder.Targets }, encoder.Targets, encoder.Settings.Instance, encoder.Settings.Residual,
            QuantileLevels, NonNegative, trainedOn ?? backend.Name, encoder.FeatureNames(), RoundForecasts, Point);
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Network, window, inputs and normalisation.</summary>
    public RnnModelInfo Info { get; }

    /// <summary>The window spec (targets resolved).</summary>
    public WindowSpec Window => Info.Window;

    /// <inheritdoc />
    public int Horizon => Window.Horizon;

    /// <inheritdoc />
    public IReadOnlyList<double> QuantileLevels => _loss.Kind == LossKind.Pinball ? _loss.Quantiles : [];

    /// <summary>The fitted per-series scaler, or null (instance normalisation keeps no per-series state).</summary>
    public FittedScaler? Scaler { get; }

    /// <summary>How training went; null for a loaded model.</summary>
    public TrainingResult? Training { get; }

    /// <summary>Windows used and series left out; null for a loaded model.</summary>
    public TrainingReport? Report { get; }

    /// <summary>Forecasts are clamped at zero.</summary>
    public bool NonNegative { get; }

    /// <summary>Forecasts are rounded to whole numbers.</summary>
    public bool RoundForecasts { get; }

    /// <summary>How the point forecast is read from the quantiles.</summary>
    public PointForecast Point { get; }

    /// <summary>The backend session (lower-level API: parameters, raw predictions).</summary>
    public INetworkSession Session => _session;

    /// <summary>
    /// Forecasts the steps after the end of each history (default: the trained horizon). A longer horizon is decoded
    /// recursively, feeding the point forecasts back as history; that needs no past covariates, and the known-future
    /// covariates for every step. Thread-safe.
    /// </summary>
    /// <exception cref="ArgumentException">A history is too short, lacks a column or attribute, holds NaN or ±∞ (the message names the series and position), or the known-future values are missing or too short (the message names the covariate and the steps needed).</exception>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<TimeSeries> history, PredictOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        options ??= new PredictOptions();
        options.Validate();
        var spec = _encoder.Spec;
        int steps = options.Horizon ?? spec.Horizon, horizon = spec.Horizon;
        if (steps > horizon && spec.Features.Count > 0)
            throw new ArgumentException($"horizon {steps} is beyond the trained horizon {horizon}, and recursive decoding cannot forecast the past covariates ({string.Join(", ", spec.Features)}); ask for at most {horizon} steps", nameof(options));
        if (history.Count == 0) return [];
        var future = FutureById(history, options.Future, steps);
        int blocks = (steps + horizon - 1) / horizon;
        var frames = new SeriesFrame[history.Count];
        for (int s = 0; s < history.Count; s++)
        {
            var series = history[s] ?? throw new ArgumentNullException(nameof(history));
            frames[s] = _encoder.Frame(series, Scaler, future?[s], extraSteps: blocks * horizon);
            if (series.Length < _encoder.MinimumHistory)
                throw new ArgumentException($"series '{series.Id}' has {series.Length} points; {(_encoder.Settings.ShortSeries == ShortSeriesPolicy.Pad ? $"the model needs at least {_encoder.MinimumHistory} (its minimum history)" : $"lookback {spec.Lookback} needs at least {spec.Lookback}")}", nameof(history));
        }

        int targets = _encoder.TargetCount, levels = _loss.OutputsPerValue, k = _encoder.TargetLength, outputsPerWindow = _session.Network.OutputSize;
        var inputs = new float[(long)history.Count * _encoder.InputLength];
        var outputs = new float[history.Count * outputsPerWindow];
        var scale = new float[k];
        var offset = new float[k];
        var decodeScale = new double[history.Count * k];
        var decodeOffset = new double[history.Count * k];
        var points = new double[history.Count][][];
        var quantiles = new double[history.Count][][][];
        for (int s = 0; s < history.Count; s++)
        {
            points[s] = Enumerable.Range(0, targets).Select(_ => new double[blocks * horizon]).ToArray();
            quantiles[s] = levels > 1 ? Enumerable.Range(0, targets).Select(_ => Enumerable.Range(0, levels).Select(_ => new double[blocks * horizon]).ToArray()).ToArray() : [];
        }
        Span<float> sorted = stackalloc float[Math.Min(levels, 256)];
        Span<double> unitLevels = stackalloc double[Math.Min(levels, 256)];
        Span<double> draws = stackalloc double[QuantilePoint.Draws];
        var step = new double[targets];
        for (int block = 0; block < blocks; block++)
        {
            for (int s = 0; s < frames.Length; s++)
            {
                _encoder.Encode(frames[s], frames[s].Length, inputs.AsSpan(s * _encoder.InputLength, _encoder.InputLength), default, scale, offset);
                _encoder.Decoding(frames[s], frames[s].Length, decodeScale.AsSpan(s * k, k), decodeOffset.AsSpan(s * k, k));
            }
            _session.Predict(inputs, history.Count, _encoder.TimeSteps, outputs);
            for (int s = 0; s < frames.Length; s++)
            {
                var output = outputs.AsSpan(s * outputsPerWindow, outputsPerWindow);
                for (int h = 0; h < horizon; h++)
                {
                    for (int t = 0; t < targets; t++)
                    {
                        int e = h * targets + t;
                        var values = output.Slice(e * levels, levels);
                        values.CopyTo(sorted);
                        sorted[..levels].Sort();
                        double sc = decodeScale[s * k + e], off = decodeOffset[s * k + e];
                        int at = block * horizon + h;
                        double point = sorted[_pointIndex] * sc + off;
                        if (levels > 1)
                            for (int q = 0; q < levels; q++) quantiles[s][t][q][at] = unitLevels[q] = Clamp(sorted[q] * sc + off);
                        if (Point != PointForecast.Median)
                            point = QuantilePoint.Point(Point, _levels, unitLevels[..levels], RoundForecasts, draws);
                        points[s][t][at] = Clamp(point);
                        step[t] = point * frames[s].A[t] + frames[s].B[t];
                    }
                    if (block < blocks - 1) frames[s].Append(step);
                }
            }
        }

        var result = new Prediction[history.Count];
        for (int s = 0; s < history.Count; s++)
        {
            result[s] = new Prediction(history[s].Id, FutureTimestamps(frames[s], history[s], steps), _encoder.Targets, points[s].Select(p => p[..steps]).ToArray())
            {
                QuantileLevels = levels > 1 ? QuantileLevels : [],
                Quantiles = levels > 1 ? quantiles[s].Select(t => t.Select(q => q[..steps]).ToArray()).ToArray() : [],
            };
        }
        return result;
    }

    /// <summary>Forecasts one series (default: the trained horizon).</summary>
    public Prediction Predict(TimeSeries series, int? horizon = null) => Predict([series], new PredictOptions { Horizon = horizon })[0];

    /// <summary>
    /// Continues training on <paramref name="series"/> (new observations, a new period) with the optimizer, learning
    /// rate, epochs and seed of <paramref name="options"/>, starting from this model's weights, and returns the updated
    /// model; this one is left unchanged (and may keep serving predictions meanwhile). The encoder's fitted state is
    /// kept unless <see cref="UpdateOptions.RefitScaling"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The series do not suit the model.</exception>
    /// <exception cref="TrainingCanceledException">The token fired.</exception>
    public FittedRnnForecaster Update(IReadOnlyList<TimeSeries> series, UpdateOptions options)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Training);
        options.Training.Validate();
        if (options.ValidationLength < 0) throw new ArgumentOutOfRangeException(nameof(options), options.ValidationLength, $"validation length ({options.ValidationLength}) must be >= 0");
        options.CancellationToken.ThrowIfCancellationRequested();
        var spec = _encoder.Spec;
        RnnForecaster.CheckSeries(series, spec with { Targets = _encoder.Targets });
        var ends = series.Select(s => s.Length - options.ValidationLength).ToArray();
        var encoder = _encoder;
        var scaler = Scaler;
        if (options.RefitScaling)
        {
            var trainParts = series.Select((s, i) => s.Slice(0, Math.Max(1, ends[i]))).ToArray();
            var fresh = WindowEncoder.FitState(spec, trainParts, standardize: true);
            encoder = new WindowEncoder(spec, _encoder.Targets, _encoder.Settings, fresh with { Statics = _encoder.State.Statics });
            if (scaler is not null)
                scaler = (scaler.Kind == ScalerKind.MinMax
                    ? (IScaler)new MinMaxScaler(new MinMaxScalerOptions { RangeMin = scaler.RangeMin, RangeMax = scaler.RangeMax, Scope = scaler.Scope, Columns = scaler.Columns })
                    : new StandardScaler(new StandardScalerOptions { Scope = scaler.Scope, Columns = scaler.Columns })).Fit(ChronologicalSplit.Split(trainParts, 0, 0, 0));
        }
        var train = TrainingWindows(series, options.ValidationLength, encoder, scaler);
        if (train.Count == 0)
            throw new ArgumentException($"the new series yield no training window: each needs at least {encoder.MinimumHistory + spec.Horizon} points before its validation part", nameof(series));
        EncodedWindows? validation = options.ValidationLength >= spec.Horizon ? ValidationWindows(train, series, options.ValidationLength) : null;
        var backend = options.Backend ?? _backend;
        var training = options.Training with { Loss = _loss, Monitor = validation is null ? ValidationMonitor.Loss : options.Training.Monitor };
        var session = backend.CreateSession(_session.Network, training.Setup, training.Seed);
        try
        {
            var parameters = new float[_session.Layout.TotalLength];
            _session.CopyParametersTo(parameters);
            session.LoadParameters(parameters);
            var result = new Trainer(training).Fit(session, train, validation, options.Progress, null, options.CancellationToken);
            return new FittedRnnForecaster(_options, encoder, scaler, session, backend, result, new TrainingReport(train.Count, validation?.Count ?? 0, [], 0), NonNegative, Name, round: RoundForecasts, point: Point);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>The training windows this model's encoder cuts from <paramref name="series"/>, the last <paramref name="validationLength"/> points of each held out.</summary>
    internal EncodedWindows TrainingWindows(IReadOnlyList<TimeSeries> series, int validationLength) => TrainingWindows(series, validationLength, _encoder, Scaler);

    private static EncodedWindows TrainingWindows(IReadOnlyList<TimeSeries> series, int validationLength, WindowEncoder encoder, FittedScaler? scaler)
    {
        var frames = series.Select(s => encoder.Frame(s, scaler)).ToArray();
        var first = frames.Select(_ => encoder.MinimumHistory).ToArray();
        var last = series.Select(s => s.Length - validationLength - encoder.Spec.Horizon).ToArray();
        return new EncodedWindows(encoder, frames, first, last, encoder.Spec.Stride, withContext: true);
    }

    private static EncodedWindows ValidationWindows(EncodedWindows train, IReadOnlyList<TimeSeries> series, int validationLength) =>
        new(train.Encoder, train.Frames, series.Select(s => Math.Max(s.Length - validationLength, train.Encoder.MinimumHistory)).ToArray(),
            series.Select(s => s.Length - train.Encoder.Spec.Horizon).ToArray(), 1, withContext: true);

    /// <inheritdoc />
    public void Save(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var (node, tensors) = ToNode("");
        ModelFile.Write(stream, node, tensors);
    }

    /// <summary>Saves weights and configuration to <paramref name="path"/> (written atomically).</summary>
    public void Save(string path) => ((IFittedForecaster)this).Save(path);

    /// <summary>Loads a model file holding a recurrent forecaster onto <paramref name="backend"/> (default: the managed engine).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid model file, or holds another kind of forecaster (load it with <see cref="ForecasterFile.Load(string, IBackend?)"/>).</exception>
    public static FittedRnnForecaster Load(string path, IBackend? backend = null) => ForecasterFile.Load(path, backend) switch
    {
        FittedRnnForecaster rnn => rnn,
        var other => Reject(other, path),
    };

    /// <summary>Loads a model from <paramref name="stream"/>; see <see cref="Load(string, IBackend?)"/>.</summary>
    public static FittedRnnForecaster Load(Stream stream, IBackend? backend = null) => ForecasterFile.Load(stream, backend) switch
    {
        FittedRnnForecaster rnn => rnn,
        var other => Reject(other, "stream"),
    };

    private static FittedRnnForecaster Reject(IFittedForecaster other, string source)
    {
        other.Dispose();
        throw new InvalidDataException($"model file '{source}' holds a {other.Name} forecaster, not a single recurrent network; load it with ForecasterFile.Load");
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();

    (ModelNode Node, IReadOnlyList<NamedTensor> Tensors) IModelNode.ToNode(string prefix) => ToNode(prefix);

    internal (RnnNode Node, IReadOnlyList<NamedTensor> Tensors) ToNode(string prefix)
    {
        var parameters = new float[_session.Layout.TotalLength];
        _session.CopyParametersTo(parameters);
        var tensors = _session.Layout.Parameters.Select(p => new NamedTensor(prefix + p.Name, p.Shape, parameters.AsSpan(p.Offset, p.Length).ToArray())).ToArray();
        var settings = _encoder.Settings;
        var node = new RnnNode
        {
            Name = Name,
            Network = NetworkDto.From(_session.Network),
            Window = WindowDto.From(_encoder.Spec, _encoder.Targets),
            Normalization = settings.Instance is { } instance ? new InstanceNormalizationDto { Center = instance.Center, Scale = instance.Scale } : null,
            Residual = settings.Residual is { } residual ? new ResidualDto { Kind = residual.Kind, SeasonLength = residual.SeasonLength } : null,
            ShortSeries = settings.ShortSeries,
            MinimumHistory = settings.MinimumHistory,
            UnknownCategories = settings.UnknownCategories,
            SeasonLength = settings.SeasonLength,
            Past = _encoder.State.Past.Select(p => new[] { p.Mean, p.Scale }).ToArray(),
            Future = _encoder.State.Future.Select(p => new[] { p.Mean, p.Scale }).ToArray(),
            Statics = _encoder.State.Statics.Select(s => new StaticDto { Name = s.Name, Categories = s.Categories, Mean = s.Numeric?.Mean ?? 0, Scale = s.Numeric?.Scale ?? 1 }).ToArray(),
            Scaler = Scaler is null ? null : ScalerState.From(Scaler),
            Loss = _loss.Kind,
            Quantiles = _loss.Quantiles,
            NonNegative = NonNegative,
            RoundForecasts = RoundForecasts,
            Point = Point,
            TrainedOn = Info.TrainedOn,
            BestEpoch = Training?.BestEpoch ?? 0,
        };
        return (node, tensors);
    }

    /// <summary>Rebuilds a fitted forecaster from its description, checking every field before allocating.</summary>
    internal static FittedRnnForecaster FromNode(RnnNode node, TensorSet tensors, string prefix, IBackend backend, string source)
    {
        NetworkOptions network;
        WindowSpec spec;
        WindowEncoder encoder;
        FittedScaler? scaler;
        LossOptions loss;
        float[] parameters;
        try
        {
            if (node.Network is null || node.Window is null) throw new InvalidDataException("the network or window description is missing");
            network = node.Network.ToOptions();
            network.Validate();
            spec = node.Window.ToSpec();
            spec.Validate();
            if (spec.Targets is not { Count: > 0 }) throw new InvalidDataException("the window names no targets");
            var instance = node.Normalization is { } n ? new InstanceNormalization { Center = n.Center, Scale = n.Scale } : null;
            instance?.Validate();
            var residual = node.Residual is { } r ? new ResidualBaseline(r.Kind, r.SeasonLength) : null;
            residual?.Validate();
            if (!Enum.IsDefined(node.ShortSeries) || !Enum.IsDefined(node.UnknownCategories)) throw new InvalidDataException("an unknown short-series or category policy");
            if (node.MinimumHistory < 1 || node.MinimumHistory > spec.Lookback) throw new InvalidDataException($"minimum history {node.MinimumHistory} is outside [1, lookback {spec.Lookback}]");
            if (node.SeasonLength < 1 || node.SeasonLength > WindowSpec.MaxLength) throw new InvalidDataException($"season length {node.SeasonLength} is out of range");
            if (!Enum.IsDefined(node.Point)) throw new InvalidDataException($"an unknown point forecast rule {node.Point}");
            if (node.Point != PointForecast.Median && (node.Loss != LossKind.Pinball || node.Quantiles is not { Count: >= 3 }))
                throw new InvalidDataException($"point forecast {node.Point} needs the pinball loss with at least three levels; the file has {node.Loss} with {node.Quantiles?.Count ?? 0}");
            var past = Standardizations(node.Past, spec.Features.Count, "past covariate");
            var future = Standardizations(node.Future, spec.FutureCovariates.Count, "future covariate");
            if (node.Statics is null || node.Statics.Count != spec.StaticCovariates.Count) throw new InvalidDataException($"it has {node.Statics?.Count ?? 0} static encodings for {spec.StaticCovariates.Count} static covariates");
            var statics = node.Statics.Select((s, i) =>
            {
                if (s is null || s.Name != spec.StaticCovariates[i]) throw new InvalidDataException($"static encoding {i} does not match static covariate '{spec.StaticCovariates[i]}'");
                if (s.Categories is { } categories)
                {
                    if (categories.Count is 0 or > 100_000 || categories.Any(string.IsNullOrEmpty) || categories.Distinct(StringComparer.Ordinal).Count() != categories.Count)
                        throw new InvalidDataException($"static '{s.Name}' has an empty, oversized or repeated category list");
                    return new StaticEncoding(s.Name, categories.ToArray(), null);
                }
                return new StaticEncoding(s.Name, null, Standardization(s.Mean, s.Scale, $"static '{s.Name}'"));
            }).ToArray();
            loss = node.Loss == LossKind.Pinball ? LossOptions.Pinball([.. node.Quantiles ?? []]) : new LossOptions(node.Loss);
            loss.Validate();
            var settings = new EncoderSettings(instance, residual, node.ShortSeries, node.MinimumHistory, node.UnknownCategories, node.SeasonLength);
            encoder = new WindowEncoder(spec, spec.Targets, settings, new EncoderState(past, future, statics));
            if (network.InputSize != encoder.FeatureCount)
                throw new InvalidDataException($"the network reads {network.InputSize} inputs per step but the window layout has {encoder.FeatureCount}");
            if ((long)encoder.TargetLength * loss.OutputsPerValue != network.OutputSize)
                throw new InvalidDataException($"the network has {network.OutputSize} outputs but horizon {spec.Horizon} × {spec.Targets.Count} targets × {loss.OutputsPerValue} levels needs {(long)encoder.TargetLength * loss.OutputsPerValue}");
            scaler = node.Scaler?.ToScaler();
            if (scaler is not null)
                foreach (var t in spec.Targets)
                    if (!scaler.Columns.Contains(t)) throw new InvalidDataException($"the scaler does not know target column '{t}'");
            parameters = tensors.Take(ParameterLayout.For(network), prefix);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or InvalidOperationException or NullReferenceException)
        {
            throw new InvalidDataException($"model file '{source}' has an invalid configuration: {SeqForecast.Data.ErrorMessages.Bare(ex)}", ex);
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith("model file", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"model file '{source}' has an invalid configuration: {ex.Message}", ex);
        }

        var session = backend.CreateSession(network, new TrainerOptions { Loss = loss }.Setup, seed: 0);
        try
        {
            session.LoadParameters(parameters);
            return new FittedRnnForecaster(null, encoder, scaler, session, backend, null, null, node.NonNegative, string.IsNullOrWhiteSpace(node.Name) ? null : node.Name, node.TrainedOn ?? "", node.RoundForecasts, node.Point);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static Standardization[] Standardizations(IReadOnlyList<double[]>? pairs, int count, string what)
    {
        if (pairs is null || pairs.Count != count) throw new InvalidDataException($"it has {pairs?.Count ?? 0} {what} standardisations for {count} columns");
        return pairs.Select((p, i) => p is { Length: 2 } ? Standardization(p[0], p[1], $"{what} {i}") : throw new InvalidDataException($"{what} {i} needs [mean, scale]")).ToArray();
    }

    private static Standardization Standardization(double mean, double scale, string what) =>
        double.IsFinite(mean) && double.IsFinite(scale) && scale != 0 ? new Standardization(mean, scale) : throw new InvalidDataException($"{what} has mean {mean} and scale {scale}; both must be finite and the scale non-zero");

    private double Clamp(double value)
    {
        if (NonNegative) value = Math.Max(0, value);
        return RoundForecasts ? Math.Round(value, MidpointRounding.AwayFromZero) : value;
    }

    private TimeSeries?[]? FutureById(IReadOnlyList<TimeSeries> history, IReadOnlyList<TimeSeries>? future, int steps)
    {
        var names = _encoder.Spec.FutureCovariates;
        if (names.Count == 0) return null;
        if (future is null)
            throw new ArgumentException($"the model has known-future covariates ({string.Join(", ", names)}); give their values for the {steps} steps forecast in PredictOptions.Future (covariate '{names[0]}' needs {steps} future values)", nameof(future));
        var byId = new Dictionary<string, TimeSeries>(StringComparer.Ordinal);
        foreach (var f in future)
            if (f is not null && !byId.TryAdd(f.Id, f)) throw new ArgumentException($"future values for series '{f.Id}' are given twice", nameof(future));
        var result = new TimeSeries?[history.Count];
        for (int s = 0; s < history.Count; s++)
        {
            var id = history[s].Id;
            if (!byId.TryGetValue(id, out var f))
                throw new ArgumentException($"covariate '{names[0]}' needs {steps} future values for series '{id}'; none were given", nameof(future));
            foreach (var name in names)
            {
                if (!f.ColumnNames.Contains(name))
                    throw new ArgumentException($"covariate '{name}' needs {steps} future values for series '{id}'; the future series has no column '{name}'", nameof(future));
                if (f.Length < steps)
                    throw new ArgumentException($"covariate '{name}' needs {steps} future values for series '{id}'; got {f.Length}", nameof(future));
            }
            result[s] = f;
        }
        return result;
    }

    private static IReadOnlyList<DateTime> FutureTimestamps(SeriesFrame frame, TimeSeries history, int steps)
    {
        if (!history.HasTimestamps || frame.Frequency is not { } frequency) return [];
        var last = history.Timestamps[^1];
        var times = new DateTime[steps];
        for (int k = 0; k < steps; k++) times[k] = frequency.Advance(last, k + 1);
        return times;
    }
}
