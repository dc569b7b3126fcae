using NUnit.Framework;
using SeqForecast.Engine;
using SeqForecast.Training;

namespace SeqForecast.LibTorch.Tests;

public class LibTorchBackendTests
{
    private static readonly TrainingSetup Adam = new(new LossOptions(), new AdamOptions());

    [Test]
    public void Shim_LoadsWithLibTorch()
    {
        // CI builds the shim and installs libtorch (.ci/test); a missing native part fails here, it is never skipped.
        Assert.That(LibTorchBackend.TryLoad(out var reason), Is.True, reason);
        Assert.That(LibTorchBackend.LibTorchVersion.Major, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public void Cuda_OnCpuOnlyLibTorchThrowsClearException()
    {
        if (LibTorchBackend.CudaDeviceCount > 0)
        {
            using var session = LibTorchBackend.Cuda().CreateSession(new NetworkOptions(CellType.Lstm, 1, 4, 1, 1), Adam, 1);
            Assert.That(session.Network.HiddenSize, Is.EqualTo(4), "a GPU is visible: CUDA sessions work");
            return;
        }
        var ex = Assert.Throws<LibTorchUnavailableException>(() => LibTorchBackend.Cuda().CreateSession(new NetworkOptions(CellType.Lstm, 1, 4, 1, 1), Adam, 1));
        Assert.That(ex!.Message, Does.StartWith("CUDA is not available"));
    }

    [Test]
    public void NativeErrors_ComeBackAsExceptionsWithLibTorchsMessage()
    {
        var ex = Assert.Throws<LibTorchException>(() => new LibTorchBackend(new LibTorchDevice("tpu:0")).CreateSession(new NetworkOptions(CellType.Gru, 1, 4, 1, 1), Adam, 1));
        Assert.That(ex!.Message, Does.StartWith("libtorch failed in creating the model on tpu:0:").And.Contain("tpu"));
    }

    [Test]
    public void Dispose_FreesTheModelDeterministically()
    {
        var session = LibTorchBackend.Cpu().CreateSession(new NetworkOptions(CellType.Lstm, 1, 4, 1, 1), Adam, 1);
        session.Dispose();
        Assert.Throws<ObjectDisposedException>(() => session.Predict(new float[5], 1, 5, new float[1]));
    }

    [Test]
    public void Session_RejectsShortBuffersBeforeCallingNative()
    {
        using var session = LibTorchBackend.Cpu().CreateSession(new NetworkOptions(CellType.Lstm, 2, 4, 1, 3), Adam, 1);
        var ex = Assert.Throws<ArgumentException>(() => session.TrainStep(new float[10], new float[3], 1, 10));
        Assert.That(ex!.Message, Does.Contain("batch 1 × time 10 × features 2 needs 20"));
        Assert.Throws<ArgumentException>(() => session.Predict(new float[20], 1, 10, new float[2]));
    }

    [Test]
    public void Parameters_MoveByPyTorchName()
    {
        var network = new NetworkOptions(CellType.Gru, 3, 5, 2, 2);
        using var session = LibTorchBackend.Cpu().CreateSession(network, Adam, 7);
        var expected = new float[ParameterLayout.For(network).TotalLength];
        ParameterInitializer.Initialize(network, 7, expected);
        var actual = new float[expected.Length];
        session.CopyParametersTo(actual);
        Assert.That(actual, Is.EqualTo(expected), "the seed gives the managed engine's initial weights");
    }

    [Test]
    public void Backend_NameCarriesTheDevice()
    {
        Assert.Multiple(() =>
        {
            Assert.That(LibTorchBackend.Cpu().Name, Is.EqualTo("libtorch-cpu"));
            Assert.That(LibTorchBackend.Cuda(1).Name, Is.EqualTo("libtorch-cuda:1"));
            Assert.Throws<ArgumentOutOfRangeException>(() => LibTorchDevice.Cuda(-1));
        });
    }

    [TestCase("adam", 0.0)]
    [TestCase("adam", 0.01)]
    [TestCase("adamw", 0.05)]
    public void MultiTensorAdam_GivesTheSingleTensorBits(string kind, double weightDecay)
    {
        // CUDA sessions update Adam/AdamW with _foreach_ operations; on the CPU those run tensor by tensor, so the same
        // arithmetic must give torch::optim's bits exactly, through learning-rate changes too.
        var network = new NetworkOptions(CellType.Gru, 2, 12, 2, 3);
        OptimizerOptions optimizer = kind == "adamw"
            ? new AdamWOptions { LearningRate = 0.01, WeightDecay = weightDecay }
            : new AdamOptions { LearningRate = 0.01, WeightDecay = weightDecay };
        var setup = new TrainingSetup(new LossOptions(), optimizer) { GradientClipNorm = 0.5 };
        using var single = new LibTorchBackend(LibTorchDevice.Cpu, 1) { MultiTensorAdam = false }.CreateSession(network, setup, 4);
        using var multi = new LibTorchBackend(LibTorchDevice.Cpu, 1) { MultiTensorAdam = true }.CreateSession(network, setup, 4);
        var random = new Random(6);
        var x = Enumerable.Range(0, 6 * 9 * 2).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();
        var y = Enumerable.Range(0, 6 * 3).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();
        var before = new float[single.Layout.TotalLength];
        single.CopyParametersTo(before);
        for (int step = 0; step < 12; step++)
        {
            if (step == 6) single.LearningRate = multi.LearningRate = 0.003;
            Assert.That(multi.TrainStep(x, y, 6, 9), Is.EqualTo(single.TrainStep(x, y, 6, 9)), $"loss at step {step}");
        }
        var a = new float[before.Length];
        var b = new float[before.Length];
        single.CopyParametersTo(a);
        multi.CopyParametersTo(b);
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.Not.EqualTo(before), "the steps ran");
            Assert.That(b, Is.EqualTo(a), "the same bits as torch::optim");
        });
    }
    [Test]
    public void Dropout_EachSessionDrawsItsOwnMasksWhateverIsTrainedInBetween()
    {
        // libtorch's generator is process-wide: each session swaps its own state in for its training passes, so two
        // sessions trained step by step in turn end as each does alone.
        var network = new NetworkOptions(CellType.Lstm, 2, 8, 2, 3) { Dropout = 0.4 };
        var random = new Random(3);
        var x = Enumerable.Range(0, 5 * 7 * 2).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();
        var y = Enumerable.Range(0, 5 * 3).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();
        float[] Alone(NetworkOptions options)
        {
            using var session = LibTorchBackend.Cpu(1).CreateSession(options, Adam, 4);
            for (int step = 0; step < 6; step++) session.TrainStep(x, y, 5, 7);
            return Parameters(session);
        }
        var alone = Alone(network);
        using var first = LibTorchBackend.Cpu(1).CreateSession(network, Adam, 4);
        using var second = LibTorchBackend.Cpu(1).CreateSession(network, Adam, 4);
        for (int step = 0; step < 6; step++)
        {
            first.TrainStep(x, y, 5, 7);
            second.TrainStep(x, y, 5, 7);
        }
        Assert.Multiple(() =>
        {
            Assert.That(Parameters(first), Is.EqualTo(alone), "the first session");
            Assert.That(Parameters(second), Is.EqualTo(alone), "the second session");
            Assert.That(Alone(network with { Dropout = 0 }), Is.Not.EqualTo(alone), "the masks are in play");
        });
    }

    private static float[] Parameters(INetworkSession session)
    {
        var values = new float[session.Layout.TotalLength];
        session.CopyParametersTo(values);
        return values;
    }
}
