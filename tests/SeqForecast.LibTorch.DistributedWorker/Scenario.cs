using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Forecasting;
using SeqForecast.Training;
using SeqForecast.Windows;
using SeqForecast.LibTorch;

namespace SeqForecast.LibTorch.DistributedWorker;

/// <summary>
/// The data-parallel scenarios, shared by the worker processes and the tests' single-process references: the same
/// data, seed and steps, so a group of ranks and one process can be compared.
/// </summary>
public static class Scenario
{
    public const int Batch = 65;   // odd, so the two ranks' shares differ (32 and 33 rows)
    public const int Time = 12;
    public const int Features = 2;
    public const int Values = 3;

    public static NetworkOptions Network => new(CellType.Lstm, Features, 16, 2, Values) { Dropout = 0 };

    /// <summary>The loss and optimizer: Adam, except SGD with momentum for "…-mixed", whose steps would show any scale left in the gradients.</summary>
    public static TrainingSetup Setup(string loss) => new(
        loss == "smae" ? new LossOptions(LossKind.ScaledMae) : new LossOptions(LossKind.Mse),
        loss.EndsWith("-mixed", StringComparison.Ordinal) ? new SgdOptions { LearningRate = 0.05, Momentum = 0.9 } : new AdamOptions { LearningRate = 0.01 }) { GradientClipNorm = 1.0 };

    /// <summary>
    /// Mixed precision starting at a loss scale of 2^130, past float32's range: the first step overflows on every rank
    /// and in one process alike and is skipped, the scale drops to 2^10 and then doubles every 3 steps. (Near the
    /// overflow threshold ranks and one process may skip differently: each rank's gradients are those of its own rows'
    /// mean, larger than the whole batch's.)
    /// </summary>
    public static LibTorchBackend Mixed(LibTorchBackend backend) =>
        backend.WithPrecision(LibTorchPrecision.Mixed, new LossScaling { InitialScale = Math.Pow(2, 130), BackoffFactor = Math.Pow(2, -120), GrowthInterval = 3 });

    /// <summary>
    /// Runs <paramref name="steps"/> training steps on batches every rank builds alike; returns the weights, the losses
    /// and the steps mixed precision skipped. A loss named "…-mixed" trains in mixed precision (<see cref="Mixed"/>);
    /// "mse-resident" trains with MSE on resident windows (<see cref="IResidentTraining"/>): every step's batch is
    /// written to the device first, in reverse order, and each step gathers its rows back by index, so its batches are
    /// those of "mse".
    /// </summary>
    /// <param name="dieAt">Exit the process (code 3) before this step, to test a rank failing; -1 never.</param>
    /// <remarks>Mixed precision and resident windows need a <see cref="LibTorchBackend"/>; "mse" and "smae" run on any backend.</remarks>
    public static (float[] Parameters, double[] Losses, long Skipped) TrainSession(IBackend backend, string loss, int steps, int dieAt = -1)
    {
        LibTorchBackend LibTorch() => backend as LibTorchBackend ?? throw new ArgumentException($"the '{loss}' scenario needs the libtorch backend, not {backend.Name}");
        if (loss.EndsWith("-mixed", StringComparison.Ordinal)) backend = Mixed(LibTorch());
        bool resident = loss == "mse-resident";
        if (resident) backend = LibTorch().WithResidentWindows(64L << 20);
        using var session = backend.CreateSession(Network, Setup(loss), seed: 11);
        using var windows = resident ? ((IResidentTraining)session).CreateResidentWindows(steps * Batch, Time) : null;
        var indices = new int[Batch];
        var random = new Random(5);
        var losses = new double[steps];
        var inputs = new float[Batch * Time * Features];
        var targets = new float[Batch * Values];
        var scale = new float[Batch * Values];
        var offset = new float[Batch * Values];
        var weight = new float[Batch];
        for (int pass = resident ? 0 : 1; pass < 2; pass++)
        {
            // Resident windows: pass 0 writes every step's batch to the device, pass 1 trains on them by index.
            random = new Random(5);
            for (int step = 0; step < steps; step++)
            {
                if (pass == 1 && step == dieAt) Environment.Exit(3);
                for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() * 2 - 1);
                for (int i = 0; i < targets.Length; i++) targets[i] = (float)(random.NextDouble() * 2 - 1);
                for (int i = 0; i < scale.Length; i++) (scale[i], offset[i]) = ((float)(0.5 + random.NextDouble()), (float)random.NextDouble());
                for (int i = 0; i < weight.Length; i++) weight[i] = (float)(0.5 + random.NextDouble());
                var context = loss == "smae" ? new LossContext(scale, offset, weight) : default;
                if (!resident)
                {
                    losses[step] = session.TrainStep(inputs, targets, Batch, Time, context);
                    continue;
                }
                // Window step·Batch + r holds row Batch − 1 − r of the step's batch.
                int windowFloats = Time * Features;
                for (int r = 0; r < Batch; r++)
                {
                    int row = Batch - 1 - r;
                    if (pass == 0) windows!.Write(step * Batch + r, inputs.AsSpan(row * windowFloats, windowFloats), targets.AsSpan(row * Values, Values), 1);
                    indices[row] = step * Batch + r;
                }
                if (pass == 1) losses[step] = ((IResidentTraining)session).TrainStep(windows!, indices);
            }
        }
        var parameters = new float[session.Layout.TotalLength];
        session.CopyParametersTo(parameters);
        return (parameters, losses, session is LibTorchSession torch ? torch.LossScale.SkippedSteps : 0);
    }

    /// <summary>Series every rank builds alike.</summary>
    public static TimeSeries[] Series() => Enumerable.Range(0, 6).Select(s => TimeSeries.FromValues($"s{s}",
        Enumerable.Range(0, 90).Select(t => 10 + s + 3 * Math.Sin(2 * Math.PI * t / 7 + s) + 0.1 * ((t * 37 + s * 11) % 13)).ToArray())).ToArray();

    /// <summary>Fits a forecaster through the backend (the public API); returns the forecasts of every series.</summary>
    public static double[] Forecast(IBackend backend)
    {
        var options = new RnnForecasterOptions(new WindowSpec(14, 7))
        {
            HiddenSize = 12,
            Layers = 1,
            Backend = backend,
            Training = RnnForecasterOptions.DefaultTraining with { Epochs = 3, WindowsPerEpoch = 256, BatchSize = 32, EarlyStopping = null, Seed = 4 },
        };
        var series = Series();
        using var model = new RnnForecaster(options).Fit(series);
        return model.Predict(series).SelectMany(p => p.FirstTarget).ToArray();
    }
}
