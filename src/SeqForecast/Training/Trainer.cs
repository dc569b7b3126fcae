using System.Diagnostics;
using SeqForecast.Engine;
using SeqForecast.Randomness;
using SeqForecast.Windows;

namespace SeqForecast.Training;

/// <summary>Early stopping on the monitored value (see <see cref="TrainerOptions.Monitor"/>).</summary>
/// <param name="Patience">Epochs without improvement before stopping. Range: ≥ 1.</param>
public sealed record EarlyStoppingOptions(int Patience)
{
    /// <summary>Smallest decrease that counts as an improvement. Range: ≥ 0. Default 0.</summary>
    public double MinDelta { get; init; }

    /// <summary>Restore the weights of the best epoch when training ends (default true).</summary>
    public bool RestoreBestWeights { get; init; } = true;

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        if (Patience < 1) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, $"patience ({Patience}) must be >= 1");
        if (!(MinDelta >= 0) || !double.IsFinite(MinDelta)) throw new ArgumentOutOfRangeException(nameof(MinDelta), MinDelta, $"min delta ({MinDelta}) must be finite and >= 0");
    }
}

/// <summary>How an epoch draws its training windows.</summary>
public enum WindowSampling
{
    /// <summary>Every window has the same chance, so long series contribute more windows than short ones.</summary>
    Uniform,
    /// <summary>Each draw picks a series uniformly, then one of its windows: every series weighs the same, however long.</summary>
    SeriesBalanced,
}

/// <summary>What early stopping, restore-best and plateau schedules watch after each epoch.</summary>
public enum ValidationMonitor
{
    /// <summary>The training loss on the validation windows (the training loss without validation data).</summary>
    Loss,
    /// <summary>
    /// MASE of the point forecasts on the validation windows, in original units: the mean absolute error over each
    /// window's horizon divided by the series' in-sample naive MAE, averaged over windows. Needs validation data.
    /// </summary>
    Mase,
    /// <summary>M4 sMAPE (percent) of the point forecasts on the validation windows, in original units. Needs validation data.</summary>
    Smape,
}

/// <summary>Training-loop settings.</summary>
public sealed record TrainerOptions
{
    /// <summary>Maximum epochs. Range: ≥ 1. Default 50.</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>Windows per mini-batch. Range: ≥ 1. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Shuffle the windows every epoch (seeded). Default true. Ignored by <see cref="WindowSampling.SeriesBalanced"/>, which always draws at random.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the initial weights, the shuffles, the window draws and the dropout masks. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>Training loss. Default MSE.</summary>
    public LossOptions Loss { get; init; } = new();

    /// <summary>Optimizer. Default Adam with learning rate 1e-3.</summary>
    public OptimizerOptions Optimizer { get; init; } = new AdamOptions();

    /// <summary>Clip gradients to this global norm; null (default) disables clipping.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Learning-rate schedule applied after each epoch; null (default) keeps the rate constant.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>Early stopping; null (default) trains for every epoch and restores nothing.</summary>
    public EarlyStoppingOptions? EarlyStopping { get; init; }

    /// <summary>How windows are drawn. Default <see cref="WindowSampling.Uniform"/>.</summary>
    public WindowSampling Sampling { get; init; } = WindowSampling.Uniform;

    /// <summary>
    /// Windows trained on per epoch: a training budget that does not depend on the machine's speed, so the same seed
    /// gives the same model on a busy and a quiet machine. Null (default): every window once per epoch (uniform), or as
    /// many draws as there are windows (series-balanced). Range: ≥ 1.
    /// </summary>
    public int? WindowsPerEpoch { get; init; }

    /// <summary>What early stopping and plateau schedules watch. Default <see cref="ValidationMonitor.Loss"/>.</summary>
    public ValidationMonitor Monitor { get; init; } = ValidationMonitor.Loss;

    /// <summary>
    /// Stop after the first epoch that ends past this wall-clock time. Null (default): no limit. Unlike
    /// <see cref="WindowsPerEpoch"/> and <see cref="Epochs"/>, this budget depends on the machine's speed and load, so
    /// results are reproducible only without it.
    /// </summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>The loss, optimizer and clipping as a backend setup.</summary>
    public TrainingSetup Setup => new(Loss, Optimizer) { GradientClipNorm = GradientClipNorm };

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    /// <exception cref="ArgumentException">A combination is invalid (see the message).</exception>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, $"epochs ({Epochs}) must be >= 1");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"batch size ({BatchSize}) must be >= 1");
        if (WindowsPerEpoch is < 1) throw new ArgumentOutOfRangeException(nameof(WindowsPerEpoch), WindowsPerEpoch, $"windows per epoch ({WindowsPerEpoch}) must be >= 1");
        if (!Enum.IsDefined(Sampling)) throw new ArgumentOutOfRangeException(nameof(Sampling), Sampling, "sampling must be Uniform or SeriesBalanced");
        if (!Enum.IsDefined(Monitor)) throw new ArgumentOutOfRangeException(nameof(Monitor), Monitor, "monitor must be Loss, Mase or Smape");
        if (TimeLimit is { } limit && limit <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TimeLimit), limit, $"time limit ({limit}) must be positive");
        Setup.Validate();
        Schedule?.Validate();
        EarlyStopping?.Validate();
    }
}

/// <summary>What the trainer reports after each epoch.</summary>
/// <param name="Epoch">Epoch just finished, from 1.</param>
/// <param name="Epochs">Maximum epochs.</param>
/// <param name="TrainLoss">Mean training loss of the epoch (mean over batches, weighted by batch size).</param>
/// <param name="ValidationLoss">Validation value after the epoch (the loss, or the MASE/sMAPE of <see cref="TrainerOptions.Monitor"/>), or null without validation data.</param>
/// <param name="SamplesPerSecond">Training windows per second in this epoch.</param>
/// <param name="Elapsed">Time since training started.</param>
/// <param name="EstimatedRemaining">Estimated time for the remaining epochs at the mean epoch time so far.</param>
/// <param name="LearningRate">Learning rate used in this epoch.</param>
/// <param name="IsBest">This epoch has the best monitored value so far.</param>
public sealed record EpochProgress(int Epoch, int Epochs, double TrainLoss, double? ValidationLoss, double SamplesPerSecond, TimeSpan Elapsed, TimeSpan EstimatedRemaining, double LearningRate, bool IsBest);

/// <summary>Progress inside an epoch, reported at most every <see cref="Trainer.BatchProgressInterval"/>.</summary>
/// <param name="Epoch">Epoch in progress, from 1.</param>
/// <param name="Epochs">Maximum epochs.</param>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches in this epoch.</param>
/// <param name="RunningLoss">Mean training loss of the batches done so far in this epoch.</param>
public sealed record BatchProgress(int Epoch, int Epochs, int Batch, int Batches, double RunningLoss);

/// <summary>How training ended.</summary>
/// <param name="History">One entry per completed epoch.</param>
/// <param name="BestEpoch">Epoch with the best monitored value (0 when no epoch completed).</param>
/// <param name="BestLoss">Best monitored value.</param>
/// <param name="StoppedEarly">Early stopping (or the time limit) ended training.</param>
public sealed record TrainingResult(IReadOnlyList<EpochProgress> History, int BestEpoch, double BestLoss, bool StoppedEarly);

/// <summary>
/// Training was cancelled through its token. The session holds the best weights seen so far; <see cref="Result"/>
/// says how far training got, and a forecaster's fit puts the best-so-far model in <see cref="PartialModel"/>.
/// </summary>
public sealed class TrainingCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    public TrainingCanceledException(TrainingResult result, CancellationToken token, object? partialModel = null)
        : base($"training was cancelled after {result.History.Count} epoch(s); the best epoch was {result.BestEpoch}", token)
    {
        Result = result;
        PartialModel = partialModel;
    }

    /// <summary>The epochs completed before the cancellation.</summary>
    public TrainingResult Result { get; }

    /// <summary>
    /// The best-so-far fitted model when a forecaster was being fitted (for example a <c>FittedRnnForecaster</c>), or
    /// null when no epoch completed or a bare session was trained. The caller owns it and disposes it.
    /// </summary>
    public object? PartialModel { get; }
}

/// <summary>
/// Mini-batch training over window datasets on any <see cref="INetworkSession"/>: seeded shuffling or
/// series-balanced draws, a fixed number of windows per epoch, validation every epoch (loss, MASE or sMAPE),
/// learning-rate schedules, early stopping with restore-best, progress reports and cancellation.
/// </summary>
/// <remarks>
/// A NaN or infinite batch loss stops training with <see cref="TrainingDivergedException"/> after restoring the best
/// weights seen (or the initial weights). A cancellation token that fires throws <see cref="TrainingCanceledException"/>
/// (an <see cref="OperationCanceledException"/>), checked before any work and between batches; the session then holds
/// the best weights. A session that keeps training windows on its device (<see cref="IResidentTraining"/>, libtorch on
/// CUDA) gets the whole training set once before the first epoch and then only each batch's window indices; the
/// weights are the same as with uploaded batches.
/// </remarks>
public sealed class Trainer
{
    /// <summary>Shortest time between two <see cref="BatchProgress"/> reports.</summary>
    public static readonly TimeSpan BatchProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Creates a trainer.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public Trainer(TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public TrainerOptions Options { get; }

    /// <summary>Trains <paramref name="session"/> on <paramref name="train"/>, validating on <paramref name="validation"/> after each epoch.</summary>
    /// <exception cref="ArgumentException">The datasets do not fit the network (features, outputs), or MASE/sMAPE is monitored without validation data.</exception>
    /// <exception cref="TrainingDivergedException">A batch loss was NaN or infinite.</exception>
    /// <exception cref="TrainingCanceledException">The token fired.</exception>
    public TrainingResult Fit(INetworkSession session, WindowDataset train, WindowDataset? validation = null, IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        return Fit(session, new DatasetWindowSource(train), validation is null ? null : new DatasetWindowSource(validation), progress, null, cancellationToken);
    }

    internal TrainingResult Fit(INetworkSession session, IWindowSource train, IWindowSource? validation, IProgress<EpochProgress>? progress, IProgress<BatchProgress>? batchProgress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(train);
        cancellationToken.ThrowIfCancellationRequested();
        CheckFits(session, train, nameof(train));
        if (validation is not null) CheckFits(session, validation, nameof(validation));
        var options = Options;
        if (options.Monitor != ValidationMonitor.Loss && validation is null)
            throw new ArgumentException($"monitor {options.Monitor} scores validation windows, and there are none; give validation data or monitor Loss", nameof(validation));
        if (train.Count == 0)
            throw new ArgumentException("the training data has no windows", nameof(train));

        int windowsPerEpoch = options.WindowsPerEpoch ?? train.Count;
        int batchCapacity = Math.Min(options.BatchSize, windowsPerEpoch);
        var batch = new BatchBuffers(train, batchCapacity);
        // A backend that keeps the whole training set on its device (a GPU) gets it once; steps then send indices only.
        var residentTraining = session as IResidentTraining;
        using var resident = residentTraining is not null && residentTraining.TakesResidentWindows(train.Count, train.TimeSteps)
            ? TryUpload(residentTraining, train)
            : null;
        var order = new int[windowsPerEpoch];
        var permutation = options.Sampling == WindowSampling.Uniform ? new int[train.Count] : [];
        var best = new float[session.Layout.TotalLength];
        var current = new float[best.Length];
        session.CopyParametersTo(best);
        var scheduler = options.Schedule?.Create(session.LearningRate);
        var history = new List<EpochProgress>();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        bool stoppedEarly = false;
        var clock = Stopwatch.StartNew();
        long lastBatchReport = 0;

        for (int epoch = 1; epoch <= options.Epochs && !stoppedEarly; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            DrawEpoch(train, order, permutation, DeterministicRandom.DeriveSeed(options.Seed, (ulong)epoch));
            double lossSum = 0;
            int seen = 0, batches = (order.Length + batchCapacity - 1) / batchCapacity;
            for (int start = 0, number = 1; start < order.Length; start += batchCapacity, number++)
            {
                if (cancellationToken.IsCancellationRequested) Cancel(session, best, bestEpoch, history, bestLoss, cancellationToken);
                int size = Math.Min(batchCapacity, order.Length - start);
                double loss;
                if (resident is not null)
                {
                    loss = residentTraining!.TrainStep(resident, order.AsSpan(start, size));
                }
                else
                {
                    batch.Fill(train, order.AsSpan(start, size));
                    loss = session.TrainStep(batch.Inputs(size), batch.Targets(size), size, train.TimeSteps, batch.Context(size));
                }
                if (!double.IsFinite(loss))
                {
                    session.LoadParameters(best);
                    throw new TrainingDivergedException($"training diverged: the loss is {loss} at epoch {epoch}, batch {number}; the best weights (epoch {bestEpoch}) were restored. Lower the learning rate (now {session.LearningRate}) or set GradientClipNorm.");
                }
                lossSum += loss * size;
                seen += size;
                if (batchProgress is not null && (clock.ElapsedTicks - lastBatchReport > BatchProgressInterval.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond || number == batches))
                {
                    lastBatchReport = clock.ElapsedTicks;
                    batchProgress.Report(new BatchProgress(epoch, options.Epochs, number, batches, lossSum / seen));
                }
            }
            session.CopyParametersTo(current);
            if (!AllFinite(current))
            {
                session.LoadParameters(best);
                throw new TrainingDivergedException($"training diverged: the weights hold NaN or infinity after epoch {epoch}; the best weights (epoch {bestEpoch}) were restored. Lower the learning rate (now {session.LearningRate}) or set GradientClipNorm.");
            }
            double trainLoss = lossSum / seen;
            double? validationLoss = validation is null ? null : Score(session, validation, options.BatchSize, options.Monitor);
            double monitored = validationLoss ?? trainLoss;
            bool isBest = monitored < bestLoss - (options.EarlyStopping?.MinDelta ?? 0);
            if (isBest)
            {
                bestLoss = monitored;
                bestEpoch = epoch;
                sinceBest = 0;
                current.CopyTo(best, 0);
            }
            else if (++sinceBest >= (options.EarlyStopping?.Patience ?? int.MaxValue))
            {
                stoppedEarly = true;
            }
            if (options.TimeLimit is { } limit && clock.Elapsed >= limit) stoppedEarly = true;

            double learningRate = session.LearningRate;
            if (scheduler is not null) session.LearningRate = scheduler.EpochEnded(epoch, monitored);
            var elapsed = clock.Elapsed;
            var remaining = TimeSpan.FromTicks(elapsed.Ticks / epoch * (options.Epochs - epoch));
            var report = new EpochProgress(epoch, options.Epochs, trainLoss, validationLoss, seen / epochClock.Elapsed.TotalSeconds, elapsed, stoppedEarly ? TimeSpan.Zero : remaining, learningRate, isBest);
            history.Add(report);
            progress?.Report(report);
        }

        if ((options.EarlyStopping?.RestoreBestWeights ?? false) && bestEpoch > 0) session.LoadParameters(best);
        return new TrainingResult(history, bestEpoch, bestLoss, stoppedEarly);
    }

    /// <summary>
    /// Copies every window of <paramref name="train"/> to the session's device, a batch at a time; null when the device
    /// has no room for them (training then uploads each batch, with the same result).
    /// </summary>
    private static IResidentWindows? TryUpload(IResidentTraining session, IWindowSource train)
    {
        const int chunk = 4096;  // windows per copy, whatever the batch size
        IResidentWindows windows;
        try
        {
            windows = session.CreateResidentWindows(train.Count, train.TimeSteps);
        }
        catch (InsufficientMemoryException)
        {
            return null;
        }
        try
        {
            int capacity = Math.Min(chunk, train.Count);
            var batch = new BatchBuffers(train, capacity);
            var indices = new int[capacity];
            for (int start = 0; start < train.Count; start += capacity)
            {
                int size = Math.Min(capacity, train.Count - start);
                for (int i = 0; i < size; i++) indices[i] = start + i;
                batch.Fill(train, indices.AsSpan(0, size));
                windows.Write(start, batch.Inputs(size), batch.Targets(size), size);
            }
            return windows;
        }
        catch
        {
            windows.Dispose();
            throw;
        }
    }

    /// <summary>Mean loss of <paramref name="dataset"/> in inference mode, weighted by batch size.</summary>
    public static double Evaluate(INetworkSession session, WindowDataset dataset, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return Score(session, new DatasetWindowSource(dataset), batchSize, ValidationMonitor.Loss);
    }

    /// <summary>The monitored value of <paramref name="data"/>: its mean loss, or the MASE or sMAPE of its point forecasts in original units.</summary>
    internal static double Score(INetworkSession session, IWindowSource data, int batchSize, ValidationMonitor monitor)
    {
        int capacity = Math.Min(batchSize, data.Count);
        var batch = new BatchBuffers(data, capacity);
        var indices = new int[capacity];
        int outputs = session.Network.OutputSize, levels = session.Training.Loss.OutputsPerValue, k = data.TargetLength;
        int point = PointIndex(session.Training.Loss);
        var predictions = monitor == ValidationMonitor.Loss ? [] : new float[capacity * outputs];
        double sum = 0;
        for (int start = 0; start < data.Count; start += capacity)
        {
            int size = Math.Min(capacity, data.Count - start);
            for (int i = 0; i < size; i++) indices[i] = start + i;
            batch.Fill(data, indices.AsSpan(0, size));
            if (monitor == ValidationMonitor.Loss)
            {
                sum += session.EvaluateLoss(batch.Inputs(size), batch.Targets(size), size, data.TimeSteps, batch.Context(size)) * size;
                continue;
            }
            session.Predict(batch.Inputs(size), size, data.TimeSteps, predictions);
            var context = batch.Context(size);
            var targets = batch.Targets(size);
            for (int w = 0; w < size; w++)
            {
                double windowSum = 0;
                for (int j = 0; j < k; j++)
                {
                    int e = w * k + j;
                    double s = context.IsEmpty ? 1 : context.Scale[e], o = context.IsEmpty ? 0 : context.Offset[e];
                    double p = predictions[(w * k + j) * levels + point] * s + o, y = targets[e] * s + o;
                    if (monitor == ValidationMonitor.Mase) windowSum += Math.Abs(p - y);
                    else if (Math.Abs(p) + Math.Abs(y) > 0) windowSum += 200 * Math.Abs(p - y) / (Math.Abs(p) + Math.Abs(y));
                }
                double weight = monitor == ValidationMonitor.Mase && !context.IsEmpty ? context.Weight[w] : 1;
                sum += windowSum / k * weight;
            }
        }
        return sum / data.Count;
    }

    /// <summary>Index, among a value's outputs, of the point forecast: the median level of a quantile loss (the level nearest 0.5), else 0.</summary>
    internal static int PointIndex(LossOptions loss)
    {
        if (loss.Kind != LossKind.Pinball) return 0;
        int best = 0;
        for (int q = 1; q < loss.Quantiles.Count; q++)
            if (Math.Abs(loss.Quantiles[q] - 0.5) < Math.Abs(loss.Quantiles[best] - 0.5)) best = q;
        return best;
    }

    internal void DrawEpoch(IWindowSource train, int[] order, int[] permutation, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        if (Options.Sampling == WindowSampling.SeriesBalanced)
        {
            int seriesCount = train.SeriesCount;
            for (int i = 0; i < order.Length; i++)
            {
                int s;
                do s = random.NextInt(seriesCount); while (train.WindowsInSeries(s) == 0);
                order[i] = train.FirstWindow(s) + random.NextInt(train.WindowsInSeries(s));
            }
            return;
        }
        for (int i = 0; i < permutation.Length; i++) permutation[i] = i;
        if (Options.Shuffle) random.Shuffle(permutation);
        for (int i = 0; i < order.Length; i++)
        {
            // More windows per epoch than the data holds: reshuffle for each further pass.
            if (i > 0 && i % permutation.Length == 0 && Options.Shuffle) random.Shuffle(permutation);
            order[i] = permutation[i % permutation.Length];
        }
    }

    private static void Cancel(INetworkSession session, float[] best, int bestEpoch, List<EpochProgress> history, double bestLoss, CancellationToken token)
    {
        if (bestEpoch > 0) session.LoadParameters(best);
        throw new TrainingCanceledException(new TrainingResult(history.ToArray(), bestEpoch, bestLoss, StoppedEarly: false), token);
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    private static void CheckFits(INetworkSession session, IWindowSource data, string name)
    {
        if (data.InputFeatureCount != session.Network.InputSize)
            throw new ArgumentException($"{name} has {data.InputFeatureCount} input features per step but the network's input size is {session.Network.InputSize}", name);
        int perValue = session.Training.Loss.OutputsPerValue;
        if (data.TargetLength * perValue != session.Network.OutputSize)
            throw new ArgumentException($"{name} has horizon × targets = {data.TargetLength}{(perValue > 1 ? $" (× {perValue} quantile levels)" : "")} but the network's output size is {session.Network.OutputSize}", name);
    }

    /// <summary>Reusable batch buffers for one window source.</summary>
    private sealed class BatchBuffers
    {
        private readonly int _inputLength, _targetLength;
        private readonly float[] _inputs, _targets, _scale, _offset, _weight;

        public BatchBuffers(IWindowSource source, int capacity)
        {
            _inputLength = source.InputLength;
            _targetLength = source.TargetLength;
            _inputs = new float[(long)capacity * _inputLength];
            _targets = new float[capacity * _targetLength];
            bool context = source.HasContext;
            _scale = context ? new float[capacity * _targetLength] : [];
            _offset = context ? new float[capacity * _targetLength] : [];
            _weight = context ? new float[capacity] : [];
        }

        public void Fill(IWindowSource source, ReadOnlySpan<int> windows) => source.Fill(windows, _inputs, _targets, _scale, _offset, _weight);

        public ReadOnlySpan<float> Inputs(int size) => _inputs.AsSpan(0, size * _inputLength);

        public ReadOnlySpan<float> Targets(int size) => _targets.AsSpan(0, size * _targetLength);

        public LossContext Context(int size) => _weight.Length == 0
            ? default
            : new LossContext(_scale.AsSpan(0, size * _targetLength), _offset.AsSpan(0, size * _targetLength), _weight.AsSpan(0, size));
    }
}

/// <summary>Training produced a NaN or infinite loss. The session holds the best weights seen before it.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);

/// <summary>
/// Windows a trainer can draw batches from: inputs <c>[TimeSteps, InputFeatureCount]</c> and targets
/// <c>[TargetLength]</c> per window, grouped by series (the windows of series s are
/// <c>[FirstWindow(s), FirstWindow(s) + WindowsInSeries(s))</c>), and optionally a loss context per window.
/// </summary>
internal interface IWindowSource
{
    int Count { get; }

    int TimeSteps { get; }

    int InputFeatureCount { get; }

    int InputLength => TimeSteps * InputFeatureCount;

    int TargetLength { get; }

    bool HasContext { get; }

    int SeriesCount { get; }

    int FirstWindow(int series);

    int WindowsInSeries(int series);

    /// <summary>Fills inputs, targets and (when <see cref="HasContext"/>) scale, offset [n, TargetLength] and weight [n] for the listed windows.</summary>
    void Fill(ReadOnlySpan<int> windows, Span<float> inputs, Span<float> targets, Span<float> scale, Span<float> offset, Span<float> weight);
}

/// <summary>A <see cref="WindowDataset"/> as a window source (no loss context).</summary>
internal sealed class DatasetWindowSource : IWindowSource
{
    private readonly WindowDataset _dataset;
    private readonly int[] _first;

    public DatasetWindowSource(WindowDataset dataset)
    {
        _dataset = dataset;
        _first = new int[dataset.SeriesCount + 1];
        for (int s = 0; s < dataset.SeriesCount; s++) _first[s + 1] = _first[s] + dataset.WindowsInSeries(s);
    }

    public int Count => _dataset.Count;

    public int TimeSteps => _dataset.Spec.Lookback;

    public int InputFeatureCount => _dataset.InputFeatureCount;

    public int TargetLength => _dataset.TargetLength;

    public bool HasContext => false;

    public int SeriesCount => _dataset.SeriesCount;

    public int FirstWindow(int series) => _first[series];

    public int WindowsInSeries(int series) => _dataset.WindowsInSeries(series);

    public void Fill(ReadOnlySpan<int> windows, Span<float> inputs, Span<float> targets, Span<float> scale, Span<float> offset, Span<float> weight) =>
        _dataset.FillBatch(windows, inputs, targets);
}
