using System.Diagnostics;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Training;

namespace SeqForecast.Benchmarks;

/// <summary>
/// <c>probe-steps</c>: training-step time (2 layers, 1 feature, MSE, Adam) at every batch size and thread count given,
/// the median of 5 rounds of at least 2 s. Batches of 32 windows (one micro-batch) show what a team of threads gives
/// within a micro-batch. A Stopwatch probe for side-by-side runs, not BenchmarkDotNet.
/// </summary>
internal static class ProbeSteps
{
    public static void Run(int[] batches, int[] threadCounts)
    {
        Console.WriteLine("| cell | config | batch | threads | step ms | speed-up vs 1 |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var cell in new[] { CellType.Lstm, CellType.Gru }.Where(c => Environment.GetEnvironmentVariable("PROBE_CELL") is not { } only || only == c.ToString()))
            foreach (var (name, hidden, lookback) in new[] { ("2x64 L30", 64, 30), ("2x256 L64", 256, 64) }.Where(c => Environment.GetEnvironmentVariable("PROBE_HIDDEN") is not { } only || only == c.Item2.ToString()))
                foreach (var batch in batches)
                {
                    double one = 0;
                    foreach (var threads in threadCounts)
                    {
                        var setup = new TrainingSetup(new LossOptions(), new AdamOptions());
                        using var session = new ManagedSession(new ManagedNetwork(new NetworkOptions(cell, 1, hidden, 2, 1), 1, threads), setup);
                        var inputs = new float[batch * lookback];
                        var targets = new float[batch];
                        for (int i = 0; i < inputs.Length; i++) inputs[i] = MathF.Sin(i * 0.1f);
                        for (int i = 0; i < 5; i++) session.TrainStep(inputs, targets, batch, lookback);
                        var rounds = new double[5];
                        for (int r = 0; r < rounds.Length; r++)
                        {
                            int steps = 0;
                            var watch = Stopwatch.StartNew();
                            while (watch.Elapsed.TotalSeconds < 2 || steps < 3)
                            {
                                session.TrainStep(inputs, targets, batch, lookback);
                                steps++;
                            }
                            rounds[r] = watch.Elapsed.TotalMilliseconds / steps;
                        }
                        Array.Sort(rounds);
                        double ms = rounds[rounds.Length / 2];
                        if (threads == threadCounts[0]) one = ms;
                        Console.WriteLine($"| {cell} | {name} | {batch} | {threads} | {ms:F2} | {one / ms:F2}x |");
                    }
                }
    }
}

/// <summary><c>probe-phases</c>: forward (training) and backward times of one network, best of 5 rounds.</summary>
internal static class ProbePhases
{
    public static void Run(CellType cell, int hidden, int lookback, int batch, int threads)
    {
        var network = new ManagedNetwork(new NetworkOptions(cell, 1, hidden, 2, 1), 1, threads);
        var inputs = new float[batch * lookback];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = MathF.Sin(i * 0.1f);
        var outputs = new float[batch];
        var d = new float[batch];
        Array.Fill(d, 0.01f);
        for (int i = 0; i < 5; i++) { network.Forward(inputs, batch, lookback, outputs, true); network.Backward(d); }
        double bestForward = double.MaxValue, bestBackward = double.MaxValue;
        for (int round = 0; round < 5; round++)
        {
            double forward = 0, backward = 0;
            for (int i = 0; i < 20; i++)
            {
                network.MarkParametersChanged();
                long t0 = Stopwatch.GetTimestamp();
                network.Forward(inputs, batch, lookback, outputs, true);
                long t1 = Stopwatch.GetTimestamp();
                network.Backward(d);
                long t2 = Stopwatch.GetTimestamp();
                forward += Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds;
                backward += Stopwatch.GetElapsedTime(t1, t2).TotalMilliseconds;
            }
            bestForward = Math.Min(bestForward, forward / 20);
            bestBackward = Math.Min(bestBackward, backward / 20);
        }
        Console.WriteLine($"{cell} 2x{hidden} L{lookback} B{batch} threads={threads}: forward {bestForward:F2} ms, backward {bestBackward:F2} ms");
    }
}
