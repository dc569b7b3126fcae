using System.Diagnostics;
using SeqForecast.Engine;
using SeqForecast.Engine.Kernels;
using SeqForecast.Engine.Managed;
using SeqForecast.Training;
using Kernels = SeqForecast.Engine.Kernels;

namespace SeqForecast.Benchmarks;

/// <summary>
/// Quick probes for profiling (not BenchmarkDotNet, not for reported figures): <c>dotnet run -c Release -- probe-NAME</c>
/// with gemm, gemm-blocking, gemv, cells, layer, narrow, breakdown, train, predict, fma (<see cref="ProbeFma"/>), <c>train-loop lstm|gru</c> (runs until
/// PROBE_TRAIN_SECONDS pass, for perf) or <c>predict-loop lstm|gru STEPS SECONDS</c>.
/// </summary>
internal static class Probe
{
    /// <summary>
    /// The K-blocked tile walk against the unblocked one (<see cref="Kernels.Gemm.MultiplyTiles"/> with and without
    /// chain scratch), one thread, rounds alternating so that a noisy host slows both alike; medians of 9 rounds.
    /// </summary>
    public static unsafe void GemmBlocking()
    {
        Console.WriteLine($"KC {Kernels.Gemm.KC}, M block {Kernels.Gemm.MCBlocks * Kernels.Gemm.MR} rows, tiles {Kernels.Gemm.MR}x{Kernels.Gemm.NR}");
        Console.WriteLine("| M x N x K | unblocked GFLOP/s | K-blocked GFLOP/s | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (m, n, k) in new[] { (1024, 32, 256), (1024, 32, 512), (512, 32, 1024), (1024, 256, 512), (512, 512, 512), (1024, 256, 2048), (768, 256, 2048), (1024, 512, 2048) })
        {
            var a = new float[Kernels.Gemm.PackedASize(m, k)];
            var b = new float[Kernels.Gemm.PackedBSize(k, n)];
            var c = new float[m * n];
            var chains = new float[Kernels.Gemm.ChainScratchSize(n) + 16];
            for (int i = 0; i < a.Length; i++) a[i] = (i % 7) * 0.1f;
            for (int i = 0; i < b.Length; i++) b[i] = (i % 5) * 0.1f;
            int rowBlocks = (m + Kernels.Gemm.MR - 1) / Kernels.Gemm.MR, panels = (n + Kernels.Gemm.NR - 1) / Kernels.Gemm.NR;
            int reps = (int)Math.Max(10, 4e8 / (2.0 * m * n * k));
            var times = new[] { new List<double>(), new List<double>() };
            fixed (float* ap = a) fixed (float* bp = b) fixed (float* cp = c) fixed (float* chainsp = chains)
            {
                float* aligned = (float*)(((nint)chainsp + 63) & ~(nint)63);
                for (int round = 0; round < 10; round++)
                    for (int variant = 0; variant < 2; variant++)
                    {
                        float* scratch = variant == 0 ? null : aligned;
                        var sw = Stopwatch.StartNew();
                        for (int i = 0; i < reps; i++) Kernels.Gemm.MultiplyTiles(ap, bp, m, n, k, cp, n, false, 0, rowBlocks, 0, panels, scratch);
                        if (round > 0) times[variant].Add(2.0 * m * n * k * reps / sw.Elapsed.TotalSeconds / 1e9);
                    }
            }
            double unblocked = times[0].Order().ElementAt(4), blocked = times[1].Order().ElementAt(4);
            Console.WriteLine($"| {m} x {n} x {k} | {unblocked:F1} | {blocked:F1} | {blocked / unblocked:F2}x |");
        }
    }

    public static void Gemm(int threads)
    {
        var only = Environment.GetEnvironmentVariable("PROBE_GEMM_SHAPES");
        foreach (var (m, n, k) in new[] { (256, 64, 128), (256, 64, 65), (128, 64, 256), (256, 128, 64), (1024, 256, 512), (512, 512, 512), (1024, 32, 256), (512, 32, 1024), (1024, 256, 2048), (768, 32, 256), (1024, 512, 2048), (768, 512, 2048), (512, 256, 1024), (256, 256, 1024), (1024, 256, 256), (256, 16384, 1024), (256, 32, 1024), (256, 2048, 1024), (1024, 32, 512), (32, 256, 64), (32, 64, 256), (256, 64, 960), (960, 256, 64), (256, 256, 960), (256, 32, 64), (128, 32, 256), (256, 32, 128) })
        {
            if (only != null && !only.Split(',').Contains($"{m}x{n}x{k}")) continue;
            // 64-byte aligned like the engine's own operands (AlignedBuffer); a GC array's start moves between runs.
            var a = new AlignedBuffer(Kernels.Gemm.PackedASize(m, k)).AsSpan();
            var b = new AlignedBuffer(Kernels.Gemm.PackedBSize(k, n)).AsSpan();
            var c = new AlignedBuffer(m * n).AsSpan();
            for (int i = 0; i < a.Length; i++) a[i] = (i % 7) * 0.1f;
            for (int i = 0; i < b.Length; i++) b[i] = (i % 5) * 0.1f;
            using var pool = new WorkerPool(threads);
            var runner = new GemmRunner(pool);
            for (int i = 0; i < 200; i++) runner.Multiply(a, b, m, n, k, c, n, false);
            int reps = (int)Math.Max(50, 2e9 / (2.0 * m * n * k));
            var rounds = new double[5];
            for (int round = 0; round < rounds.Length; round++)
            {
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < reps; i++) runner.Multiply(a, b, m, n, k, c, n, false);
                rounds[round] = 2.0 * m * n * k * reps / sw.Elapsed.TotalSeconds / 1e9;
            }
            Array.Sort(rounds);
            Console.WriteLine($"{m}x{n}x{k} threads={threads}: {rounds[2]:F1} GFLOP/s (median of 5; best {rounds[4]:F1})");
        }
    }

    public static unsafe void Narrow()
    {
        int m = 256, k = 128;
        var a = new float[Kernels.Gemm.PackedASize(m, k)];
        var b = new float[Kernels.Gemm.PackedBSize(k, 1)];
        var c = new float[m];
        var x = new float[k];
        for (int i = 0; i < a.Length; i++) a[i] = (i % 7) * 0.1f;
        using var pool = new WorkerPool(1);
        var runner = new GemmRunner(pool);
        for (int i = 0; i < 1000; i++) { Kernels.Gemm.PackB(x, 1, false, k, 1, 0, k, b); runner.Multiply(a, b, m, 1, k, c, 1, false); }
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < 100000; i++) runner.Multiply(a, b, m, 1, k, c, 1, false);
        Console.WriteLine($"narrow 256x1x128: {sw.Elapsed.TotalMicroseconds / 100000:F2} us");
        // The first layer's input-weight gradient of a univariate 2x64 L30 B64 step: [4H, 1] from K = T·B columns.
        foreach (var (dm, dn, dk) in new[] { (256, 1, 1920), (256, 4, 1920), (1024, 1, 16384) })
        {
            var da = new float[Kernels.Gemm.PackedASize(dm, dk)];
            var db = new float[Kernels.Gemm.PackedBSize(dk, dn)];
            var dc = new float[dm * dn];
            for (int i = 0; i < da.Length; i++) da[i] = (i % 7) * 0.1f;
            for (int i = 0; i < 20; i++) runner.Multiply(da, db, dm, dn, dk, dc, dn, true);
            int reps = Math.Max(20, 200_000_000 / (dm * dk));
            sw.Restart();
            for (int i = 0; i < reps; i++) runner.Multiply(da, db, dm, dn, dk, dc, dn, true);
            double us = sw.Elapsed.TotalMicroseconds / reps;
            Console.WriteLine($"narrow {dm}x{dn}x{dk}: {us:F2} us, {2.0 * dm * dn * dk / us / 1e3:F1} GFLOP/s");
        }
        sw.Restart();
        for (int i = 0; i < 100000; i++) Kernels.Gemm.PackB(x, 1, false, k, 1, 0, k, b);
        Console.WriteLine($"packB 128x1: {sw.Elapsed.TotalMicroseconds / 100000:F2} us");
        var g = new float[256];
        sw.Restart();
        for (int i = 0; i < 100000; i++) { System.Numerics.Tensors.TensorPrimitives.Sigmoid(g.AsSpan(0, 128), g.AsSpan(0, 128)); System.Numerics.Tensors.TensorPrimitives.Tanh(g.AsSpan(128, 64), g.AsSpan(128, 64)); }
        Console.WriteLine($"sigmoid128+tanh64: {sw.Elapsed.TotalMicroseconds / 100000:F3} us");
    }

    public static unsafe void Gemv()
    {
        foreach (var (m, k) in new[] { (256, 64), (256, 65), (256, 128), (192, 64), (192, 128) })
        {
            var w = new float[Kernels.Gemm.PackedVectorSize(m, k)];
            var x = new float[k];
            var y = new float[m];
            for (int i = 0; i < w.Length; i++) w[i] = (i % 7) * 0.1f;
            fixed (float* wp = w) fixed (float* xp = x) fixed (float* yp = y)
            {
                for (int i = 0; i < 10000; i++) Kernels.Gemm.MultiplyVector(wp, xp, m, k, yp, 1, true);
                var sw = Stopwatch.StartNew();
                for (int i = 0; i < 200000; i++) Kernels.Gemm.MultiplyVector(wp, xp, m, k, yp, 1, true);
                double us = sw.Elapsed.TotalMicroseconds / 200000;
                Console.WriteLine($"gemv {m}x{k}: {us:F3} us, {m * k * 4 / us / 1e3:F1} GB/s, {2.0 * m * k / us / 1e3:F1} GFLOP/s");
            }
        }
    }

    public static void Layer(CellType cell, int t = 30, int h = 64, int i = 64, int b = 32)
    {
        var options = new NetworkOptions(cell, i, h, 1, 1);
        var layout = ParameterLayout.For(options);
        var p = new float[layout.TotalLength];
        ParameterInitializer.Initialize(options, 1, p);
        var grads = new float[layout.TotalLength];
        var context = new ComputeContext(1);
        SeqForecast.Engine.Managed.Layers.RecurrentLayer layer = cell == CellType.Lstm
            ? new SeqForecast.Engine.Managed.Layers.LstmLayer(context, 0, i, h, layout)
            : new SeqForecast.Engine.Managed.Layers.GruLayer(context, 0, i, h, layout);
        var input = new float[t * i * b];
        for (int q = 0; q < input.Length; q++) input[q] = MathF.Sin(q * 0.37f);
        var dOut = new float[t * h * b];
        for (int q = 0; q < dOut.Length; q++) dOut[q] = 0.01f * MathF.Cos(q * 0.11f);
        var dIn = new float[t * i * b];
        for (int q = 0; q < 50; q++) { layer.Forward(input, p, t, b, true, TeamMember.Solo); layer.Backward(input, dOut, dIn, p, grads, TeamMember.Solo); }
        if (Environment.GetEnvironmentVariable("PROBE_BACKWARD_SECONDS") is { } secs)
        {
            var until = Stopwatch.StartNew();
            while (until.Elapsed.TotalSeconds < double.Parse(secs)) layer.Backward(input, dOut, dIn, p, grads, TeamMember.Solo);
            return;
        }
        int reps = Math.Max(10, 300 * 64 * 64 * 30 / (h * h * t));
        var sw = Stopwatch.StartNew();
        for (int q = 0; q < reps; q++) layer.Forward(input, p, t, b, false, TeamMember.Solo);
        double fwd = sw.Elapsed.TotalMicroseconds / reps;
        sw.Restart();
        for (int q = 0; q < reps; q++) layer.Backward(input, dOut, dIn, p, grads, TeamMember.Solo);
        double bwd = sw.Elapsed.TotalMicroseconds / reps;
        int g = (cell == CellType.Lstm ? 4 : 3) * h;
        var a = new float[Kernels.Gemm.PackedASize(g, i + h)];
        var bb = new float[Kernels.Gemm.PackedBSize(i + h, b)];
        var c = new float[g * b];
        sw.Restart();
        for (int q = 0; q < reps * t; q++) context.Gemm.Multiply(a, bb, g, b, i + h, c, b, true);
        double gemm = sw.Elapsed.TotalMicroseconds / reps;
        double flops = 2.0 * g * (i + h) * b * t;
        Console.WriteLine($"{cell} layer in{i} H{h} T{t} B{b}: forward {fwd:F0} us ({flops / fwd / 1e3:F1} GFLOP/s), backward {bwd:F0} us ({2 * flops / bwd / 1e3:F1} GFLOP/s); bare forward GEMMs {gemm:F0} us ({flops / gemm / 1e3:F1} GFLOP/s)");
    }

    public static void Cells()
    {
        foreach (var n in (Environment.GetEnvironmentVariable("PROBE_CELL_SIZES") ?? "64,2048").Split(",").Select(int.Parse)) {
        var gates = new float[4 * n];
        var c0 = new float[n]; var c1 = new float[n]; var tc = new float[n]; var h = new float[n];
        var proj = new float[3 * n];
        for (int q = 0; q < gates.Length; q++) gates[q] = MathF.Sin(q * 0.37f);
        int reps = 20000;
        for (int q = 0; q < 1000; q++) Activations.LstmCell(gates, n, c0, c1, tc, h);
        var sw = Stopwatch.StartNew();
        for (int q = 0; q < reps; q++) { gates.AsSpan(0, 1).Fill(0.5f); Activations.LstmCell(gates, n, c0, c1, tc, h); }
        Console.WriteLine($"LstmCell n={n}: {sw.Elapsed.TotalMicroseconds / reps:F2} us");
        sw.Restart();
        for (int q = 0; q < reps; q++) Activations.GruCell(gates, proj, n, c0, c1, h);
        Console.WriteLine($"GruCell n={n}: {sw.Elapsed.TotalMicroseconds / reps:F2} us");
        var dGates = new float[4 * n];
        var dCell = new float[n];
        sw.Restart();
        for (int q = 0; q < reps; q++) Elementwise.LstmCellBackward(gates, tc, c0, h, c1, dCell, dGates, n);
        Console.WriteLine($"LstmCellBackward n={n}: {sw.Elapsed.TotalMicroseconds / reps:F2} us");
        var bias = new float[4 * n];
        sw.Restart();
        for (int q = 0; q < reps; q++) bias.AsSpan().CopyTo(gates);
        Console.WriteLine($"copy {4 * n}: {sw.Elapsed.TotalMicroseconds / reps:F2} us");
        var packed = new float[Kernels.Gemm.PackedBSize(128, 32)];
        sw.Restart();
        for (int q = 0; q < reps; q++) { Kernels.Gemm.PackB(c0, 32, false, 64, 32, 0, 128, packed); Kernels.Gemm.PackB(h, 32, false, 64, 32, 64, 128, packed); }
        Console.WriteLine($"packB 2x64x32: {sw.Elapsed.TotalMicroseconds / reps:F2} us");
        }
    }

    public static void TrainLoop(CellType cell) => Train(cell, 64, 30, 64, 2);

    public static void PredictLoop(CellType cell, int steps, int seconds)
    {
        var network = new ManagedNetwork(new NetworkOptions(cell, 1, 64, 2, 1), 1, 1);
        var output = new float[1];
        var window = new float[steps];
        var sw = Stopwatch.StartNew();
        long n = 0;
        while (sw.Elapsed.TotalSeconds < seconds) { network.Forward(window, 1, steps, output, false); n++; }
        Console.WriteLine($"{cell} T={steps}: {sw.Elapsed.TotalMicroseconds / n:F1} us");
    }

    public static void PredictSteps(CellType cell, int threads)
    {
        var network = new ManagedNetwork(new NetworkOptions(cell, 1, 64, 2, 1), 1, threads);
        // PROBE_PREDICT_BATCH windows per call (default 1; 2–4 take the narrow GEMM kernel).
        int windows = int.Parse(Environment.GetEnvironmentVariable("PROBE_PREDICT_BATCH") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var output = new float[windows];
        foreach (var steps in new[] { 1, 30 })
        {
            var window = new float[steps * windows];
            for (int i = 0; i < 20000; i++) network.Forward(window, windows, steps, output, false);
            var samples = new double[2000];
            for (int r = 0; r < samples.Length; r++)
            {
                long start = Stopwatch.GetTimestamp();
                network.Forward(window, windows, steps, output, false);
                samples[r] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
            Array.Sort(samples);
            Console.WriteLine($"{cell} threads={threads} predict {windows} window(s) T={steps}: median {samples[1000]:F1} us");
        }
    }

    public static void Breakdown(CellType cell, int threads, int hidden = 64, int lookback = 30, int batch = 64)
    {
        var network = new ManagedNetwork(new NetworkOptions(cell, 1, hidden, 2, 1), 1, threads);
        var inputs = new float[batch * lookback];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = MathF.Sin(i * 0.1f);
        var outputs = new float[batch];
        var d = new float[batch];
        Array.Fill(d, 0.01f);
        int reps = Math.Max(10, 200 * 64 * 64 * 30 / (hidden * hidden * lookback));
        for (int i = 0; i < reps / 4 + 2; i++) { network.Forward(inputs, batch, lookback, outputs, true); network.Backward(d); }
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) { network.MarkParametersChanged(); network.Forward(inputs, batch, lookback, outputs, true); }
        double forward = sw.Elapsed.TotalMilliseconds / reps;
        sw.Restart();
        for (int i = 0; i < reps; i++) network.Forward(inputs, batch, lookback, outputs, true);
        double unchanged = sw.Elapsed.TotalMilliseconds / reps;
        sw.Restart();
        for (int i = 0; i < reps; i++) network.Backward(d);
        double backward = sw.Elapsed.TotalMilliseconds / reps;
        Console.WriteLine($"{cell} 2x{hidden} L{lookback} B{batch} threads={threads}: forward {forward:F2} ms (weights unchanged {unchanged:F2}), backward {backward:F2} ms");
    }

    public static void Train(CellType cell, int hidden, int lookback, int batch, int threads)
    {
        var setup = new TrainingSetup(new LossOptions(), new AdamOptions());
        using var session = new ManagedSession(new ManagedNetwork(new NetworkOptions(cell, 1, hidden, 2, 1), 1, threads), setup);
        var inputs = new float[batch * lookback];
        var targets = new float[batch];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = MathF.Sin(i * 0.1f);
        for (int i = 0; i < 20; i++) session.TrainStep(inputs, targets, batch, lookback);
        if (Environment.GetEnvironmentVariable("PROBE_TRAIN_SECONDS") is { } secs)
        {
            var until = Stopwatch.StartNew();
            while (until.Elapsed.TotalSeconds < double.Parse(secs)) session.TrainStep(inputs, targets, batch, lookback);
            return;
        }
        int steps = Math.Max(20, 2_000_000 / (hidden * hidden * lookback * batch / 64));
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < steps; i++) session.TrainStep(inputs, targets, batch, lookback);
        double ms = sw.Elapsed.TotalMilliseconds / steps;
        var single = new float[lookback];
        var output = new float[1];
        for (int i = 0; i < 200; i++) session.Predict(single, 1, lookback, output);
        sw.Restart();
        for (int i = 0; i < 2000; i++) session.Predict(single, 1, lookback, output);
        double us = sw.Elapsed.TotalMicroseconds / 2000;
        Console.WriteLine($"{cell} 2x{hidden} L{lookback} B{batch} threads={threads}: {ms:F2} ms/step, {batch / ms * 1000:N0} samples/s; predict 1 window {us:F1} us");
    }
    /// <summary>
    /// Thread scaling of one training step (2 layers, 1 feature, MSE, Adam): the median of 5 rounds of at least 2 s each
    /// per point, threads 1..cores (powers of two and the core count), reference and large configs.
    /// </summary>
    public static void Scaling()
    {
        int cores = Environment.ProcessorCount;
        var counts = Enumerable.Range(0, 6).Select(i => 1 << i).Where(t => t < cores).Append(cores).Distinct().ToArray();
        Console.WriteLine($"cores {cores}");
        Console.WriteLine($"GEMM tiles {Kernels.Gemm.MR}x{Kernels.Gemm.NR} (512-bit kernels {Simd.Vector512Enabled}); runtime: Vector512.IsHardwareAccelerated {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}, AVX-512F {System.Runtime.Intrinsics.X86.Avx512F.IsSupported}");
        Console.WriteLine("| cell | config | threads | step ms | samples/s | speed-up vs 1 |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        // PROBE_CELL (Lstm or Gru) and PROBE_HIDDEN (64 or 256) keep one cell or config, as in probe-steps.
        foreach (var cell in new[] { CellType.Lstm, CellType.Gru }.Where(c => Environment.GetEnvironmentVariable("PROBE_CELL") is not { } only || only == c.ToString()))
            foreach (var (name, hidden, lookback, batch) in new[] { ("ref 2x64 L30 B64", 64, 30, 64), ("large 2x256 L64 B256", 256, 64, 256) }.Where(c => Environment.GetEnvironmentVariable("PROBE_HIDDEN") is not { } only || only == c.Item2.ToString()))
            {
                double one = 0;
                foreach (var threads in counts)
                {
                    double ms = ProbeSteps.MedianStepMilliseconds(cell, hidden, lookback, batch, threads);
                    if (threads == 1) one = ms;
                    Console.WriteLine($"| {cell} | {name} | {threads} | {ms:F2} | {batch / ms * 1000:N0} | {one / ms:F2}x |");
                }
            }
    }
}
