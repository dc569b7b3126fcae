using SeqForecast.Engine.Kernels;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Training;

namespace SeqForecast.Tests.Engine.Managed;

public class ManagedNetworkTests
{
    [TestCase(CellType.Lstm, 1)]
    [TestCase(CellType.Lstm, 3)]
    [TestCase(CellType.Gru, 2)]
    public void Backward_WholeNetworkMatchesFiniteDifferences(CellType cell, int layers)
    {
        var network = new ManagedNetwork(new NetworkOptions(cell, 3, 6, layers, 4), seed: 3, threads: 1);
        int batch = 2, time = 5;
        var inputs = GradientCheck.Random(batch * time * 3, 12);
        var targets = GradientCheck.Random(batch * 4, 13);
        var outputs = new float[batch * 4];
        var dOutputs = new float[batch * 4];
        var loss = new LossOptions(LossKind.Mse);
        var parameters = network.Parameters.ToArray();

        double Loss()
        {
            network.SetParameters(parameters);
            network.Forward(inputs, batch, time, outputs, training: true);
            return LossFunctions.Compute(loss, outputs, targets, Span<float>.Empty);
        }

        Loss();
        LossFunctions.Compute(loss, outputs, targets, dOutputs);
        network.ZeroGradients();
        network.Backward(dOutputs);
        var gradients = network.Gradients.ToArray();
        GradientCheck.AssertMatches(parameters, gradients, Loss, "parameters");
    }

    [Test]
    public void Parameters_InitialisedUniformWithinOneOverSqrtHidden()
    {
        var network = new ManagedNetwork(new NetworkOptions(CellType.Lstm, 1, 64, 2, 7), seed: 1);
        var values = network.Parameters.ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(values, Is.All.InRange(-0.125f, 0.125f));
            Assert.That(values.Min(), Is.LessThan(-0.12f));
            Assert.That(values.Max(), Is.GreaterThan(0.12f));
            Assert.That(values.Average(), Is.EqualTo(0).Within(0.005));
        });
    }

    [TestCase(CellType.Lstm, 2, 1)]
    [TestCase(CellType.Gru, 2, 3)]
    public void Forward_NarrowTrainingBatchesGiveTheSameBitsAsInference(CellType cell, int layers, int features)
    {
        // Inference runs 2..Gemm.NarrowColumns windows one at a time; a training pass (no dropout) runs them together
        // through the layers' narrow path. Both must give every window the same bits.
        var options = new NetworkOptions(cell, features, 24, layers, 2);
        var network = new ManagedNetwork(options, seed: 11, threads: 1);
        int steps = 6, length = steps * features;
        for (int count = 2; count <= Gemm.NarrowColumns; count++)
        {
            var inputs = GradientCheck.Random(count * length, 20 + (ulong)count);
            var inference = new float[count * 2];
            var training = new float[count * 2];
            network.Forward(inputs, count, steps, inference, training: false);
            network.Forward(inputs, count, steps, training, training: true);
            Assert.That(training, Is.EqualTo(inference), $"{count} windows");
        }
    }

    [TestCase(CellType.Lstm, 1, 3)]
    [TestCase(CellType.Lstm, 2, 1)]
    [TestCase(CellType.Gru, 3, 2)]
    [TestCase(CellType.Gru, 2, 1)]
    public void Forward_SmallBatchesGiveTheSameBitsAsWideOnes(CellType cell, int layers, int features)
    {
        // Batches of up to Gemm.NarrowColumns run matrix-vector kernels; windows 33..36 of a batch of 40 fall in a
        // narrow last micro-batch; all must equal the windows' outputs inside a wide micro-batch.
        var options = new NetworkOptions(cell, features, 24, layers, 2);
        var network = new ManagedNetwork(options, seed: 9, threads: 1);
        int steps = 7, length = steps * features;
        var inputs = GradientCheck.Random(40 * length, 15);
        var wide = new float[40 * 2];
        network.Forward(inputs, 40, steps, wide, training: false);
        foreach (var (start, count) in new[] { (0, 1), (5, 3), (20, 4), (3, 17) })
        {
            var outputs = new float[count * 2];
            network.Forward(inputs.AsSpan(start * length, count * length), count, steps, outputs, training: false);
            Assert.That(outputs, Is.EqualTo(wide.AsSpan(start * 2, count * 2).ToArray()), $"windows {start}..{start + count - 1}");
        }
        var oneByOne = new float[2];
        for (int w = 32; w < 40; w++)
        {
            network.Forward(inputs.AsSpan(w * length, length), 1, steps, oneByOne, training: false);
            Assert.That(oneByOne, Is.EqualTo(wide.AsSpan(w * 2, 2).ToArray()), $"window {w} alone");
        }
    }

    [Test]
    public void Forward_IsBitIdenticalForOneOrTwoThreads()
    {
        var options = new NetworkOptions(CellType.Gru, 2, 40, 2, 3);
        var one = new ManagedNetwork(options, seed: 5, threads: 1);
        var two = new ManagedNetwork(options, seed: 5, threads: 2);
        var inputs = GradientCheck.Random(64 * 10 * 2, 14);
        var a = new float[64 * 3];
        var b = new float[64 * 3];
        one.Forward(inputs, 64, 10, a, training: false);
        two.Forward(inputs, 64, 10, b, training: false);
        Assert.That(b, Is.EqualTo(a));
    }

    // Teams as a 2-core machine and a many-core machine run them, on a pool of 16 threads of this test's own (the
    // shared pool has one thread per core, two in CI): micro-batches × team sizes of 1 to 8, both step splits (hidden a
    // multiple of the kernels' MR or not), uneven last micro-batches and uneven unit shares, with dropout and the
    // optimizer on the pool.
    [TestCase(CellType.Lstm, 48, 32, new[] { 2 })]                    // two threads: one micro-batch on a team of two
    [TestCase(CellType.Lstm, 48, 20, new[] { 2 })]
    [TestCase(CellType.Gru, 48, 40, new[] { 2 })]                     // two micro-batches: one thread each
    [TestCase(CellType.Lstm, 64, 64, new[] { 2, 3, 4, 6, 8, 16 })]    // two micro-batches: teams of 2, 3 and 4
    [TestCase(CellType.Gru, 64, 64, new[] { 4, 6, 16 })]              // 192 gate rows: teams of at most 3
    [TestCase(CellType.Lstm, 128, 32, new[] { 2, 5, 8 })]             // one micro-batch: teams of 2, 5 and 8
    [TestCase(CellType.Lstm, 72, 45, new[] { 4, 7, 8 })]              // 32 + 13 windows; 9 or 12 row blocks of units
    [TestCase(CellType.Gru, 100, 20, new[] { 3, 5 })]                 // H not a multiple of MR: two syncs a step
    [TestCase(CellType.Lstm, 256, 256, new[] { 16 })]                 // the large config on 16 threads: 8 teams of 2
    public void TrainingSteps_ManyThreadTeamsGiveTheSameBitsAsOneThread(CellType cell, int hidden, int batch, int[] threadCounts)
    {
        const int steps = 6, features = 2, outputs = 3, trainingSteps = 2;
        var options = new NetworkOptions(cell, features, hidden, 2, outputs) { Dropout = 0.3 };
        int chunks = (batch + ManagedNetwork.MicroBatch - 1) / ManagedNetwork.MicroBatch;
        var inputs = GradientCheck.Random(batch * steps * features, 33);
        var dOutputs = GradientCheck.Random(batch * outputs, 34);
        var optimizer = new AdamOptions { LearningRate = 0.01 };

        (float[] Outputs, float[] Gradients, float[] Parameters, float[] Predicted) Run(int threads)
        {
            var network = new ManagedNetwork(options, seed: 11, threads: threads, pool: ManyThreads);
            var adam = optimizer.Create(network.Layout.TotalLength);
            var trained = new float[batch * outputs];
            for (int step = 0; step < trainingSteps; step++)
            {
                network.ZeroGradients();
                network.Forward(inputs, batch, steps, trained, training: true);
                network.Backward(dOutputs);
                network.ApplyOptimizer(adam, optimizer.LearningRate);
            }
            network.ZeroGradients();
            network.Forward(inputs, batch, steps, trained, training: true);
            network.Backward(dOutputs);
            var predicted = new float[batch * outputs];
            network.Forward(inputs, batch, steps, predicted, training: false);
            return (trained, network.Gradients.ToArray(), network.Parameters.ToArray(), predicted);
        }

        var one = Run(1);
        Assert.That(one.Gradients.Any(g => g != 0), Is.True, "the reference pass has gradients");
        Assert.Multiple(() =>
        {
            foreach (int threads in threadCounts)
            {
                int team = ManagedNetwork.TeamSizeFor(threads, chunks, batch, options);
                var many = Run(threads);
                string label = $"{threads} threads ({chunks} micro-batches, teams of {team})";
                Assert.That(many.Outputs, Is.EqualTo(one.Outputs), $"{label}: training outputs");
                Assert.That(many.Gradients, Is.EqualTo(one.Gradients), $"{label}: gradients");
                Assert.That(many.Parameters, Is.EqualTo(one.Parameters), $"{label}: parameters after {trainingSteps} Adam steps");
                Assert.That(many.Predicted, Is.EqualTo(one.Predicted), $"{label}: predictions");
            }
        });
    }

    [Test]
    public void TeamSizes_OfTheManyThreadCasesAreThoseTheyNameAndTheTeamsRun()
    {
        // The cases above are only worth their names if those thread counts really form those teams.
        var lstm64 = new NetworkOptions(CellType.Lstm, 2, 64, 2, 3);
        var gru64 = new NetworkOptions(CellType.Gru, 2, 64, 2, 3);
        var lstm128 = new NetworkOptions(CellType.Lstm, 2, 128, 2, 3);
        var lstm256 = new NetworkOptions(CellType.Lstm, 2, 256, 2, 3);
        var lstm48 = new NetworkOptions(CellType.Lstm, 2, 48, 2, 3);
        var gru48 = new NetworkOptions(CellType.Gru, 2, 48, 2, 3);
        Assert.Multiple(() =>
        {
            Assert.That(new[] { 4, 6, 8, 16 }.Select(t => ManagedNetwork.TeamSizeFor(t, 2, 64, lstm64)), Is.EqualTo(new[] { 2, 3, 4, 4 }));
            Assert.That(ManagedNetwork.TeamSizeFor(16, 2, 64, gru64), Is.EqualTo(3));
            Assert.That(new[] { 2, 5, 8 }.Select(t => ManagedNetwork.TeamSizeFor(t, 1, 32, lstm128)), Is.EqualTo(new[] { 2, 5, 8 }));
            Assert.That(ManagedNetwork.TeamSizeFor(16, 8, 256, lstm256), Is.EqualTo(2));
            Assert.That(ManagedNetwork.TeamSizeFor(2, 1, 32, lstm48), Is.EqualTo(2));
            Assert.That(ManagedNetwork.TeamSizeFor(2, 1, 20, lstm48), Is.EqualTo(2));
            Assert.That(ManagedNetwork.TeamSizeFor(2, 2, 40, gru48), Is.EqualTo(1));
            Assert.That(ManyThreads.ThreadCount, Is.EqualTo(16));
        });
        // A network on a pool runs its passes there: a 16-thread training pass of the large case starts 15 workers.
        using var pool = new WorkerPool(16);
        var network = new ManagedNetwork(lstm256, seed: 1, threads: 16, pool: pool);
        Assert.That(network.Threads, Is.EqualTo(16));
        Assert.That(pool.StartedThreads, Is.EqualTo(0), "before the first pass");
        network.Forward(GradientCheck.Random(256 * 3 * 2, 35), 256, 3, new float[256 * 3], training: true);
        Assert.That(pool.StartedThreads, Is.EqualTo(15), "after a 16-thread pass");
    }

    private WorkerPool ManyThreads => _manyThreads ??= new WorkerPool(16);

    private WorkerPool? _manyThreads;

    [OneTimeTearDown]
    public void DisposeManyThreads() => _manyThreads?.Dispose();

    [Test]
    public void Backward_WithoutTrainingForwardIsInvalidOperation()
    {
        var network = new ManagedNetwork(new NetworkOptions(CellType.Lstm, 1, 4, 1, 1));
        network.Forward(new float[5], 1, 5, new float[1], training: false);
        var ex = Assert.Throws<InvalidOperationException>(() => network.Backward(new float[1]));
        Assert.That(ex!.Message, Does.Contain("training: true"));
    }

    [Test]
    public void Forward_RejectsShortInputs()
    {
        var network = new ManagedNetwork(new NetworkOptions(CellType.Lstm, 2, 4, 1, 1));
        var ex = Assert.Throws<ArgumentException>(() => network.Forward(new float[5], 1, 5, new float[1], training: false));
        Assert.That(ex!.Message, Does.Contain("batch 1 × time 5 × features 2 needs 10"));
    }

    [Test]
    public void SetParameter_RejectsWrongShapeAndName()
    {
        var network = new ManagedNetwork(new NetworkOptions(CellType.Gru, 1, 4, 1, 1));
        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<ArgumentException>(() => network.SetParameter("rnn.weight_ih_l0", new float[3]))!.Message, Does.Contain("shape [12, 1]"));
            Assert.That(Assert.Throws<ArgumentException>(() => network.SetParameter("rnn.weight_ih_l9", new float[3]))!.Message, Does.Contain("no parameter is named 'rnn.weight_ih_l9'"));
        });
    }

    [TestCase(0, 1, 1, 1)]
    [TestCase(1, 0, 1, 1)]
    [TestCase(1, 1, 0, 1)]
    [TestCase(1, 1, 1, 0)]
    public void Constructor_RejectsBadShape(int input, int hidden, int layers, int output)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ManagedNetwork(new NetworkOptions(CellType.Lstm, input, hidden, layers, output)));
    }

    [TestCase(-0.1)]
    [TestCase(1.0)]
    [TestCase(double.NaN)]
    public void Constructor_RejectsBadDropout(double dropout)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new ManagedNetwork(new NetworkOptions(CellType.Lstm, 1, 2, 2, 1) { Dropout = dropout }));
        Assert.That(ex!.Message, Does.Contain("must be in [0, 1)"));
    }
}
