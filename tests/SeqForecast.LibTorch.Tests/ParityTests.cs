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
/// The managed engine and libtorch on the CPU, from the same initial weights and batches. Both compute in float32 with
/// different kernels (summation order, fused multiply-adds, exp/tanh implementations), so values agree to rounding:
/// outputs and losses within 1e-5 + 1e-4 relative; gradients within 1e-5 + 1e-3 relative (recovered from one SGD step
/// with learning rate 1, which adds the rounding of the weights themselves); weights after 5 Adam steps within 1e-4.
/// </summary>
public class ParityTests
{
    public static IEnumerable<TestCaseData> Shapes()
    {
        foreach (var cell in new[] { CellType.Lstm, CellType.Gru })
            foreach (var layers in new[] { 1, 2, 3 })
                foreach (var features in new[] { 1, 3 })
                    yield return new TestCaseData(cell, layers, features).SetName($"{{m}}({cell},{layers} layers,{features} features)");
    }

    private const int Batch = 6, Time = 7, Hidden = 9, Outputs = 4;

    private static (float[] Inputs, float[] Targets) Data(int features, ulong seed)
    {
        var random = new DeterministicRandom(seed);
        return (Enumerable.Range(0, Batch * Time * features).Select(_ => random.NextSingle() * 2 - 1).ToArray(),
                Enumerable.Range(0, Batch * Outputs).Select(_ => random.NextSingle() * 2 - 1).ToArray());
    }

    private static (INetworkSession Managed, INetworkSession Torch) Sessions(CellType cell, int layers, int features, TrainingSetup setup)
    {
        var network = new NetworkOptions(cell, features, Hidden, layers, Outputs);
        return (new ManagedBackend(1).CreateSession(network, setup, 11), LibTorchBackend.Cpu(1).CreateSession(network, setup, 11));
    }

    private static float[] Parameters(INetworkSession session)
    {
        var values = new float[session.Layout.TotalLength];
        session.CopyParametersTo(values);
        return values;
    }

    [TestCaseSource(nameof(Shapes))]
    public void OutputsAndLossesAgree(CellType cell, int layers, int features)
    {
        var (managed, torch) = Sessions(cell, layers, features, new TrainingSetup(new LossOptions(), new AdamOptions()));
        using var _ = managed;
        using var __ = torch;
        var (inputs, targets) = Data(features, 1);
        var a = new float[Batch * Outputs];
        var b = new float[Batch * Outputs];
        managed.Predict(inputs, Batch, Time, a);
        torch.Predict(inputs, Batch, Time, b);
        double lossA = managed.EvaluateLoss(inputs, targets, Batch, Time);
        double lossB = torch.EvaluateLoss(inputs, targets, Batch, Time);
        Assert.Multiple(() =>
        {
            for (int i = 0; i < a.Length; i++) Assert.That(b[i], Is.EqualTo(a[i]).Within(1e-5 + 1e-4 * Math.Abs(a[i])), $"output {i}");
            Assert.That(lossB, Is.EqualTo(lossA).Within(1e-5 + 1e-4 * lossA), "loss");
        });
    }

    [TestCaseSource(nameof(Shapes))]
    public void GradientsAgree(CellType cell, int layers, int features)
    {
        // One SGD step with learning rate 1 leaves w − g, so g = w_before − w_after on both backends.
        var (managed, torch) = Sessions(cell, layers, features, new TrainingSetup(new LossOptions(), new SgdOptions { LearningRate = 1 }));
        using var _ = managed;
        using var __ = torch;
        var (inputs, targets) = Data(features, 2);
        var before = Parameters(managed);
        managed.TrainStep(inputs, targets, Batch, Time);
        torch.TrainStep(inputs, targets, Batch, Time);
        var afterA = Parameters(managed);
        var afterB = Parameters(torch);
        Assert.Multiple(() =>
        {
            foreach (var p in managed.Layout.Parameters)
                for (int i = p.Offset; i < p.Offset + p.Length; i++)
                {
                    double gA = before[i] - afterA[i], gB = before[i] - afterB[i];
                    Assert.That(gB, Is.EqualTo(gA).Within(1e-5 + 1e-3 * Math.Abs(gA)), $"{p.Name}[{i - p.Offset}]");
                }
        });
    }

    [TestCaseSource(nameof(Shapes))]
    public void WeightsAfterFiveAdamStepsAgree(CellType cell, int layers, int features)
    {
        var (managed, torch) = Sessions(cell, layers, features, new TrainingSetup(new LossOptions(LossKind.Huber), new AdamOptions { LearningRate = 0.01 }) { GradientClipNorm = 0.5 });
        using var _ = managed;
        using var __ = torch;
        var (inputs, targets) = Data(features, 3);
        for (int step = 0; step < 5; step++)
        {
            double a = managed.TrainStep(inputs, targets, Batch, Time);
            double b = torch.TrainStep(inputs, targets, Batch, Time);
            Assert.That(b, Is.EqualTo(a).Within(1e-5 + 1e-4 * a), $"loss at step {step}");
        }
        var wA = Parameters(managed);
        var wB = Parameters(torch);
        for (int i = 0; i < wA.Length; i++) Assert.That(wB[i], Is.EqualTo(wA[i]).Within(1e-4), $"weight {i}");
    }

    [TestCase(CellType.Lstm)]
    [TestCase(CellType.Gru)]
    public void DropoutStatisticsAgree(CellType cell)
    {
        // Dropout masks come from different random streams, so compare distributions: the training-mode loss over many
        // steps with a learning rate too small to move the weights.
        var setup = new TrainingSetup(new LossOptions(), new SgdOptions { LearningRate = 1e-30 });
        var network = new NetworkOptions(cell, 1, 32, 2, Outputs) { Dropout = 0.5 };
        using var managed = new ManagedBackend(1).CreateSession(network, setup, 5);
        using var torch = LibTorchBackend.Cpu(1).CreateSession(network, setup, 5);
        var (inputs, targets) = Data(1, 4);
        double evaluation = managed.EvaluateLoss(inputs, targets, Batch, Time);
        var lossA = Enumerable.Range(0, 400).Select(_ => managed.TrainStep(inputs, targets, Batch, Time)).ToArray();
        var lossB = Enumerable.Range(0, 400).Select(_ => torch.TrainStep(inputs, targets, Batch, Time)).ToArray();
        double meanA = lossA.Average(), meanB = lossB.Average();
        double sdA = Math.Sqrt(lossA.Select(v => (v - meanA) * (v - meanA)).Average());
        double sdB = Math.Sqrt(lossB.Select(v => (v - meanB) * (v - meanB)).Average());
        double standardError = Math.Sqrt((sdA * sdA + sdB * sdB) / 400);
        Assert.Multiple(() =>
        {
            Assert.That(sdA, Is.GreaterThan(0), "dropout makes the managed training loss vary");
            Assert.That(sdB, Is.GreaterThan(0), "dropout makes the libtorch training loss vary");
            Assert.That(meanB, Is.EqualTo(meanA).Within(5 * standardError), "mean training loss under dropout");
            Assert.That(sdB, Is.EqualTo(sdA).Within(0.25 * sdA), "spread of the training loss under dropout");
            Assert.That(torch.EvaluateLoss(inputs, targets, Batch, Time), Is.EqualTo(evaluation).Within(1e-5 + 1e-4 * evaluation), "inference has no dropout");
        });
    }

    [Test]
    public void ModelTrainedOnLibTorchIsServedByTheManagedEngine()
    {
        var series = Enumerable.Range(0, 3).Select(s => TimeSeries.FromValues($"s{s}", Enumerable.Range(0, 80).Select(t => 10 + s + Math.Sin(t * 0.5 + s)).ToArray())).ToArray();
        var options = new RnnForecasterOptions(new WindowSpec(12, 4))
        {
            HiddenSize = 16,
            Layers = 2,
            Backend = LibTorchBackend.Cpu(),
            Training = new TrainerOptions { Epochs = 5, BatchSize = 16, Seed = 3 },
        };
        using var trained = new RnnForecaster(options).Fit(series);
        var path = Path.Combine(Path.GetTempPath(), $"libtorch-{Guid.NewGuid():N}.safetensors");
        try
        {
            trained.Save(path);
            using var managed = FittedRnnForecaster.Load(path);
            using var torch = FittedRnnForecaster.Load(path, LibTorchBackend.Cpu());
            Assert.That(managed.Session, Is.InstanceOf<ManagedSession>(), "served with no native dependency");
            var expected = trained.Predict(series);
            foreach (var loaded in new[] { managed, torch })
            {
                var actual = loaded.Predict(series);
                for (int s = 0; s < series.Length; s++)
                    Assert.That(actual[s].FirstTarget, Is.EqualTo(expected[s].FirstTarget).Within(1e-4), $"{loaded.Session.GetType().Name} series {s}");
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
