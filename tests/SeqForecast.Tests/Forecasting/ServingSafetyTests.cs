using System.Diagnostics;
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Forecasting;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Forecasting;

/// <summary>
/// Serving safety: concurrent predictions give the serial bits, training next to predictions never shows a mixture,
/// models own no threads, cancellation follows .NET conventions, fine-tuning honours its options, bad inputs fail clearly.
/// </summary>
[NonParallelizable]
public class ServingSafetyTests
{
    private static TimeSeries Wave(string id, int length, double level, double phase = 0) =>
        TimeSeries.FromValues(id, Enumerable.Range(0, length).Select(t => level + 8 * Math.Sin(2 * Math.PI * t / 7 + phase) + Math.Cos(t * 0.37 + phase)).ToArray(),
            Enumerable.Range(0, length).Select(t => new DateTime(2024, 3, 4).AddDays(t)).ToArray());

    private static RnnForecasterOptions Small(int epochs = 3) => new(new WindowSpec(14, 7))
    {
        HiddenSize = 24,
        Layers = 2,
        Training = new TrainerOptions { Epochs = epochs, BatchSize = 32, Seed = 8, Optimizer = new AdamOptions { LearningRate = 0.01 } },
    };

    [Test]
    public void Predict_From32ThreadsGivesTheSerialBits()
    {
        var series = Enumerable.Range(0, 100).Select(i => Wave($"s{i}", 60, 10 + i, i * 0.1)).ToArray();
        using var model = new RnnForecaster(Small()).Fit(series.Take(10).ToArray());
        var serialOne = series.Select(s => model.Predict(s).FirstTarget.ToArray()).ToArray();
        var serialAll = model.Predict(series).Select(p => p.FirstTarget.ToArray()).ToArray();
        int wrong = 0, calls = 0;
        var threads = Enumerable.Range(0, 32).Select(t => new Thread(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                bool shared = (i + t) % 3 == 0;
                if (i % 100 == 50)
                {
                    // 100 series in one call: the multi-window path shares the worker pool.
                    var all = model.Predict(series);
                    for (int s = 0; s < series.Length; s++) if (!all[s].FirstTarget.SequenceEqual(serialAll[s])) Interlocked.Increment(ref wrong);
                }
                else
                {
                    int index = shared ? 0 : (t * 1000 + i) % series.Length;
                    if (!model.Predict(series[index]).FirstTarget.SequenceEqual(serialOne[index])) Interlocked.Increment(ref wrong);
                }
                Interlocked.Increment(ref calls);
            }
        })).ToArray();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        Assert.Multiple(() =>
        {
            Assert.That(calls, Is.EqualTo(32_000));
            Assert.That(wrong, Is.Zero, "every concurrent result equals the serial one bit for bit");
        });
    }

    [Test]
    public void Session_PredictDuringTrainingSeesOneWeightVersionOrAnother()
    {
        var network = new NetworkOptions(CellType.Lstm, 1, 16, 2, 3);
        var setup = new TrainerOptions { Optimizer = new AdamOptions { LearningRate = 0.05 } }.Setup;
        using var session = ManagedBackend.Default.CreateSession(network, setup, 1);
        var input = Enumerable.Range(0, 10).Select(i => (float)Math.Sin(i)).ToArray();
        var trainInputs = Enumerable.Range(0, 64 * 10).Select(i => (float)Math.Cos(i * 0.1)).ToArray();
        var trainTargets = Enumerable.Range(0, 64 * 3).Select(i => (float)Math.Sin(i * 0.2)).ToArray();
        var snapshots = new List<float[]>();
        var seen = new System.Collections.Concurrent.ConcurrentBag<float[]>();
        var parameters = new float[session.Layout.TotalLength];
        session.CopyParametersTo(parameters);
        snapshots.Add((float[])parameters.Clone());
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            var output = new float[3];
            while (!stop.IsCancellationRequested)
            {
                session.Predict(input, 1, 10, output);
                seen.Add((float[])output.Clone());
            }
        })).ToArray();
        foreach (var r in readers) r.Start();
        for (int step = 0; step < 25; step++)
        {
            session.TrainStep(trainInputs, trainTargets, 64, 10);
            session.CopyParametersTo(parameters);
            snapshots.Add((float[])parameters.Clone());
        }
        stop.Cancel();
        foreach (var r in readers) r.Join();
        // Every output a reader saw is the output of one of the weight versions.
        using var check = ManagedBackend.Default.CreateSession(network, setup, 1);
        var valid = snapshots.Select(p =>
        {
            check.LoadParameters(p);
            var output = new float[3];
            check.Predict(input, 1, 10, output);
            return output;
        }).ToArray();
        int mixtures = seen.Count(o => !valid.Any(v => v.SequenceEqual(o)));
        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.Not.Empty);
            Assert.That(mixtures, Is.Zero, "no prediction mixes weights from before and after a step");
        });
    }

    [Test]
    public void Models_OwnNoThreads()
    {
        var series = new[] { Wave("a", 60, 10) };
        using (var warm = new RnnForecaster(Small(1)).Fit(series)) warm.Predict(series);
        int before = Process.GetCurrentProcess().Threads.Count;
        var models = new List<FittedRnnForecaster>();
        for (int i = 0; i < 100; i++) models.Add(new RnnForecaster(Small(1)).Fit(series));
        foreach (var m in models) m.Predict(series);
        int after = Process.GetCurrentProcess().Threads.Count;
        Assert.Multiple(() =>
        {
            Assert.That(after - before, Is.LessThanOrEqualTo(2), $"threads {before} before 100 undisposed models, {after} after");
            Assert.That(SeqForecast.Engine.Kernels.WorkerPool.Shared.StartedThreads, Is.LessThan(Environment.ProcessorCount));
        });
        GC.KeepAlive(models);
    }

    [Test]
    public void WorkerPool_IdleWorkersSleep()
    {
        var series = new[] { Wave("a", 200, 10), Wave("b", 200, 20) };
        using (var model = new RnnForecaster(Small(2) with { Training = Small().Training with { Epochs = 2, BatchSize = 64 } }).Fit(series)) model.Predict(series);
        Assert.That(SeqForecast.Engine.Kernels.WorkerPool.Shared.StartedThreads, Is.GreaterThan(0), "the regions above started workers");
        // CPU time of the pool's own threads (Linux names them "SeqForecast wor…"), read from /proc before and after an idle second.
        static double WorkerTicks() => Directory.GetDirectories("/proc/self/task")
            .Where(task => File.ReadAllText(Path.Combine(task, "comm")).StartsWith("SeqForecast wor", StringComparison.Ordinal))
            .Sum(task =>
            {
                var fields = File.ReadAllText(Path.Combine(task, "stat")).Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return double.Parse(fields[11]) + double.Parse(fields[12]); // utime + stime, in clock ticks
            });
        Thread.Sleep(100);
        double before = WorkerTicks();
        Thread.Sleep(1000);
        double burned = WorkerTicks() - before;
        Assert.That(burned, Is.LessThanOrEqualTo(2), $"idle workers used {burned} clock ticks (1/100 s) in one second");
    }

    [Test]
    public void Fit_AlreadyCancelledTokenThrowsBeforeAnyWork()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var progress = new List<EpochProgress>();
        var ex = Assert.Throws<OperationCanceledException>(() => new RnnForecaster(Small()).Fit([Wave("a", 60, 10)],
            new FitOptions { CancellationToken = cancel.Token, Progress = new Synchronous<EpochProgress>(progress.Add) }));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.CancellationToken, Is.EqualTo(cancel.Token));
            Assert.That(progress, Is.Empty);
        });
    }

    [Test]
    public void Fit_CancelledMidwayThrowsWithTheBestModelSoFar()
    {
        using var cancel = new CancellationTokenSource();
        var series = new[] { Wave("a", 90, 10) };
        var ex = Assert.Throws<TrainingCanceledException>(() => new RnnForecaster(Small(100)).Fit(series,
            new FitOptions { CancellationToken = cancel.Token, Progress = new Synchronous<EpochProgress>(p => { if (p.Epoch == 2) cancel.Cancel(); }) }));
        using var partial = (FittedRnnForecaster)ex!.PartialModel!;
        Assert.Multiple(() =>
        {
            Assert.That(ex.Result.History, Has.Count.EqualTo(2));
            Assert.That(partial.Training!.BestEpoch, Is.InRange(1, 2));
            Assert.That(partial.Predict(series[0]).FirstTarget, Has.Count.EqualTo(7), "the best-so-far model predicts");
        });
    }

    [Test]
    public void FitAsync_DoesNotBlockTheCaller()
    {
        var series = new[] { Wave("a", 300, 10), Wave("b", 300, 30) };
        var clock = Stopwatch.StartNew();
        var task = new RnnForecaster(Small(30)).FitAsync(series);
        var returned = clock.Elapsed;
        using var model = task.GetAwaiter().GetResult();
        Assert.Multiple(() =>
        {
            Assert.That(returned, Is.LessThan(clock.Elapsed / 2), $"returned after {returned.TotalMilliseconds:F0} ms of {clock.Elapsed.TotalMilliseconds:F0}");
            Assert.That(model.Training!.History, Has.Count.EqualTo(30));
        });
    }

    [Test]
    public void Update_HonoursTheOptimizerEpochsAndSeedItIsGiven()
    {
        var series = new[] { Wave("a", 120, 10), Wave("b", 120, 30, 1) };
        using var model = new RnnForecaster(Small()).Fit(series.Select(s => s.Slice(0, 90)).ToArray());
        var update = new UpdateOptions(new TrainerOptions { Epochs = 4, BatchSize = 16, Seed = 3, Optimizer = new SgdOptions { LearningRate = 0.05, Momentum = 0.9 } });
        using var updated = model.Update(series, update);
        // The same continuation by hand, through the low-level API: equal weights prove every option was honoured.
        using var session = ManagedBackend.Default.CreateSession(model.Session.Network, update.Training.Setup, update.Training.Seed);
        var start = new float[session.Layout.TotalLength];
        model.Session.CopyParametersTo(start);
        session.LoadParameters(start);
        new Trainer(update.Training).Fit(session, model.TrainingWindows(series, 0), null, null, null, default);
        var expected = new float[start.Length];
        var actual = new float[start.Length];
        session.CopyParametersTo(expected);
        updated.Session.CopyParametersTo(actual);
        Assert.Multiple(() =>
        {
            Assert.That(updated.Training!.History, Has.Count.EqualTo(4));
            Assert.That(actual, Is.EqualTo(expected));
            Assert.That(actual, Is.Not.EqualTo(start));
            Assert.That(model.Predict(series[0]).FirstTarget, Is.Not.EqualTo(updated.Predict(series[0]).FirstTarget), "the original model is unchanged");
        });
    }

    [Test]
    public void Options_DropoutWithOneLayerIsAnError()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new RnnForecaster(Small() with { Layers = 1, Dropout = 0.2 }));
        Assert.That(ex!.Message, Does.Contain("dropout (0.2) acts between stacked layers and a network of 1 layer has none"));
    }

    [Test]
    public void Predict_NaNInTheHistoryNamesSeriesAndPosition()
    {
        using var model = new RnnForecaster(Small(1)).Fit([Wave("a", 60, 10)]);
        var values = Wave("SKU-9", 40, 10).Column(0).ToArray();
        values[33] = double.NaN;
        var bad = TimeSeries.FromValues("SKU-9", values, Wave("x", 40, 0).Timestamps.ToArray());
        var ex = Assert.Throws<ArgumentException>(() => model.Predict(bad));
        Assert.That(ex!.Message, Does.StartWith("series 'SKU-9' column 'value' is NaN at 2024-04-06 (index 33)"));
    }

    private sealed class Synchronous<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
