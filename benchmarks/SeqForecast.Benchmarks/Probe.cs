using System.Diagnostics;
using SeqForecast.Engine.Kernels;
using Kernels = SeqForecast.Engine.Kernels;

namespace SeqForecast.Benchmarks;

/// <summary>Quick GEMM throughput probe (not a BenchmarkDotNet run): <c>dotnet run -c Release -- probe-gemm</c>.</summary>
internal static class Probe
{
    public static void Gemm(int threads)
    {
        foreach (var (m, n, k) in new[] { (256, 64, 128), (256, 64, 65), (128, 64, 256), (256, 128, 64), (1024, 256, 512), (512, 512, 512) })
        {
            var a = new float[Kernels.Gemm.PackedASize(m, k)];
            var b = new float[Kernels.Gemm.PackedBSize(k, n)];
            var c = new float[m * n];
            new Random(1).NextBytes(new byte[1]);
            for (int i = 0; i < a.Length; i++) a[i] = (i % 7) * 0.1f;
            for (int i = 0; i < b.Length; i++) b[i] = (i % 5) * 0.1f;
            using var pool = new WorkerPool(threads);
            var runner = new GemmRunner(pool);
            for (int i = 0; i < 200; i++) runner.Multiply(a, b, m, n, k, c, n, false);
            int reps = (int)Math.Max(50, 2e9 / (2.0 * m * n * k));
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reps; i++) runner.Multiply(a, b, m, n, k, c, n, false);
            double seconds = sw.Elapsed.TotalSeconds;
            Console.WriteLine($"{m}x{n}x{k} threads={threads}: {2.0 * m * n * k * reps / seconds / 1e9:F1} GFLOP/s");
        }
    }
}
