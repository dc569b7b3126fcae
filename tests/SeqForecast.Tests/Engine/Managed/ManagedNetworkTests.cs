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

    [TestCase(CellType.Lstm, 32)]
    [TestCase(CellType.Gru, 40)]
    [TestCase(CellType.Lstm, 20)]
    public void TrainingPass_TeamOfThreadsGivesTheSameBitsAsOneThread(CellType cell, int batch)
    {
        // One or two micro-batches on two threads: each micro-batch runs on a team of two (the network's hidden size
        // gives 128+ gate rows) for batch 32 and 20, one thread each for batch 40. Outputs and gradients must be the bits
        // of a single thread, with dropout on.
        Assume.That(SeqForecast.Engine.Kernels.WorkerPool.Shared.ThreadCount, Is.GreaterThanOrEqualTo(2), "needs a worker pool of two threads");
        var options = new NetworkOptions(cell, 2, 48, 2, 3) { Dropout = 0.3 };
        int chunks = (batch + ManagedNetwork.MicroBatch - 1) / ManagedNetwork.MicroBatch;
        Assert.That(ManagedNetwork.TeamSizeFor(2, chunks, batch, options), Is.EqualTo(chunks == 1 ? 2 : 1));
        int steps = 9;
        var inputs = GradientCheck.Random(batch * steps * 2, 31);
        var dOutputs = GradientCheck.Random(batch * 3, 32);
        (float[] Outputs, float[] Gradients) Run(int threads)
        {
            var network = new ManagedNetwork(options, seed: 7, threads: threads);
            var outputs = new float[batch * 3];
            for (int step = 0; step < 2; step++)
            {
                network.Forward(inputs, batch, steps, outputs, training: true);
                network.Backward(dOutputs);
                network.MarkParametersChanged();
            }
            return (outputs, network.Gradients.ToArray());
        }
        var one = Run(1);
        var two = Run(2);
        Assert.Multiple(() =>
        {
            Assert.That(two.Outputs, Is.EqualTo(one.Outputs), "outputs");
            Assert.That(two.Gradients, Is.EqualTo(one.Gradients), "gradients");
        });
    }

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
