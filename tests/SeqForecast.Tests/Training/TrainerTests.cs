using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Training;

public class TrainerTests
{
    private static WindowDataset Dataset(int length = 80, double phase = 0) => WindowDataset.Create(
        [TimeSeries.FromValues("a", Enumerable.Range(0, length).Select(t => 0.5 + 0.4 * Math.Sin(t * 0.7 + phase)).ToArray())],
        new WindowSpec(10, 2));

    private static INetworkSession Session(TrainerOptions options, int threads = 1, double dropout = 0) =>
        new ManagedBackend(threads).CreateSession(new NetworkOptions(CellType.Lstm, 1, 12, 2, 2) { Dropout = dropout }, options.Setup, options.Seed);

    private static float[] Weights(INetworkSession session)
    {
        var weights = new float[session.Layout.TotalLength];
        session.CopyParametersTo(weights);
        return weights;
    }

    [Test]
    public void Fit_ReducesLossAndReportsProgressEveryEpoch()
    {
        var options = new TrainerOptions { Epochs = 15, BatchSize = 8, Optimizer = new AdamOptions { LearningRate = 0.01 } };
        using var session = Session(options);
        var reports = new List<EpochProgress>();
        var result = new Trainer(options).Fit(session, Dataset(), Dataset(60, 1), new SynchronousProgress(reports.Add));
        Assert.Multiple(() =>
        {
            Assert.That(reports.Select(r => r.Epoch), Is.EqualTo(Enumerable.Range(1, 15)));
            Assert.That(reports[^1].TrainLoss, Is.LessThan(reports[0].TrainLoss / 2));
            Assert.That(reports.All(r => r.ValidationLoss.HasValue && r.SamplesPerSecond > 0), Is.True);
            Assert.That(reports[^1].EstimatedRemaining, Is.EqualTo(TimeSpan.Zero));
            Assert.That(result.History, Has.Count.EqualTo(15));
        });
    }

    [Test]
    public void Fit_SameSeedGivesBitIdenticalWeightsForAnyThreadCount()
    {
        var options = new TrainerOptions { Epochs = 3, BatchSize = 8, Seed = 42 };
        using var one = Session(options, threads: 1, dropout: 0.2);
        using var two = Session(options, threads: 2, dropout: 0.2);
        new Trainer(options).Fit(one, Dataset());
        new Trainer(options).Fit(two, Dataset());
        Assert.That(Weights(two), Is.EqualTo(Weights(one)));
    }

    [Test]
    public void Fit_DifferentSeedsGiveDifferentWeights()
    {
        var a = new TrainerOptions { Epochs = 1, Seed = 1 };
        var b = a with { Seed = 2 };
        using var first = Session(a);
        using var second = Session(b);
        new Trainer(a).Fit(first, Dataset());
        new Trainer(b).Fit(second, Dataset());
        Assert.That(Weights(second), Is.Not.EqualTo(Weights(first)));
    }

    [Test]
    public void Fit_EarlyStoppingRestoresBestWeights()
    {
        // A learning rate this high makes validation loss worsen after the first epochs.
        var options = new TrainerOptions { Epochs = 40, BatchSize = 4, Optimizer = new SgdOptions { LearningRate = 0.9, Momentum = 0.9 }, EarlyStopping = new EarlyStoppingOptions(3), GradientClipNorm = 1 };
        using var session = Session(options);
        var validation = Dataset(60, 1);
        var result = new Trainer(options).Fit(session, Dataset(), validation);
        double restored = Trainer.Evaluate(session, validation, 64);
        Assert.Multiple(() =>
        {
            Assert.That(result.StoppedEarly, Is.True);
            Assert.That(result.History, Has.Count.EqualTo(result.BestEpoch + 3));
            Assert.That(restored, Is.EqualTo(result.BestLoss).Within(1e-6), "the session holds the best epoch's weights");
        });
    }

    [Test]
    public void Fit_CancellationThrowsOperationCanceledWithBestWeights()
    {
        var options = new TrainerOptions { Epochs = 1000, BatchSize = 8 };
        using var session = Session(options);
        using var cancel = new CancellationTokenSource();
        float[]? bestWeights = null;
        var ex = Assert.Throws<TrainingCanceledException>(() => new Trainer(options).Fit(session, Dataset(), null, new SynchronousProgress(p =>
        {
            if (p.IsBest) bestWeights = Weights(session);
            if (p.Epoch == 3) cancel.Cancel();
        }), cancel.Token));
        Assert.Multiple(() =>
        {
            Assert.That(ex, Is.InstanceOf<OperationCanceledException>());
            Assert.That(ex!.CancellationToken, Is.EqualTo(cancel.Token));
            Assert.That(ex.Result.History, Has.Count.EqualTo(3));
            Assert.That(ex.Result.BestEpoch, Is.InRange(1, 3));
            Assert.That(Weights(session), Is.EqualTo(bestWeights), "the session holds the best epoch's weights");
        });
    }

    [Test]
    public void Fit_AlreadyCancelledTokenThrowsBeforeAnyWork()
    {
        var options = new TrainerOptions { Epochs = 5 };
        using var session = Session(options);
        var initial = Weights(session);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var reports = new List<EpochProgress>();
        Assert.Throws<OperationCanceledException>(() => new Trainer(options).Fit(session, Dataset(), null, new SynchronousProgress(reports.Add), cancel.Token));
        Assert.Multiple(() =>
        {
            Assert.That(reports, Is.Empty);
            Assert.That(Weights(session), Is.EqualTo(initial));
        });
    }

    [Test]
    public void Fit_NaNLossThrowsAndRestoresWeights()
    {
        var data = Dataset();
        var options = new TrainerOptions { Epochs = 5, Optimizer = new SgdOptions { LearningRate = 1e30 } };
        using var session = Session(options);
        var initial = Weights(session);
        var ex = Assert.Throws<TrainingDivergedException>(() => new Trainer(options).Fit(session, data));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.StartWith("training diverged:"));
            Assert.That(ex.Message, Does.Contain("Lower the learning rate"));
            Assert.That(Weights(session).All(float.IsFinite), Is.True);
            Assert.That(Weights(session), Is.EqualTo(initial));
        });
    }

    [Test]
    public void Create_NaNValueIsRejectedWithItsPosition()
    {
        var values = Enumerable.Range(0, 40).Select(t => Math.Sin(t * 0.3)).ToArray();
        values[20] = double.NaN;
        var ex = Assert.Throws<ArgumentException>(() => WindowDataset.Create([TimeSeries.FromValues("a", values)], new WindowSpec(10, 2)));
        Assert.That(ex!.Message, Does.StartWith("series 'a' column 'value' is NaN at index 20"));
    }

    [Test]
    public void Fit_StepScheduleDecaysTheRate()
    {
        var options = new TrainerOptions { Epochs = 5, Schedule = new StepSchedule(2, 0.5), Optimizer = new AdamOptions { LearningRate = 0.01 } };
        using var session = Session(options);
        var reports = new List<EpochProgress>();
        new Trainer(options).Fit(session, Dataset(), null, new SynchronousProgress(reports.Add));
        Assert.That(reports.Select(r => r.LearningRate), Is.EqualTo(new[] { 0.01, 0.01, 0.005, 0.005, 0.0025 }).Within(1e-12));
    }

    [Test]
    public void PlateauSchedule_ReducesAfterPatience()
    {
        var scheduler = new ReduceOnPlateauSchedule { Patience = 1, Factor = 0.5 }.Create(1.0);
        var rates = new[] { 1.0, 0.9, 0.95, 0.95, 0.95, 0.5 }.Select((loss, i) => scheduler.EpochEnded(i + 1, loss)).ToArray();
        Assert.That(rates, Is.EqualTo(new[] { 1.0, 1.0, 1.0, 0.5, 0.5, 0.5 }));
    }

    [Test]
    public void Fit_RejectsDatasetThatDoesNotFitTheNetwork()
    {
        var options = new TrainerOptions();
        using var session = Session(options);
        var wrong = WindowDataset.Create([TimeSeries.FromValues("a", new double[30])], new WindowSpec(10, 5));
        var ex = Assert.Throws<ArgumentException>(() => new Trainer(options).Fit(session, wrong));
        Assert.That(ex!.Message, Does.Contain("horizon × targets = 5 but the network's output size is 2"));
    }

    [TestCase(0, 1)]
    [TestCase(1, 0)]
    public void Options_RejectNonPositiveEpochsOrBatch(int epochs, int batch)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Trainer(new TrainerOptions { Epochs = epochs, BatchSize = batch }));
    }

    [Test]
    public void TrainStep_AllocatesNothingAfterWarmUp()
    {
        var options = new TrainerOptions { GradientClipNorm = 1.0 };
        using var session = new ManagedBackend(2).CreateSession(new NetworkOptions(CellType.Gru, 1, 64, 2, 7) { Dropout = 0.1 }, options.Setup, 1);
        var data = WindowDataset.Create([TimeSeries.FromValues("a", Enumerable.Range(0, 200).Select(t => Math.Sin(t * 0.1)).ToArray())], new WindowSpec(30, 7));
        var inputs = new float[64 * data.InputLength];
        var targets = new float[64 * data.TargetLength];
        var indices = Enumerable.Range(0, 64).ToArray();
        data.FillBatch(indices, inputs, targets);
        for (int i = 0; i < 30; i++) session.TrainStep(inputs, targets, 64, 30);
        // Measured one step at a time on the calling thread: a long measuring loop would itself be compiled with
        // on-stack replacement, which allocates. The worker threads run only allocation-free kernels.
        long allocated = 0;
        for (int i = 0; i < 20; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            session.TrainStep(inputs, targets, 64, 30);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.That(allocated, Is.Zero);
    }

    private sealed class SynchronousProgress(Action<EpochProgress> report) : IProgress<EpochProgress>
    {
        public void Report(EpochProgress value) => report(value);
    }
    [Test]
    public void Fit_OnResidentWindowsUploadsEachWindowOnceAndTrainsAsWithBatches()
    {
        // 4,189 windows: uploaded in two copies of at most 4,096; 50 drawn an epoch.
        var options = new TrainerOptions { Epochs = 3, BatchSize = 8, Seed = 6, WindowsPerEpoch = 50 };
        var data = Dataset(4200);
        using var plain = Session(options, dropout: 0.2);
        new Trainer(options).Fit(plain, data);
        using var resident = new HostResidentSession(Session(options, dropout: 0.2), takes: true);
        new Trainer(options).Fit(resident, data);
        Assert.Multiple(() =>
        {
            Assert.That(data.Count, Is.EqualTo(4189));
            Assert.That(resident.Windows!.Written, Is.EqualTo(Enumerable.Repeat(1, data.Count)), "each window written once");
            Assert.That(resident.Windows.Writes, Is.EqualTo(2));
            Assert.That(resident.Windows.Disposed, Is.True, "freed at the end");
            Assert.That(resident.ResidentSteps, Is.EqualTo(3 * 7), "50 windows in batches of 8: 7 steps an epoch");
            Assert.That(resident.UploadedSteps, Is.Zero);
            Assert.That(Weights(resident), Is.EqualTo(Weights(plain)), "the same batches, the same weights");
        });
    }

    [Test]
    public void Fit_UploadsBatchesWhenTheSessionDeclinesResidentWindows()
    {
        var options = new TrainerOptions { Epochs = 1, BatchSize = 8 };
        using var session = new HostResidentSession(Session(options), takes: false);
        new Trainer(options).Fit(session, Dataset());
        Assert.Multiple(() =>
        {
            Assert.That(session.Windows, Is.Null);
            Assert.That(session.UploadedSteps, Is.EqualTo((Dataset().Count + 7) / 8));
        });
    }

    [Test]
    public void Fit_TrainsOnBatchesWhenTheDeviceHasNoRoom()
    {
        var options = new TrainerOptions { Epochs = 2, BatchSize = 8, Seed = 3 };
        using var plain = Session(options);
        new Trainer(options).Fit(plain, Dataset());
        using var session = new HostResidentSession(Session(options), takes: true, room: false);
        new Trainer(options).Fit(session, Dataset());
        Assert.Multiple(() =>
        {
            Assert.That(session.ResidentSteps, Is.Zero);
            Assert.That(session.UploadedSteps, Is.EqualTo(2 * ((Dataset().Count + 7) / 8)));
            Assert.That(Weights(session), Is.EqualTo(Weights(plain)));
        });
    }

    [Test]
    public void Fit_FreesResidentWindowsWhenCanceled()
    {
        var options = new TrainerOptions { Epochs = 100, BatchSize = 8 };
        using var session = new HostResidentSession(Session(options), takes: true);
        using var cancel = new CancellationTokenSource();
        Assert.Throws<TrainingCanceledException>(() => new Trainer(options).Fit(session, Dataset(), null, new SynchronousProgress(p =>
        {
            if (p.Epoch == 2) cancel.Cancel();
        }), cancel.Token));
        Assert.That(session.Windows!.Disposed, Is.True);
    }

    /// <summary>Resident windows kept in host arrays: a step gathers its windows and trains the wrapped session on them.</summary>
    private sealed class HostResidentSession(INetworkSession inner, bool takes, bool room = true) : INetworkSession, IResidentTraining
    {
        public HostWindows? Windows { get; private set; }
        public int ResidentSteps { get; private set; }
        public int UploadedSteps { get; private set; }
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
        public bool TakesResidentWindows(long windows, int timeSteps) => takes;

        public IResidentWindows CreateResidentWindows(int windows, int timeSteps) => room
            ? Windows = new HostWindows(windows, timeSteps, timeSteps * Network.InputSize, Network.OutputSize)
            : throw new InsufficientMemoryException("no room");

        public double TrainStep(IResidentWindows windows, ReadOnlySpan<int> indices)
        {
            ResidentSteps++;
            var host = (HostWindows)windows;
            var x = new float[indices.Length * host.InputFloats];
            var y = new float[indices.Length * host.TargetFloats];
            for (int i = 0; i < indices.Length; i++)
            {
                host.Inputs.AsSpan(indices[i] * host.InputFloats, host.InputFloats).CopyTo(x.AsSpan(i * host.InputFloats));
                host.Targets.AsSpan(indices[i] * host.TargetFloats, host.TargetFloats).CopyTo(y.AsSpan(i * host.TargetFloats));
            }
            return inner.TrainStep(x, y, indices.Length, host.TimeSteps);
        }
    }

    private sealed class HostWindows(int count, int timeSteps, int inputFloats, int targetFloats) : IResidentWindows
    {
        public float[] Inputs { get; } = new float[count * inputFloats];
        public float[] Targets { get; } = new float[count * targetFloats];
        public int[] Written { get; } = new int[count];
        public int Writes { get; private set; }
        public int InputFloats => inputFloats;
        public int TargetFloats => targetFloats;
        public bool Disposed { get; private set; }
        public int Count => count;
        public int TimeSteps => timeSteps;

        public void Write(int first, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int n)
        {
            inputs[..(n * inputFloats)].CopyTo(Inputs.AsSpan(first * inputFloats));
            targets[..(n * targetFloats)].CopyTo(Targets.AsSpan(first * targetFloats));
            for (int i = first; i < first + n; i++) Written[i]++;
            Writes++;
        }

        public void Dispose() => Disposed = true;
    }
}
