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
/// The forecasting layer on libtorch: the losses computed in managed code train libtorch networks as they train the
/// managed engine, covariate and quantile networks move between backends, fine-tuning runs on libtorch, and concurrent
/// predictions on one libtorch session give the serial bits. Tolerances as <see cref="ParityTests"/>.
/// </summary>
public class ForecastingParityTests
{
    private static readonly DateTime Start = new(2024, 1, 1);

    private static TimeSeries Promoted(string id, int length, ulong seed, double level, string store)
    {
        var random = new DeterministicRandom(seed);
        var promo = Enumerable.Range(0, length).Select(_ => random.NextDouble() < 0.2 ? 1.0 : 0).ToArray();
        var sales = promo.Select((p, t) => level * (1 + 0.3 * Math.Sin(2 * Math.PI * t / 7)) * (1 + 0.8 * p)).ToArray();
        return new TimeSeries(id, ["sales", "promo"], [sales, promo], Enumerable.Range(0, length).Select(d => Start.AddDays(d)).ToArray(),
            new Dictionary<string, StaticValue> { ["store"] = store });
    }

    private static readonly TimeSeries[] Series = [Promoted("a", 90, 1, 10, "north"), Promoted("b", 90, 2, 40, "south")];

    private static TimeSeries[] Future => Series.Select((s, i) => Promoted(s.Id, 7, 10 + (ulong)i, 10, "north")).ToArray();

    private static RnnForecasterOptions Options(IBackend backend, LossOptions? loss = null) => new(new WindowSpec(14, 7)
    {
        Targets = ["sales"], FutureCovariates = ["promo"], StaticCovariates = ["store"], Calendar = CalendarFeatures.DayOfWeek,
    })
    {
        HiddenSize = 12,
        Backend = backend,
        Training = new TrainerOptions { Epochs = 2, BatchSize = 16, Seed = 3, WindowsPerEpoch = 64, Loss = loss ?? new LossOptions(LossKind.ScaledMae) },
    };

    [TestCase(LossKind.Pinball)]
    [TestCase(LossKind.ScaledMae)]
    [TestCase(LossKind.Smape)]
    public void ManagedLosses_TrainLibTorchAsTheyTrainTheManagedEngine(LossKind kind)
    {
        var loss = kind == LossKind.Pinball ? LossOptions.Pinball(0.1, 0.5, 0.9) : new LossOptions(kind);
        int q = loss.OutputsPerValue, batch = 5, time = 6, outputs = 3;
        var network = new NetworkOptions(CellType.Lstm, 2, 8, 2, outputs * q);
        var setup = new TrainingSetup(loss, new AdamOptions { LearningRate = 0.01 });
        using var managed = new ManagedBackend(1).CreateSession(network, setup, 4);
        using var torch = LibTorchBackend.Cpu(1).CreateSession(network, setup, 4);
        var random = new DeterministicRandom(8);
        var inputs = Enumerable.Range(0, batch * time * 2).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var targets = Enumerable.Range(0, batch * outputs).Select(_ => random.NextSingle() * 2 - 1).ToArray();
        var scale = Enumerable.Range(0, batch * outputs).Select(_ => 1 + random.NextSingle()).ToArray();
        var offset = Enumerable.Range(0, batch * outputs).Select(_ => 5 + random.NextSingle()).ToArray();
        var weight = Enumerable.Range(0, batch).Select(_ => 0.5f + random.NextSingle()).ToArray();
        for (int step = 0; step < 4; step++)
        {
            double a = managed.TrainStep(inputs, targets, batch, time, new LossContext(scale, offset, weight));
            double b = torch.TrainStep(inputs, targets, batch, time, new LossContext(scale, offset, weight));
            Assert.That(b, Is.EqualTo(a).Within(1e-5 + 1e-4 * Math.Abs(a)), $"loss at step {step}");
        }
        var pa = new float[managed.Layout.TotalLength];
        var pb = new float[pa.Length];
        managed.CopyParametersTo(pa);
        torch.CopyParametersTo(pb);
        Assert.That(pb, Is.EqualTo(pa).Within(2e-4), "weights after 4 steps");
    }

    [Test]
    public void CovariateNetwork_TrainedOnLibTorchIsServedByBothBackends()
    {
        using var trained = new RnnForecaster(Options(LibTorchBackend.Cpu())).Fit(Series);
        using var stream = new MemoryStream();
        trained.Save(stream);
        stream.Position = 0;
        using var managed = FittedRnnForecaster.Load(stream);
        var expected = trained.Predict(Series, new PredictOptions { Future = Future });
        var actual = managed.Predict(Series, new PredictOptions { Future = Future });
        Assert.Multiple(() =>
        {
            Assert.That(trained.Info.FeatureNames, Does.Contain("promo").And.Contain("store=south").And.Contain("day_of_week_sin"));
            Assert.That(managed.Session, Is.InstanceOf<ManagedSession>());
            for (int s = 0; s < Series.Length; s++) Assert.That(actual[s].FirstTarget, Is.EqualTo(expected[s].FirstTarget).Within(1e-3));
        });
    }

    [Test]
    public void CovariateNetwork_TrainsAlikeOnBothBackends()
    {
        using var onManaged = new RnnForecaster(Options(new ManagedBackend(1)) with { Training = Options(new ManagedBackend(1)).Training with { Loss = new LossOptions() } }).Fit(Series);
        using var onTorch = new RnnForecaster(Options(LibTorchBackend.Cpu(1)) with { Training = Options(new ManagedBackend(1)).Training with { Loss = new LossOptions() } }).Fit(Series);
        var lossesManaged = onManaged.Training!.History.Select(h => h.TrainLoss).ToArray();
        var lossesTorch = onTorch.Training!.History.Select(h => h.TrainLoss).ToArray();
        Assert.That(lossesTorch, Is.EqualTo(lossesManaged).Within(1e-3), "same initial weights, windows and updates: the epoch losses agree");
    }

    [Test]
    public void QuantileForecaster_OnLibTorchNeverCrossesAndLoadsOnTheManagedEngine()
    {
        using var trained = new RnnForecaster(Options(LibTorchBackend.Cpu(), LossOptions.Pinball(0.05, 0.5, 0.95))).Fit(Series);
        var predictions = trained.Predict(Series, new PredictOptions { Future = Future });
        using var stream = new MemoryStream();
        trained.Save(stream);
        stream.Position = 0;
        using var managed = FittedRnnForecaster.Load(stream);
        var served = managed.Predict(Series, new PredictOptions { Future = Future });
        Assert.Multiple(() =>
        {
            foreach (var p in predictions)
                for (int h = 0; h < 7; h++) Assert.That(p.Quantiles[0][0][h] <= p.Quantiles[0][1][h] && p.Quantiles[0][1][h] <= p.Quantiles[0][2][h], Is.True);
            Assert.That(managed.QuantileLevels, Is.EqualTo(new[] { 0.05, 0.5, 0.95 }));
            for (int s = 0; s < Series.Length; s++) Assert.That(served[s].Interval(0.9).Upper, Is.EqualTo(predictions[s].Interval(0.9).Upper).Within(1e-3));
        });
    }

    [Test]
    public void Update_OnLibTorchHonoursTheOptionsGiven()
    {
        using var model = new RnnForecaster(Options(new ManagedBackend())).Fit(Series);
        var update = new UpdateOptions(new TrainerOptions { Epochs = 3, BatchSize = 8, Seed = 5, WindowsPerEpoch = 32, Optimizer = new SgdOptions { LearningRate = 0.01 } }) { Backend = LibTorchBackend.Cpu() };
        using var updated = model.Update(Series, update);
        Assert.Multiple(() =>
        {
            Assert.That(updated.Session, Is.InstanceOf<LibTorchSession>());
            Assert.That(updated.Training!.History, Has.Count.EqualTo(3));
            Assert.That(updated.Training.History.Select(h => h.LearningRate), Is.All.EqualTo(0.01), "the SGD rate asked for, not Adam's 1e-3");
            Assert.That(updated.Predict(Series, new PredictOptions { Future = Future })[0].FirstTarget, Is.Not.EqualTo(model.Predict(Series, new PredictOptions { Future = Future })[0].FirstTarget));
        });
    }

    [Test]
    public void Session_ConcurrentPredictionsGiveTheSerialBits()
    {
        using var session = LibTorchBackend.Cpu(1).CreateSession(new NetworkOptions(CellType.Gru, 3, 16, 2, 5), new TrainerOptions().Setup, 2);
        var random = new DeterministicRandom(3);
        var inputs = Enumerable.Range(0, 8).Select(_ => Enumerable.Range(0, 10 * 3).Select(_ => random.NextSingle()).ToArray()).ToArray();
        var serial = inputs.Select(x => { var y = new float[5]; session.Predict(x, 1, 10, y); return y; }).ToArray();
        int wrong = 0;
        var threads = Enumerable.Range(0, 16).Select(t => new Thread(() =>
        {
            var y = new float[5];
            for (int i = 0; i < 200; i++)
            {
                int k = (t + i) % inputs.Length;
                session.Predict(inputs[k], 1, 10, y);
                if (!y.SequenceEqual(serial[k])) Interlocked.Increment(ref wrong);
            }
        })).ToArray();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        Assert.That(wrong, Is.Zero);
    }
}
