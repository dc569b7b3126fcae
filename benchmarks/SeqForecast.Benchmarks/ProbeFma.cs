using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using SeqForecast.Engine.Kernels;

namespace SeqForecast.Benchmarks;

/// <summary>
/// <c>probe-fma</c>: the float32 FMA peak of this machine's cores, with nothing from memory: independent FMA chains
/// in registers at the engine's vector width (16 at 512 bits, 12 at 256 bits), on 1, 2, half and all of the cores at once (one thread each, started
/// together). One core's figure is the ceiling of any one-thread GEMM here; the all-core figure per core, against the
/// one- or two-core one, is how much a core slows (clock, shared FMA units of sibling hyperthreads) when every core
/// works, which no split of the engine's work can win back. A Stopwatch probe, not BenchmarkDotNet.
/// </summary>
internal static class ProbeFma
{
    private const int Chains = 16;

    /// <summary>
    /// Chains of the 256-bit loop: 12, so that they and the two operands fit the 16 registers an AVX2-only host (or
    /// DOTNET_EnableAVX512=0) has; 16 would spill, and the probe would count the spills' latency. Twelve still cover
    /// two FMA pipes of 4-cycle latency.
    /// </summary>
    private const int Chains256Count = 12;
    private const int InnerIterations = 1 << 16;
    private static volatile float Sink;

    public static void Run()
    {
        int cores = Environment.ProcessorCount;
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("PROBE_ROUND_SECONDS"), System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 1;
        if (!Simd.Vector256Enabled)
        {
            // The question is an x64 host's (the GPU machine's); narrower widths are not probed.
            Console.WriteLine("probe-fma measures the 512- and 256-bit kernels' widths only; this engine runs narrower ones");
            return;
        }
        int width = Simd.Vector512Enabled ? 16 : 8;
        Console.WriteLine($"cores {cores}; {width * 32}-bit FMA chains ({(width == 16 ? Chains : Chains256Count)} per thread), {seconds:F1} s per round, median of 3 rounds");
        Console.WriteLine("| threads at once | GFLOP/s in all | GFLOP/s per thread | per thread vs 1 thread |");
        Console.WriteLine("|---:|---:|---:|---:|");
        double one = 0;
        foreach (var threads in new[] { 1, 2, cores / 2, cores }.Where(t => t >= 1 && t <= cores).Distinct())
        {
            var rounds = new double[3];
            for (int r = 0; r < rounds.Length; r++) rounds[r] = AllAtOnce(threads, seconds, width);
            Array.Sort(rounds);
            double total = rounds[1], perThread = total / threads;
            if (threads == 1) one = perThread;
            Console.WriteLine($"| {threads} | {total:F1} | {perThread:F1} | {perThread / one:P0} |");
        }
    }

    /// <summary>GFLOP/s of <paramref name="threads"/> threads running the chains together for about <paramref name="seconds"/>.</summary>
    private static double AllAtOnce(int threads, double seconds, int width)
    {
        var flops = new double[threads];
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                flops[index] = Loop(seconds, width);
            }) { IsBackground = true };
            workers[t].Start();
        }
        var watch = Stopwatch.StartNew();
        start.SignalAndWait();
        foreach (var w in workers) w.Join();
        return flops.Sum() / watch.Elapsed.TotalSeconds / 1e9;
    }

    /// <summary>FLOPs done in about <paramref name="seconds"/> of chained FMAs at <paramref name="width"/> floats a vector.</summary>
    private static double Loop(double seconds, int width)
    {
        long blocks = 0;
        float sink = 0;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed.TotalSeconds < seconds)
        {
            sink += width == 16 ? Chains512() : Chains256();
            blocks++;
        }
        // The chains' sum is stored so that the loop cannot be dropped; it is finite and never printed.
        Sink = sink;
        return blocks * (double)InnerIterations * (width == 16 ? Chains : Chains256Count) * width * 2;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains512()
    {
        var m = Vector512.Create(0.999999f);
        var c = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        Vector512<float> a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
        for (int i = 0; i < InnerIterations; i++)
        {
            a0 = Simd.FusedMultiplyAdd(a0, m, c); a1 = Simd.FusedMultiplyAdd(a1, m, c); a2 = Simd.FusedMultiplyAdd(a2, m, c); a3 = Simd.FusedMultiplyAdd(a3, m, c);
            a4 = Simd.FusedMultiplyAdd(a4, m, c); a5 = Simd.FusedMultiplyAdd(a5, m, c); a6 = Simd.FusedMultiplyAdd(a6, m, c); a7 = Simd.FusedMultiplyAdd(a7, m, c);
            a8 = Simd.FusedMultiplyAdd(a8, m, c); a9 = Simd.FusedMultiplyAdd(a9, m, c); a10 = Simd.FusedMultiplyAdd(a10, m, c); a11 = Simd.FusedMultiplyAdd(a11, m, c);
            a12 = Simd.FusedMultiplyAdd(a12, m, c); a13 = Simd.FusedMultiplyAdd(a13, m, c); a14 = Simd.FusedMultiplyAdd(a14, m, c); a15 = Simd.FusedMultiplyAdd(a15, m, c);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains256()
    {
        var m = Vector256.Create(0.999999f);
        var c = Vector256.Create(1e-7f);
        Vector256<float> a0 = Vector256.Create(1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        Vector256<float> a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < InnerIterations; i++)
        {
            a0 = Simd.FusedMultiplyAdd(a0, m, c); a1 = Simd.FusedMultiplyAdd(a1, m, c); a2 = Simd.FusedMultiplyAdd(a2, m, c); a3 = Simd.FusedMultiplyAdd(a3, m, c);
            a4 = Simd.FusedMultiplyAdd(a4, m, c); a5 = Simd.FusedMultiplyAdd(a5, m, c); a6 = Simd.FusedMultiplyAdd(a6, m, c); a7 = Simd.FusedMultiplyAdd(a7, m, c);
            a8 = Simd.FusedMultiplyAdd(a8, m, c); a9 = Simd.FusedMultiplyAdd(a9, m, c); a10 = Simd.FusedMultiplyAdd(a10, m, c); a11 = Simd.FusedMultiplyAdd(a11, m, c);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
