using NUnit.Framework;
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.LibTorch.Tests;

/// <summary>
/// Training windows kept on the device (<see cref="IResidentTraining"/>): steps on gathered windows are the steps on
/// uploaded batches, bit for bit, through the session and through the <see cref="Trainer"/>; limits and bad input.
/// Run on the CPU device here; on CUDA the same code gathers in device memory (benchmarks/gpu/run.sh).
/// </summary>
public class LibTorchResidentWindowsTests
{
    private const int Time = 9, Features = 2, Outputs = 3;
    private static readonly NetworkOptions Network = new(CellType.Gru, Features, 8, 2, Outputs) { Dropout = 0.2 };
    private static readonly TrainingSetup Setup = new(new LossOptions(LossKind.Mse), new AdamOptions { LearningRate = 0.01 }) { GradientClipNorm = 1.0 };
    private static readonly LibTorchBackend Resident = LibTorchBackend.Cpu(threads: 1).WithResidentWindows(16L << 20);

    [Test]
    public void Defaults_OffOnTheCpuAndTwoGibibytesOnCuda()
    {
        Assert.Multiple(() =>
        {
            Assert.That(LibTorchBackend.Cpu().ResidentWindowBytes, Is.Zero);
            Assert.That(LibTorchBackend.Cuda().ResidentWindowBytes, Is.EqualTo(2L << 30));
            Assert.That(LibTorchBackend.Cuda().WithResidentWindows(0).ResidentWindowBytes, Is.Zero);
            Assert.That(Resident.WithPrecision(LibTorchPrecision.Mixed).ResidentWindowBytes, Is.EqualTo(16L << 20), "other With… methods keep the limit");
        });
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => LibTorchBackend.Cpu().WithResidentWindows(-1));
        Assert.That(ex!.ParamName, Is.EqualTo("maxBytes"));
    }

    [Test]
    public void TakesResidentWindows_WithinTheLimitAndForNativeLossesOnly()
    {
        long perWindow = (Time * Features + Outputs) * sizeof(float);  // 84 bytes
        using var limited = (LibTorchSession)LibTorchBackend.Cpu().WithResidentWindows(perWindow * 100).CreateSession(Network, Setup, 1);
        using var off = (LibTorchSession)LibTorchBackend.Cpu().CreateSession(Network, Setup, 1);
        using var pinball = (LibTorchSession)Resident.CreateSession(new NetworkOptions(CellType.Gru, Features, 8, 1, 6), new TrainingSetup(new LossOptions(LossKind.Pinball) { Quantiles = [0.1, 0.9] }, new AdamOptions()), 1);
        Assert.Multiple(() =>
        {
            Assert.That(limited.TakesResidentWindows(100, Time), Is.True);
            Assert.That(limited.TakesResidentWindows(101, Time), Is.False, "one window past the limit");
            Assert.That(off.TakesResidentWindows(1, Time), Is.False, "off by default on the CPU");
            Assert.That(pinball.TakesResidentWindows(1, Time), Is.False, "a managed loss needs the outputs on the host");
        });
    }

    [Test]
    public void TrainStep_OnGatheredWindowsIsTheStepOnUploadedBatches()
    {
        const int windows = 40;
        var (inputs, targets) = Data(windows, seed: 3);
        int[][] batches = [[3, 17, 39, 0, 3], [38, 1, 2, 20, 21, 22, 5], Enumerable.Range(0, windows).Reverse().ToArray()];
        // libtorch's dropout draws from its process-wide generator, which creating a session seeds: each session runs
        // all its steps before the next is created, so both draw the same masks.
        using var uploaded = Resident.CreateSession(Network, Setup, 5);
        var expected = batches.Select(batch => uploaded.TrainStep(
            batch.SelectMany(w => inputs.Skip(w * Time * Features).Take(Time * Features)).ToArray(),
            batch.SelectMany(w => targets.Skip(w * Outputs).Take(Outputs)).ToArray(), batch.Length, Time)).ToArray();
        using var resident = Resident.CreateSession(Network, Setup, 5);
        var training = (IResidentTraining)resident;
        using var stored = training.CreateResidentWindows(windows, Time);
        stored.Write(0, inputs.AsSpan(0, 25 * Time * Features), targets.AsSpan(0, 25 * Outputs), 25);
        stored.Write(25, inputs.AsSpan(25 * Time * Features), targets.AsSpan(25 * Outputs), windows - 25);
        var losses = batches.Select(batch => training.TrainStep(stored, batch)).ToArray();
        Assert.That(losses, Is.EqualTo(expected), "the same losses, bit for bit");
        Assert.That(Parameters(resident), Is.EqualTo(Parameters(uploaded)), "the same weights, bit for bit (dropout included: both sessions draw alike)");
    }

    [Test]
    public void Trainer_UsesResidentWindowsAndEndsWithTheSameWeights()
    {
        var series = Enumerable.Range(0, 3).Select(s => TimeSeries.FromValues($"s{s}", Enumerable.Range(0, 60).Select(t => Math.Sin(t * 0.3 + s)).ToArray())).ToArray();
        var data = WindowDataset.Create(series, new WindowSpec(Time, Outputs));
        var network = Network with { InputSize = 1 };
        var trainer = new Trainer(new TrainerOptions { Epochs = 3, BatchSize = 16, Seed = 9 });
        using var uploaded = LibTorchBackend.Cpu(threads: 1).CreateSession(network, Setup, 2);
        trainer.Fit(uploaded, data);
        using var inner = Resident.CreateSession(network, Setup, 2);
        var counting = new CountingSession(inner);
        trainer.Fit(counting, data);
        Assert.Multiple(() =>
        {
            Assert.That(counting.ResidentSteps, Is.EqualTo(3 * ((data.Count + 15) / 16)), "every step ran on resident windows");
            Assert.That(counting.UploadedSteps, Is.Zero);
            Assert.That(counting.Created, Is.EqualTo((data.Count, Time)), "the whole training set, once");
            Assert.That(counting.Windows!.Disposed, Is.True, "the trainer frees the device memory when it is done");
            Assert.That(Parameters(inner), Is.EqualTo(Parameters(uploaded)), "bit for bit");
        });
    }

    [Test]
    public void BadInput_ClearErrors()
    {
        using var session = Resident.CreateSession(Network, Setup, 1);
        using var other = Resident.CreateSession(Network, Setup, 1);
        var training = (IResidentTraining)session;
        using var windows = training.CreateResidentWindows(4, Time);
        using var foreign = ((IResidentTraining)other).CreateResidentWindows(4, Time);
        var (inputs, targets) = Data(4, seed: 1);
        windows.Write(0, inputs, targets, 4);
        Assert.Multiple(() =>
        {
            var index = Assert.Throws<ArgumentOutOfRangeException>(() => training.TrainStep(windows, [0, 4]));
            Assert.That(index!.Message, Does.Contain("window index 4 (position 1) must be in [0, 4)"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => training.TrainStep(windows, [-1]))!.ParamName, Is.EqualTo("indices"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => training.TrainStep(windows, []))!.ParamName, Is.EqualTo("indices"));
            Assert.That(Assert.Throws<ArgumentException>(() => training.TrainStep(foreign, [0]))!.Message, Does.Contain("another session"));
            var range = Assert.Throws<ArgumentOutOfRangeException>(() => windows.Write(3, inputs, targets, 2));
            Assert.That(range!.Message, Does.Contain("windows [3, 5) must lie in the 4 resident windows"));
            var shortInputs = Assert.Throws<ArgumentException>(() => windows.Write(0, inputs.AsSpan(0, 10), targets, 1));
            Assert.That(shortInputs!.ParamName, Is.EqualTo("inputs"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => training.CreateResidentWindows(0, Time))!.ParamName, Is.EqualTo("windows"));
        });
        var room = Assert.Throws<InsufficientMemoryException>(() => training.CreateResidentWindows(int.MaxValue, 100_000));
        Assert.That(room!.Message, Does.StartWith("the device has no room for 2147483647 resident windows of 100000 steps").And.Contain("WithResidentWindows"));
        windows.Dispose();
        Assert.Throws<ObjectDisposedException>(() => training.TrainStep(windows, [0]));
        Assert.That(Parameters(session), Has.All.Matches<float>(float.IsFinite), "failed calls left the session usable");
    }

    private static (float[] Inputs, float[] Targets) Data(int windows, int seed)
    {
        var random = new Random(seed);
        var inputs = Enumerable.Range(0, windows * Time * Features).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var targets = Enumerable.Range(0, windows * Outputs).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        return (inputs, targets);
    }

    private static float[] Parameters(INetworkSession session)
    {
        var values = new float[session.Layout.TotalLength];
        session.CopyParametersTo(values);
        return values;
    }

    /// <summary>Forwards to a libtorch session and counts which kind of step the trainer took.</summary>
    private sealed class CountingSession(INetworkSession inner) : INetworkSession, IResidentTraining
    {
        public int ResidentSteps { get; private set; }
        public int UploadedSteps { get; private set; }
        public (int, int)? Created { get; private set; }
        public TrackedWindows? Windows { get; private set; }

        public NetworkOptions Network => inner.Network;
        public ParameterLayout Layout => inner.Layout;
        public TrainingSetup Training => inner.Training;
        public double LearningRate { get => inner.LearningRate; set => inner.LearningRate = value; }

        public double TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, LossContext context = default)
        {
            UploadedSteps++;
            return inner.TrainStep(inputs, targets, batch, timeSteps, context);
        }

        public double EvaluateLoss(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, LossContext context = default) => inner.EvaluateLoss(inputs, targets, batch, timeSteps, context);
        public void Predict(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs) => inner.Predict(inputs, batch, timeSteps, outputs);
        public void CopyParametersTo(Span<float> destination) => inner.CopyParametersTo(destination);
        public void LoadParameters(ReadOnlySpan<float> source) => inner.LoadParameters(source);
        public void Dispose() => inner.Dispose();

        public bool TakesResidentWindows(long windows, int timeSteps) => ((IResidentTraining)inner).TakesResidentWindows(windows, timeSteps);

        public IResidentWindows CreateResidentWindows(int windows, int timeSteps)
        {
            Created = (windows, timeSteps);
            return Windows = new TrackedWindows(((IResidentTraining)inner).CreateResidentWindows(windows, timeSteps));
        }

        public double TrainStep(IResidentWindows windows, ReadOnlySpan<int> indices)
        {
            ResidentSteps++;
            return ((IResidentTraining)inner).TrainStep(((TrackedWindows)windows).Inner, indices);
        }
    }

    private sealed class TrackedWindows(IResidentWindows inner) : IResidentWindows
    {
        public IResidentWindows Inner => inner;
        public bool Disposed { get; private set; }
        public int Count => inner.Count;
        public int TimeSteps => inner.TimeSteps;
        public void Write(int first, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count) => inner.Write(first, inputs, targets, count);

        public void Dispose()
        {
            Disposed = true;
            inner.Dispose();
        }
    }
}
