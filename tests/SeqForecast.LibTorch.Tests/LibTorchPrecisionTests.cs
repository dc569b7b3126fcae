using NUnit.Framework;
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Forecasting;
using SeqForecast.Randomness;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.LibTorch.Tests;

/// <summary>
/// The precision modes on the CPU (bfloat16 autocast in mixed precision; TF32 is CUDA only): mixed precision really
/// lowers precision yet trains like float32, its loss scaling cancels exactly, a step with overflowing gradients is
/// skipped and lowers the scale, the scale grows after finite steps, and bad options fail clearly. The CUDA side
/// (float16, TF32) is checked by benchmarks/SeqForecast.DeviceCheck on a GPU.
/// </summary>
public class LibTorchPrecisionTests
{
    private const int Batch = 8, Time = 10, Inputs = 2, Outputs = 3;
    private static readonly NetworkOptions Network = new(CellType.Lstm, Inputs, 16, 2, Outputs);
    private static readonly TrainingSetup Adam = new(new LossOptions(), new AdamOptions { LearningRate = 0.01 });

    private static (float[] X, float[] Y) Batches(ulong seed)
    {
        var random = new DeterministicRandom(seed);
        var x = Enumerable.Range(0, Batch * Time * Inputs).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var y = Enumerable.Range(0, Batch * Outputs).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        return (x, y);
    }

    private static LibTorchBackend Mixed(double initialScale = 65536, int growthInterval = 2000) =>
        LibTorchBackend.Cpu(1).WithPrecision(LibTorchPrecision.Mixed, new LossScaling { InitialScale = initialScale, GrowthInterval = growthInterval });

    private static float[] Weights(INetworkSession session)
    {
        var weights = new float[session.Layout.TotalLength];
        session.CopyParametersTo(weights);
        return weights;
    }

    private static float[] Train(INetworkSession session, int steps, TrainingSetup? setup = null, LossContext context = default)
    {
        var (x, y) = Batches(5);
        for (int step = 0; step < steps; step++) session.TrainStep(x, y, Batch, Time, context);
        return Weights(session);
    }

    [Test]
    public void Mixed_LowersPrecisionButStaysCloseToFloat32()
    {
        using var full = LibTorchBackend.Cpu(1).CreateSession(Network, Adam, 3);
        using var mixed = Mixed().CreateSession(Network, Adam, 3);
        var (x, _) = Batches(5);
        var a = new float[Batch * Outputs];
        var b = new float[a.Length];
        full.Predict(x, Batch, Time, a);
        mixed.Predict(x, Batch, Time, b);
        double difference = a.Zip(b, (p, q) => Math.Abs(p - q)).Max();
        Assert.Multiple(() =>
        {
            Assert.That(difference, Is.GreaterThan(0), "the matrix products ran in bfloat16, so the outputs are not float32's bits");
            Assert.That(difference, Is.LessThan(2e-2), "bfloat16 keeps 8 bits of mantissa: close to float32");
        });
        double fullLoss = 0, mixedLoss = 0;
        var (tx, ty) = Batches(5);
        for (int step = 0; step < 40; step++)
        {
            fullLoss = full.TrainStep(tx, ty, Batch, Time);
            mixedLoss = mixed.TrainStep(tx, ty, Batch, Time);
        }
        Assert.That(mixedLoss, Is.EqualTo(fullLoss).Within(0.05 * fullLoss), "after 40 steps mixed precision has learned as much as float32");
        Assert.That(((LibTorchSession)mixed).LossScale, Is.EqualTo(new LossScaleState(65536, 0)), "no overflow at the default scale");
    }

    [TestCase(LossKind.Mse)]
    [TestCase(LossKind.Pinball)]
    public void Mixed_LossScalingCancelsExactly(LossKind kind)
    {
        // Powers of two scale and unscale without rounding, so the scale must not show in the weights at all; the pinball
        // loss takes the other path (managed loss, the outputs' gradient scaled before the native backward). SGD, because
        // Adam would hide gradients left scaled (its step is nearly invariant to the gradients' scale).
        var loss = kind == LossKind.Pinball ? LossOptions.Pinball(0.5) : new LossOptions();
        var setup = new TrainingSetup(loss, new SgdOptions { LearningRate = 0.05, Momentum = 0.9 });
        using var one = Mixed(initialScale: 1).CreateSession(Network, setup, 3);
        using var large = Mixed(initialScale: 1024).CreateSession(Network, setup, 3);
        var before = Weights(one);
        var a = Train(one, 5, setup);
        var b = Train(large, 5, setup);
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.Not.EqualTo(before), "the steps ran");
            Assert.That(b, Is.EqualTo(a), "scale 1024 gives scale 1's bits");
        });
    }

    [Test]
    public void Mixed_OverflowSkipsTheStepAndBacksOff()
    {
        var setup = Adam with { GradientClipNorm = 1 };
        using var session = (LibTorchSession)Mixed(initialScale: 1e300).CreateSession(Network, setup, 3);
        var before = Weights(session);
        var (x, y) = Batches(5);
        double loss = 0;
        for (int step = 0; step < 3; step++) loss = session.TrainStep(x, y, Batch, Time);
        Assert.Multiple(() =>
        {
            Assert.That(Weights(session), Is.EqualTo(before), "the scaled gradients overflowed: no step was taken");
            Assert.That(session.LossScale.SkippedSteps, Is.EqualTo(3));
            Assert.That(session.LossScale.Scale, Is.EqualTo(1e300 / 8).Within(1e286), "halved after each skipped step");
            Assert.That(double.IsFinite(loss), Is.True, "the reported loss is the unscaled one");
        });
    }

    [Test]
    public void Mixed_ScaleGrowsAfterFiniteSteps()
    {
        using var session = (LibTorchSession)Mixed(initialScale: 4, growthInterval: 2).CreateSession(Network, Adam, 3);
        Train(session, 5);
        Assert.That(session.LossScale, Is.EqualTo(new LossScaleState(16, 0)), "doubled after steps 2 and 4");
    }

    [Test]
    public void Float32_ReportsNoScaling()
    {
        using var session = (LibTorchSession)LibTorchBackend.Cpu(1).CreateSession(Network, Adam, 3);
        Train(session, 2);
        Assert.That(session.LossScale, Is.EqualTo(new LossScaleState(1, 0)));
    }

    [Test]
    public void Mixed_ForecasterTrainsSavesAndServesOnTheManagedEngine()
    {
        var random = new DeterministicRandom(2);
        var values = Enumerable.Range(0, 120).Select(t => 20 + 5 * Math.Sin(2 * Math.PI * t / 7) + random.NextDouble()).ToArray();
        var series = new[] { new TimeSeries("s", ["sales"], [values], Enumerable.Range(0, values.Length).Select(d => new DateTime(2024, 1, 1).AddDays(d)).ToArray()) };
        var options = new RnnForecasterOptions(new WindowSpec(14, 7)) { HiddenSize = 12, Backend = Mixed(), Training = new TrainerOptions { Epochs = 3, BatchSize = 16, Seed = 3 } };
        using var trained = new RnnForecaster(options).Fit(series);
        using var stream = new MemoryStream();
        trained.Save(stream);
        stream.Position = 0;
        using var managed = FittedRnnForecaster.Load(stream);
        var a = trained.Predict(series)[0].FirstTarget;
        var b = managed.Predict(series)[0].FirstTarget;
        Assert.Multiple(() =>
        {
            Assert.That(managed.Session, Is.InstanceOf<ManagedSession>());
            Assert.That(b, Is.EqualTo(a).Within(0.02 * a.Max(Math.Abs)), "float32 weights: the managed engine serves them within bfloat16's rounding");
            Assert.That(trained.Training!.History[^1].TrainLoss, Is.LessThan(trained.Training.History[0].TrainLoss), "it learned");
        });
    }

    [Test]
    public void PrecisionAndDistribution_Compose()
    {
        var group = new DistributedOptions(0, 2) { MasterPort = 29777 };
        var scaling = new LossScaling { InitialScale = 8 };
        var a = LibTorchBackend.Cpu(2).WithPrecision(LibTorchPrecision.Mixed, scaling).WithDistributed(group);
        var b = LibTorchBackend.Cpu(2).WithDistributed(group).WithPrecision(LibTorchPrecision.Mixed, scaling);
        Assert.Multiple(() =>
        {
            foreach (var backend in new[] { a, b })
            {
                Assert.That(backend.Precision, Is.EqualTo(LibTorchPrecision.Mixed));
                Assert.That(backend.LossScaling, Is.EqualTo(scaling));
                Assert.That(backend.Distributed, Is.EqualTo(group));
                Assert.That(backend.Threads, Is.EqualTo(2));
            }
        });
    }

    [Test]
    public void BadPrecisionOptions_FailNamingTheRule()
    {
        Assert.Multiple(() =>
        {
            var tf32 = Assert.Throws<ArgumentOutOfRangeException>(() => LibTorchBackend.Cpu().WithPrecision(LibTorchPrecision.Tf32));
            Assert.That(tf32!.ParamName, Is.EqualTo("precision"));
            Assert.That(tf32.Message, Does.Contain("CUDA tensor cores only"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => LibTorchBackend.Cpu().WithPrecision((LibTorchPrecision)7))!.Message, Does.Contain("precision (7)"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => LibTorchBackend.Cpu().WithPrecision(LibTorchPrecision.Mixed, new LossScaling { InitialScale = 0 }))!.ParamName, Is.EqualTo("InitialScale"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => LibTorchBackend.Cpu().WithPrecision(LibTorchPrecision.Mixed, new LossScaling { GrowthFactor = 1 }))!.Message, Does.Contain("growth factor (1) must be finite and > 1"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => LibTorchBackend.Cpu().WithPrecision(LibTorchPrecision.Mixed, new LossScaling { BackoffFactor = 1 }))!.ParamName, Is.EqualTo("BackoffFactor"));
            Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => LibTorchBackend.Cpu().WithPrecision(LibTorchPrecision.Mixed, new LossScaling { GrowthInterval = 0 }))!.ParamName, Is.EqualTo("GrowthInterval"));
            Assert.That(Mixed().Name, Is.EqualTo("libtorch-cpu-mixed"));
            Assert.That(LibTorchBackend.Cuda().WithPrecision(LibTorchPrecision.Tf32).Precision, Is.EqualTo(LibTorchPrecision.Tf32), "TF32 is accepted for a CUDA device");
        });
    }
}
