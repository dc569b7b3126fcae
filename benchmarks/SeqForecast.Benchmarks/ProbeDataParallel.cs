using System.Diagnostics;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.LibTorch;
using SeqForecast.Training;

namespace SeqForecast.Benchmarks;

/// <summary>
/// <c>probe-ddp</c>: the managed engine's training step over a Gloo process group, launched as torchrun launches (RANK,
/// WORLD_SIZE, MASTER_ADDR, MASTER_PORT; SEQFORECAST_THREADS per process). Every rank runs the same fixed number of
/// steps (a collective cannot stop on a clock), 5 rounds of PROBE_DDP_STEPS (default 10) after 3 warm-up steps, and rank
/// 0 prints the median round's ms per step, and the all-reduce of the gradients alone. PROBE_CELL and PROBE_HIDDEN
/// pick the config as in probe-steps; PROBE_BATCH the batch (default the config's benchmark batch). Without WORLD_SIZE it
/// times one process, for the side-by-side figure. A Stopwatch probe, not BenchmarkDotNet.
/// </summary>
internal static class ProbeDataParallel
{
    public static void Run()
    {
        IProcessGroup? group = DistributedOptions.IsLaunched ? LibTorchProcessGroup.Join(DistributedOptions.FromEnvironment()) : null;
        int stepsPerRound = int.Parse(Environment.GetEnvironmentVariable("PROBE_DDP_STEPS") ?? "10", System.Globalization.CultureInfo.InvariantCulture);
        bool print = group is null or { Rank: 0 };
        if (print)
        {
            Console.WriteLine($"processes {group?.WorldSize ?? 1}, threads per process {ManagedBackend.WorkerThreads}");
            Console.WriteLine("| cell | config | batch | step ms | all-reduce ms |");
            Console.WriteLine("|---|---|---:|---:|---:|");
        }
        foreach (var cell in new[] { CellType.Lstm, CellType.Gru }.Where(c => Environment.GetEnvironmentVariable("PROBE_CELL") is not { } only || only == c.ToString()))
            foreach (var (name, hidden, lookback, defaultBatch) in new[] { ("ref 2x64 L30", 64, 30, 64), ("large 2x256 L64", 256, 64, 256) }.Where(c => Environment.GetEnvironmentVariable("PROBE_HIDDEN") is not { } only || only == c.Item2.ToString()))
            {
                int batch = int.Parse(Environment.GetEnvironmentVariable("PROBE_BATCH") ?? defaultBatch.ToString(System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
                var setup = new TrainingSetup(new LossOptions(), new AdamOptions());
                var backend = group is null ? new ManagedBackend() : new ManagedBackend().WithProcessGroup(group);
                using var session = backend.CreateSession(new NetworkOptions(cell, 1, hidden, 2, 1), setup, seed: 1);
                var inputs = new float[batch * lookback];
                var targets = new float[batch];
                for (int i = 0; i < inputs.Length; i++) inputs[i] = MathF.Sin(i * 0.1f);
                for (int i = 0; i < 3; i++) session.TrainStep(inputs, targets, batch, lookback);
                var rounds = new double[5];
                for (int r = 0; r < rounds.Length; r++)
                {
                    var watch = Stopwatch.StartNew();
                    for (int s = 0; s < stepsPerRound; s++) session.TrainStep(inputs, targets, batch, lookback);
                    rounds[r] = watch.Elapsed.TotalMilliseconds / stepsPerRound;
                }
                Array.Sort(rounds);
                double reduce = 0;
                if (group is not null)
                {
                    // What the step's one all-reduce moves: every gradient, the rows and the loss, in float64.
                    var values = new double[session.Layout.TotalLength + 2];
                    var samples = new double[stepsPerRound];
                    for (int s = 0; s < samples.Length; s++)
                    {
                        var watch = Stopwatch.StartNew();
                        group.AllReduceSum(values);
                        samples[s] = watch.Elapsed.TotalMilliseconds;
                    }
                    Array.Sort(samples);
                    reduce = samples[samples.Length / 2];
                }
                if (print) Console.WriteLine($"| {cell} | {name} | {batch} | {rounds[2]:F2} | {(group is null ? "–" : reduce.ToString("F2", System.Globalization.CultureInfo.InvariantCulture))} |");
            }
    }
}
