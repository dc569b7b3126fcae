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
                        double ms = MedianStepMilliseconds(cell, hidden, lookback, batch, threads);
                        if (threads == threadCounts[0]) one = ms;
                        Console.WriteLine($"| {cell} | {name} | {batch} | {threads} | {ms:F2} | {one / ms:F2}x |");
                    }
                }
    }

    /// <summary>
    /// One training step of a 2-layer, 1-feature network (MSE, Adam) on <paramref name="threads"/> threads, in ms: after
    /// 5 warm-up steps, the median over 5 rounds of at least 2 s (PROBE_ROUND_SECONDS sets it) and 3 steps.
    /// </summary>
    public static double MedianStepMilliseconds(CellType cell, int hidden, int lookback, int batch, int threads)
    {
        var setup = new TrainingSetup(new LossOptions(), new AdamOptions());
        using var session = new ManagedSession(new ManagedNetwork(new NetworkOptions(cell, 1, hidden, 2, 1), 1, threads), setup);
        var inputs = new float[batch * lookback];
        var targets = new float[batch];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = MathF.Sin(i * 0.1f);
        for (int i = 0; i < 5; i++) session.TrainStep(inputs, targets, batch, lookback);
        double roundSeconds = double.TryParse(Environment.GetEnvironmentVariable("PROBE_ROUND_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? seconds : 2;
        var rounds = new double[5];
        for (int r = 0; r < rounds.Length; r++)
        {
            int steps = 0;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed.TotalSeconds < roundSeconds || steps < 3)
            {
                session.TrainStep(inputs, targets, batch, lookback);
                steps++;
            }
            rounds[r] = watch.Elapsed.TotalMilliseconds / steps;
        }
        Array.Sort(rounds);
        return rounds[rounds.Length / 2];
    }
}
