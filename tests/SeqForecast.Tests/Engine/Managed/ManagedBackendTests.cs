using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Forecasting;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Engine.Managed;

/// <summary>
/// The managed backend training over a process group: ranks run as threads of this process over an in-memory group
/// (<see cref="InMemoryGroup"/>), against one session on the whole batch. The same training over Gloo between processes
/// is SeqForecast.LibTorch.Tests' DistributedTests.
/// </summary>
public class ManagedBackendTests
{
    private const int Time = 9;
    private const int Features = 2;
    private const int Values = 3;

    private static NetworkOptions Network(double dropout = 0) => new(CellType.Lstm, Features, 12, 2, Values) { Dropout = dropout };

    private static TrainingSetup Setup(LossKind loss) => new(new LossOptions(loss), new AdamOptions { LearningRate = 0.01 }) { GradientClipNorm = 1.0 };

    /// <summary>Trains <paramref name="steps"/> steps on batches every rank builds alike; returns the weights and the losses.</summary>
    private static (float[] Parameters, double[] Losses) Train(IBackend backend, NetworkOptions network, LossKind loss, int batch, int steps, ulong seed = 11)
    {
        using var session = backend.CreateSession(network, Setup(loss), seed);
        var random = new Random(5);
        var losses = new double[steps];
        var inputs = new float[batch * Time * Features];
        var targets = new float[batch * Values];
        var scale = new float[batch * Values];
        var offset = new float[batch * Values];
        var weight = new float[batch];
        for (int step = 0; step < steps; step++)
        {
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(random.NextDouble() * 2 - 1);
            for (int i = 0; i < targets.Length; i++) targets[i] = (float)(random.NextDouble() * 2 - 1);
            for (int i = 0; i < scale.Length; i++) (scale[i], offset[i]) = ((float)(0.5 + random.NextDouble()), (float)random.NextDouble());
            for (int i = 0; i < weight.Length; i++) weight[i] = (float)(0.5 + random.NextDouble());
            var context = loss == LossKind.ScaledMae ? new LossContext(scale, offset, weight) : default;
            losses[step] = session.TrainStep(inputs, targets, batch, Time, context);
        }
        var parameters = new float[session.Layout.TotalLength];
        session.CopyParametersTo(parameters);
        return (parameters, losses);
    }

    /// <summary>Runs <paramref name="body"/> once per rank of a <paramref name="world"/>-process group, each on its own thread.</summary>
    private static T[] RunRanks<T>(int world, Func<IProcessGroup, T> body, InMemoryGroup.Hub? hub = null)
    {
        hub ??= new InMemoryGroup.Hub(world);
        var results = new T[world];
        var errors = new Exception?[world];
        var threads = Enumerable.Range(0, world).Select(rank => new Thread(() =>
        {
            try
            {
                results[rank] = body(new InMemoryGroup(hub, rank));
            }
            catch (Exception ex)
            {
                errors[rank] = ex;
                hub.Abort();
            }
        })).ToArray();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) Assert.That(thread.Join(TimeSpan.FromMinutes(2)), Is.True, "a rank did not finish");
        if (errors.Any(e => e is not null)) throw new AggregateException(errors.OfType<Exception>());
        return results;
    }

    [TestCase(2, 64, LossKind.Mse)]
    [TestCase(2, 65, LossKind.Mse)]
    [TestCase(3, 100, LossKind.ScaledMae)]
    [TestCase(4, 70, LossKind.Mse)]
    [TestCase(2, 40, LossKind.ScaledMae)]
    public void WithProcessGroup_RanksGiveTheWeightsOfOneProcessTrainingOnTheWholeBatch(int world, int batch, LossKind loss)
    {
        const int steps = 8;
        var (expected, expectedLosses) = Train(new ManagedBackend(threads: 1), Network(), loss, batch, steps);
        var hub = new InMemoryGroup.Hub(world);
        var ranks = RunRanks(world, group => Train(new ManagedBackend(threads: 1).WithProcessGroup(group), Network(), loss, batch, steps), hub);
        // Each step's all-reduce carries [rows·gradients…, rows, rows·loss, batch, batch², time, time²]: every rank
        // computed its own share's rows only, not the whole batch.
        int parameters = expected.Length;
        var stepCalls = hub.Sent.Where(s => s.Values.Length == parameters + 6).ToArray();
        Assert.That(stepCalls, Has.Length.EqualTo(steps * world), "one all-reduce per rank and step");
        foreach (var (rank, values) in stepCalls)
        {
            var (start, end, _) = ManagedSession.Share(batch, rank, world);
            Assert.That(values[parameters], Is.EqualTo(end - start), $"rank {rank} trained its {end - start} rows");
        }
        Assert.Multiple(() =>
        {
            for (int r = 1; r < world; r++)
            {
                Assert.That(ranks[r].Parameters, Is.EqualTo(ranks[0].Parameters), $"rank {r} holds rank 0's weights, bit for bit");
                Assert.That(ranks[r].Losses, Is.EqualTo(ranks[0].Losses), $"rank {r} reports rank 0's losses");
            }
            Assert.That(ranks[0].Parameters.Zip(expected, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-5), "weights of one process on the whole batch");
            for (int i = 0; i < steps; i++)
                Assert.That(ranks[0].Losses[i], Is.EqualTo(expectedLosses[i]).Within(1e-6), $"loss of step {i}: the mean over every rank's rows");
            Assert.That(ranks[0].Parameters, Is.Not.EqualTo(Train(new ManagedBackend(threads: 1), Network(), loss, batch, 0).Parameters), "training moved the weights");
        });
    }

    [Test]
    public void WithProcessGroup_DropoutMasksAreThoseOfOneProcess()
    {
        // 128 windows are four micro-batches, two per rank: each rank draws the masks one process draws for them.
        const int steps = 6, batch = 128;
        var network = Network(dropout: 0.4);
        var (expected, _) = Train(new ManagedBackend(threads: 1), network, LossKind.Mse, batch, steps);
        var ranks = RunRanks(2, group => Train(new ManagedBackend(threads: 1).WithProcessGroup(group), network, LossKind.Mse, batch, steps));
        var (other, _) = Train(new ManagedBackend(threads: 1), network, LossKind.Mse, batch, steps, seed: 12);
        Assert.Multiple(() =>
        {
            Assert.That(ranks[1].Parameters, Is.EqualTo(ranks[0].Parameters));
            Assert.That(ranks[0].Parameters.Zip(expected, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-5));
            Assert.That(other.Zip(expected, (a, b) => Math.Abs(a - b)).Max(), Is.GreaterThan(1e-3), "other masks (another seed) give other weights");
        });
    }

    [Test]
    public void WithProcessGroup_FewerWindowsThanRanks_TheEmptyRanksStillStep()
    {
        var (expected, expectedLosses) = Train(new ManagedBackend(threads: 1), Network(), LossKind.Mse, batch: 2, steps: 4);
        var ranks = RunRanks(3, group => Train(new ManagedBackend(threads: 1).WithProcessGroup(group), Network(), LossKind.Mse, batch: 2, steps: 4));
        Assert.Multiple(() =>
        {
            Assert.That(ranks.Select(r => r.Parameters), Is.All.EqualTo(ranks[0].Parameters), "rank 0 has no rows and still holds the others' weights");
            Assert.That(ranks[0].Parameters.Zip(expected, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-5));
            Assert.That(ranks[0].Losses.Zip(expectedLosses, (a, b) => Math.Abs(a - b)).Max(), Is.LessThan(1e-6));
        });
    }

    [Test]
    public void SkipTrainingStep_LaterStepsDrawTheMasksOfTheirStepNumber()
    {
        // A rank with no rows in a step still counts it, so its next step draws the masks every other rank draws.
        var options = Network(dropout: 0.5);
        var inputs = Enumerable.Range(0, 32 * Time * Features).Select(i => MathF.Sin(i * 0.3f)).ToArray();
        float[] SecondStep(Action<ManagedNetwork> first)
        {
            var network = new ManagedNetwork(options, seed: 5, threads: 1);
            first(network);
            var outputs = new float[32 * Values];
            network.Forward(inputs, 32, Time, outputs, training: true);
            return outputs;
        }
        var stepped = SecondStep(n => n.Forward(inputs, 32, Time, new float[32 * Values], training: true));
        var skipped = SecondStep(n => n.SkipTrainingStep());
        var first = SecondStep(_ => { });
        Assert.Multiple(() =>
        {
            Assert.That(skipped, Is.EqualTo(stepped), "the masks of step 2");
            Assert.That(first, Is.Not.EqualTo(stepped), "step 1 draws other masks");
        });
    }

    [Test]
    public void WithProcessGroup_SessionsStartFromRankZerosWeights()
    {
        // Different seeds per rank: creating the session is a collective that hands every rank rank 0's weights.
        var weights = RunRanks(3, group =>
        {
            using var session = new ManagedBackend(threads: 1).WithProcessGroup(group).CreateSession(Network(), Setup(LossKind.Mse), seed: (ulong)(7 + group.Rank));
            var parameters = new float[session.Layout.TotalLength];
            session.CopyParametersTo(parameters);
            return parameters;
        });
        using var rankZero = new ManagedBackend(threads: 1).CreateSession(Network(), Setup(LossKind.Mse), seed: 7);
        var expected = new float[rankZero.Layout.TotalLength];
        rankZero.CopyParametersTo(expected);
        Assert.That(weights, Is.All.EqualTo(expected));
    }

    [TestCase(64, 2)]
    [TestCase(65, 2)]
    [TestCase(256, 3)]
    [TestCase(256, 8)]
    [TestCase(1000, 7)]
    [TestCase(40, 3)]
    [TestCase(2, 3)]
    [TestCase(1, 2)]
    public void Share_CoversTheBatchContiguouslyInWholeMicroBatchesWhereItCan(int batch, int world)
    {
        var shares = Enumerable.Range(0, world).Select(r => ManagedSession.Share(batch, r, world)).ToArray();
        int chunks = (batch + ManagedNetwork.MicroBatch - 1) / ManagedNetwork.MicroBatch;
        Assert.Multiple(() =>
        {
            Assert.That(shares[0].Start, Is.Zero);
            Assert.That(shares[^1].End, Is.EqualTo(batch));
            for (int r = 1; r < world; r++) Assert.That(shares[r].Start, Is.EqualTo(shares[r - 1].End), $"rank {r} starts where rank {r - 1} ends");
            if (chunks >= world)
            {
                foreach (var (start, _, first) in shares)
                {
                    Assert.That(start % ManagedNetwork.MicroBatch, Is.Zero, "whole micro-batches");
                    Assert.That(first, Is.EqualTo(start / ManagedNetwork.MicroBatch), "the first micro-batch's index in the whole batch");
                }
                var counts = shares.Select(s => (s.End - s.Start + ManagedNetwork.MicroBatch - 1) / ManagedNetwork.MicroBatch).ToArray();
                Assert.That(counts.Max() - counts.Min(), Is.LessThanOrEqualTo(1), "micro-batches as even as they go");
            }
            else
            {
                Assert.That(shares.Select(s => s.FirstChunk), Is.EqualTo(Enumerable.Range(0, world)), "distinct dropout streams per rank");
                Assert.That(shares.Max(s => s.End - s.Start) - shares.Min(s => s.End - s.Start), Is.LessThanOrEqualTo(1));
            }
        });
    }

    [Test]
    public void WithProcessGroup_RejectsAGroupOutOfRange()
    {
        var hub = new InMemoryGroup.Hub(2);
        Assert.Multiple(() =>
        {
            Assert.That(() => ManagedBackend.Default.WithProcessGroup(null!), Throws.ArgumentNullException);
            Assert.That(() => ManagedBackend.Default.WithProcessGroup(new InMemoryGroup(hub, 2)),
                Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contain("rank (2) must be in [0, 2)"));
            Assert.That(() => ManagedBackend.Default.WithProcessGroup(new InMemoryGroup(new InMemoryGroup.Hub(0), 0)),
                Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contain("world size (0) must be >= 1"));
            var backend = new ManagedBackend(threads: 3).WithProcessGroup(new InMemoryGroup(hub, 1));
            Assert.That(backend.Threads, Is.EqualTo(3), "the thread setting is kept");
            Assert.That(backend.ProcessGroup!.Rank, Is.EqualTo(1));
            Assert.That(ManagedBackend.Default.ProcessGroup, Is.Null);
        });
    }

    [Test]
    public void TrainStep_AFailedRankEndsTheOthersStepWithItsErrorAndKeepsTheWeights()
    {
        // Rank 1 fails in its third all-reduce (the session's broadcast is the first): rank 0's step throws the group's
        // error, and its weights are those before the step.
        var hub = new InMemoryGroup.Hub(2) { FailRankAtCall = (1, 3) };
        float[]? before = null, after = null;
        var error = Assert.Throws<AggregateException>(() => RunRanks(2, group =>
        {
            using var session = new ManagedBackend(threads: 1).WithProcessGroup(group).CreateSession(Network(), Setup(LossKind.Mse), seed: 3);
            var inputs = Enumerable.Range(0, 64 * Time * Features).Select(i => MathF.Sin(i * 0.1f)).ToArray();
            var targets = new float[64 * Values];
            session.TrainStep(inputs, targets, 64, Time);
            var parameters = new float[session.Layout.TotalLength];
            session.CopyParametersTo(parameters);
            if (group.Rank == 0) before = parameters;
            try
            {
                session.TrainStep(inputs, targets, 64, Time);
            }
            finally
            {
                session.CopyParametersTo(parameters);
                if (group.Rank == 0) after = parameters;
            }
            return 0;
        }, hub))!;
        Assert.Multiple(() =>
        {
            Assert.That(error.InnerExceptions.Select(e => e.Message), Has.Some.Contain("rank 0 of 2").And.Contain("another rank failed"));
            Assert.That(after, Is.EqualTo(before), "the failed step changed no weight");
        });
    }

    [TestCase(new[] { 64, 65 }, new[] { Time, Time })]
    [TestCase(new[] { 63, 64, 65 }, new[] { Time, Time, Time })]
    [TestCase(new[] { 64, 64 }, new[] { Time, Time + 1 })]
    public void TrainStep_ProcessesPassingDifferentBatchesAllThrowAndKeepTheirWeights(int[] batches, int[] times)
    {
        // Even the rank whose batch is the group's mean (64 of 63, 64, 65) sees the mismatch, so none goes on alone.
        var outcomes = RunRanks(batches.Length, group =>
        {
            using var session = new ManagedBackend(threads: 1).WithProcessGroup(group).CreateSession(Network(), Setup(LossKind.Mse), seed: 3);
            int batch = batches[group.Rank], time = times[group.Rank];
            var before = new float[session.Layout.TotalLength];
            session.CopyParametersTo(before);
            var inputs = Enumerable.Range(0, batch * time * Features).Select(i => MathF.Sin(i * 0.1f)).ToArray();
            try
            {
                session.TrainStep(inputs, new float[batch * Values], batch, time);
                return "trained";
            }
            catch (InvalidOperationException ex)
            {
                var after = new float[session.Layout.TotalLength];
                session.CopyParametersTo(after);
                return after.SequenceEqual(before) ? ex.Message : "weights changed";
            }
        });
        Assert.That(outcomes, Is.All.Contain("every process must pass the same whole batch").And.All.Contain($"of {batches.Length} passed a batch of"));
    }

    [Test]
    public void Forecaster_FittedThroughTheGroupForecastsAsOneProcess()
    {
        var series = Enumerable.Range(0, 6).Select(s => TimeSeries.FromValues($"s{s}",
            Enumerable.Range(0, 90).Select(t => 10 + s + 3 * Math.Sin(2 * Math.PI * t / 7 + s) + 0.1 * ((t * 37 + s * 11) % 13)).ToArray())).ToArray();
        double[] Forecast(IBackend backend)
        {
            var options = new RnnForecasterOptions(new WindowSpec(14, 7))
            {
                HiddenSize = 12,
                Layers = 2,
                Dropout = 0.2,
                Backend = backend,
                Training = RnnForecasterOptions.DefaultTraining with { Epochs = 3, WindowsPerEpoch = 256, BatchSize = 64, Seed = 4 },
            };
            using var model = new RnnForecaster(options).Fit(series);
            return model.Predict(series).SelectMany(p => p.FirstTarget).ToArray();
        }
        var expected = Forecast(new ManagedBackend(threads: 1));
        var ranks = RunRanks(2, group => Forecast(new ManagedBackend(threads: 1).WithProcessGroup(group)));
        Assert.Multiple(() =>
        {
            Assert.That(ranks[1], Is.EqualTo(ranks[0]), "both ranks end with the same model");
            Assert.That(ranks[0], Has.Length.EqualTo(expected.Length));
            for (int i = 0; i < expected.Length; i++)
                Assert.That(ranks[0][i], Is.EqualTo(expected[i]).Within(1e-4 + 1e-4 * Math.Abs(expected[i])), $"forecast {i}");
        });
    }
}

/// <summary>
/// A process group of threads in one process, for tests: each all-reduce waits for every rank, then every rank sums the
/// ranks' values in rank order (so all get the same bits). A rank can be made to fail at its n-th call, and a failed or
/// aborted group ends the others' calls with an error naming their rank.
/// </summary>
internal sealed class InMemoryGroup(InMemoryGroup.Hub hub, int rank) : IProcessGroup
{
    public int Rank { get; } = rank;

    public int WorldSize => hub.World;

    private int _calls;

    public void AllReduceSum(Span<double> values)
    {
        _calls++;
        if (hub.FailRankAtCall is { } fail && fail.Rank == Rank && fail.Call == _calls)
        {
            hub.Abort();
            throw new IOException($"rank {Rank} of {WorldSize}: planned failure");
        }
        hub.Slots[Rank] = values.ToArray();
        lock (hub.Sent) hub.Sent.Add((Rank, hub.Slots[Rank]!));
        hub.Wait(Rank);
        var sum = new double[values.Length];
        for (int r = 0; r < WorldSize; r++)
            for (int i = 0; i < sum.Length; i++) sum[i] += hub.Slots[r]![i];
        hub.Wait(Rank);
        sum.CopyTo(values);
    }

    /// <summary>What the ranks of one group share.</summary>
    internal sealed class Hub(int world)
    {
        private readonly Barrier _barrier = new(Math.Max(1, world));
        private volatile bool _aborted;

        public int World { get; } = world;

        public double[]?[] Slots { get; } = new double[Math.Max(1, world)][];

        /// <summary>What each rank contributed to each all-reduce, in the order they came.</summary>
        public List<(int Rank, double[] Values)> Sent { get; } = [];

        /// <summary>(rank, n): that rank's n-th all-reduce throws instead of summing.</summary>
        public (int Rank, int Call)? FailRankAtCall { get; init; }

        public void Abort() => _aborted = true;

        public void Wait(int rank)
        {
            // A wait that times out takes its signal back, so the rank can look at the abort flag and wait again.
            while (!_barrier.SignalAndWait(TimeSpan.FromMilliseconds(20)))
                if (_aborted) throw new IOException($"rank {rank} of {World}: all-reduce failed: another rank failed");
        }
    }
}
