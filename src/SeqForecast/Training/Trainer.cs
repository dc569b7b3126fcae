using System.Diagnostics;
using SeqForecast.Engine;
using SeqForecast.Randomness;
using SeqForecast.Windows;

namespace SeqForecast.Training;

/// <summary>Early stopping on the monitored loss (validation loss when there is validation data, else training loss).</summary>
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
        if (!(MinDelta >= 0)) throw new ArgumentOutOfRangeException(nameof(MinDelta), MinDelta, $"min delta ({MinDelta}) must be >= 0");
    }
}

/// <summary>Training-loop settings.</summary>
public sealed record TrainerOptions
{
    /// <summary>Maximum epochs. Range: ≥ 1. Default 50.</summary>
    public int Epochs { get; init; } = 50;

    /// <summary>Windows per mini-batch. Range: ≥ 1. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Shuffle the windows every epoch (seeded). Default true.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Seed of the initial weights, the shuffles and the dropout masks. Default 0.</summary>
    public ulong Seed { get; init; }

    /// <summary>Training loss. Default MSE.</summary>
    public LossOptions Loss { get; init; } = new();

    /// <summary>Optimizer. Default Adam with learning rate 1e-3.</summary>
    public OptimizerOptions Optimizer { get; init; } = new AdamOptions();

    /// <summary>Clip gradients to this global norm; null (default) disables clipping.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Learning-rate schedule applied after each epoch; null (default) keeps the rate constant.</summary>
    public LearningRateSchedule? Schedule { get; init; }

    /// <summary>Early stopping; null (default) trains for every epoch but still restores nothing.</summary>
    public EarlyStoppingOptions? EarlyStopping { get; init; }

    /// <summary>The loss, optimizer and clipping as a backend setup.</summary>
    public TrainingSetup Setup => new(Loss, Optimizer) { GradientClipNorm = GradientClipNorm };

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, $"epochs ({Epochs}) must be >= 1");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, $"batch size ({BatchSize}) must be >= 1");
        Setup.Validate();
        Schedule?.Validate();
        EarlyStopping?.Validate();
    }
}

/// <summary>What the trainer reports after each epoch.</summary>
/// <param name="Epoch">Epoch just finished, from 1.</param>
/// <param name="Epochs">Maximum epochs.</param>
/// <param name="TrainLoss">Mean training loss of the epoch (mean over batches, weighted by batch size).</param>
/// <param name="ValidationLoss">Validation loss after the epoch, or null without validation data.</param>
/// <param name="SamplesPerSecond">Training windows per second in this epoch.</param>
/// <param name="Elapsed">Time since training started.</param>
/// <param name="EstimatedRemaining">Estimated time for the remaining epochs at the mean epoch time so far.</param>
/// <param name="LearningRate">Learning rate used in this epoch.</param>
/// <param name="IsBest">This epoch has the best monitored loss so far.</param>
public sealed record EpochProgress(int Epoch, int Epochs, double TrainLoss, double? ValidationLoss, double SamplesPerSecond, TimeSpan Elapsed, TimeSpan EstimatedRemaining, double LearningRate, bool IsBest);

/// <summary>How training ended.</summary>
/// <param name="History">One entry per completed epoch.</param>
/// <param name="BestEpoch">Epoch with the best monitored loss (0 when no epoch completed).</param>
/// <param name="BestLoss">Best monitored loss.</param>
/// <param name="StoppedEarly">Early stopping ended training.</param>
/// <param name="Cancelled">The cancellation token ended training; the best weights are kept.</param>
public sealed record TrainingResult(IReadOnlyList<EpochProgress> History, int BestEpoch, double BestLoss, bool StoppedEarly, bool Cancelled);

/// <summary>
/// Mini-batch training over window datasets on any <see cref="INetworkSession"/>: seeded shuffling, validation every
/// epoch, learning-rate schedules, early stopping with restore-best, progress reports and cancellation.
/// </summary>
/// <remarks>
/// A NaN or infinite batch loss stops training with <see cref="TrainingDivergedException"/> after restoring the best
/// weights seen (or the initial weights). Cancellation is checked between batches; the session then holds the best
/// weights and <see cref="TrainingResult.Cancelled"/> is true.
/// </remarks>
public sealed class Trainer
{
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
    /// <exception cref="ArgumentException">The datasets do not fit the network (features, outputs).</exception>
    /// <exception cref="TrainingDivergedException">A batch loss was NaN or infinite.</exception>
    public TrainingResult Fit(INetworkSession session, WindowDataset train, WindowDataset? validation = null, IProgress<EpochProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(train);
        CheckFits(session, train, nameof(train));
        if (validation is not null) CheckFits(session, validation, nameof(validation));

        var options = Options;
        int batchCapacity = Math.Min(options.BatchSize, train.Count);
        var inputs = new float[batchCapacity * train.InputLength];
        var targets = new float[batchCapacity * train.TargetLength];
        var order = new int[train.Count];
        var best = new float[session.Layout.TotalLength];
        var current = new float[best.Length];
        session.CopyParametersTo(best);
        var scheduler = options.Schedule?.Create(session.LearningRate);
        var history = new List<EpochProgress>();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, sinceBest = 0;
        bool stoppedEarly = false, cancelled = false;
        var clock = Stopwatch.StartNew();

        for (int epoch = 1; epoch <= options.Epochs && !stoppedEarly && !cancelled; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            train.EpochOrder(order, options.Shuffle, DeterministicRandom.DeriveSeed(options.Seed, (ulong)epoch));
            double lossSum = 0;
            int seen = 0;
            for (int start = 0; start < order.Length; start += batchCapacity)
            {
                if (cancellationToken.IsCancellationRequested) { cancelled = true; break; }
                int batch = Math.Min(batchCapacity, order.Length - start);
                train.FillBatch(order.AsSpan(start, batch), inputs, targets);
                double loss = session.TrainStep(inputs, targets, batch, train.Spec.Lookback);
                if (!double.IsFinite(loss))
                {
                    session.LoadParameters(best);
                    throw new TrainingDivergedException($"training diverged: the loss is {loss} at epoch {epoch}, batch {start / batchCapacity + 1}; the best weights (epoch {bestEpoch}) were restored. Lower the learning rate (now {session.LearningRate}) or set GradientClipNorm.");
                }
                lossSum += loss * batch;
                seen += batch;
            }
            if (seen == 0) break;
            session.CopyParametersTo(current);
            if (!AllFinite(current))
            {
                session.LoadParameters(best);
                throw new TrainingDivergedException($"training diverged: the weights hold NaN or infinity after epoch {epoch}; the best weights (epoch {bestEpoch}) were restored. Lower the learning rate (now {session.LearningRate}) or set GradientClipNorm.");
            }
            double trainLoss = lossSum / seen;
            double? validationLoss = validation is null ? null : Evaluate(session, validation, options.BatchSize);
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

            double learningRate = session.LearningRate;
            if (scheduler is not null) session.LearningRate = scheduler.EpochEnded(epoch, monitored);
            var elapsed = clock.Elapsed;
            var remaining = TimeSpan.FromTicks(elapsed.Ticks / epoch * (options.Epochs - epoch));
            var report = new EpochProgress(epoch, options.Epochs, trainLoss, validationLoss, seen / epochClock.Elapsed.TotalSeconds, elapsed, stoppedEarly ? TimeSpan.Zero : remaining, learningRate, isBest);
            history.Add(report);
            progress?.Report(report);
        }

        // Early stopping restores the best epoch when asked; cancellation always leaves the best weights.
        bool restore = cancelled || (options.EarlyStopping?.RestoreBestWeights ?? false);
        if (restore && bestEpoch > 0) session.LoadParameters(best);
        return new TrainingResult(history, bestEpoch, bestLoss, stoppedEarly, cancelled);
    }

    /// <summary>Mean loss of <paramref name="dataset"/> in inference mode, weighted by batch size.</summary>
    public static double Evaluate(INetworkSession session, WindowDataset dataset, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        double sum = 0;
        foreach (var batch in dataset.Batches(batchSize, shuffle: false))
            sum += session.EvaluateLoss(batch.Inputs, batch.Targets, batch.Count, dataset.Spec.Lookback) * batch.Count;
        return sum / dataset.Count;
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    private static void CheckFits(INetworkSession session, WindowDataset dataset, string name)
    {
        if (dataset.InputFeatureCount != session.Network.InputSize)
            throw new ArgumentException($"{name} has {dataset.InputFeatureCount} input features per step but the network's input size is {session.Network.InputSize}", name);
        if (dataset.TargetLength != session.Network.OutputSize)
            throw new ArgumentException($"{name} has horizon × targets = {dataset.TargetLength} but the network's output size is {session.Network.OutputSize}", name);
    }
}

/// <summary>Training produced a NaN or infinite loss. The session holds the best weights seen before it.</summary>
public sealed class TrainingDivergedException(string message) : InvalidOperationException(message);
