using BenchmarkDotNet.Running;
using SeqForecast.Benchmarks;
using SeqForecast.Engine;

switch (args.FirstOrDefault())
{
    case "probe-gemm-blocking":
        Probe.GemmBlocking();
        return;
    case "probe-gemm":
        Probe.Gemm(1);
        Probe.Gemm(2);
        return;
    case "probe-train":
        foreach (var threads in new[] { 1, 2 })
        {
            Probe.Train(CellType.Lstm, 64, 30, 64, threads);
            Probe.Train(CellType.Gru, 64, 30, 64, threads);
        }
        Probe.Train(CellType.Lstm, 256, 64, 256, 2);
        Probe.Train(CellType.Gru, 256, 64, 256, 2);
        return;
    case "probe-predict":
        foreach (var threads in new[] { 1, 2 })
        {
            Probe.PredictSteps(CellType.Lstm, threads);
            Probe.PredictSteps(CellType.Gru, threads);
        }
        return;
    case "probe-layer":
        Probe.Layer(CellType.Lstm);
        Probe.Layer(CellType.Gru);
        Probe.Layer(CellType.Lstm, 64, 256, 256, 32);
        Probe.Layer(CellType.Gru, 64, 256, 256, 32);
        return;
    case "probe-layer-wide":
        // One layer's forward and backward at hidden 256 over batches of 1, 2 and 4 micro-batches' width: how much
        // a wider per-step product (W_hh reused across panels) would gain per window. Two rounds, to show the noise.
        for (int round = 0; round < 2; round++)
            foreach (var b in new[] { 32, 64, 128 })
            {
                Probe.Layer(CellType.Lstm, 64, 256, 256, b);
                Probe.Layer(CellType.Gru, 64, 256, 256, b);
            }
        return;
    case "probe-steps":
        ProbeSteps.Run(
            (Environment.GetEnvironmentVariable("PROBE_BATCHES") ?? "32,256").Split(',').Select(int.Parse).ToArray(),
            (Environment.GetEnvironmentVariable("PROBE_THREADS") ?? "1,2").Split(',').Select(int.Parse).ToArray());
        return;
    case "probe-scaling":
        Probe.Scaling();
        return;
    case "probe-ddp":
        ProbeDataParallel.Run();
        return;
    case "probe-builds":
        ProbeBuilds.Run(args.Length > 1 ? args[1] : throw new ArgumentException("probe-builds needs the other build's folder (the one holding its SeqForecast.dll)"));
        return;
    case "probe-fma":
        ProbeFma.Run();
        return;
    case "probe-cells":
        Probe.Cells();
        return;
    case "probe-predict-loop":
        Probe.PredictLoop(args[1] == "gru" ? CellType.Gru : CellType.Lstm, int.Parse(args[2]), int.Parse(args[3]));
        return;
    case "probe-train-loop":
        Probe.TrainLoop(args[1] == "gru" ? CellType.Gru : CellType.Lstm);
        return;
    case "probe-gemv":
        Probe.Gemv();
        return;
    case "probe-narrow":
        Probe.Narrow();
        return;
    case "probe-breakdown":
        // Forward and backward apart. PROBE_THREADS (default 1,2) and PROBE_BATCH (the hidden-256 config's batch,
        // default 32) let a many-core run put the large config at its benchmark batch of 256; PROBE_HIDDEN=256 skips
        // the hidden-64 config.
        int breakdownBatch = int.Parse(Environment.GetEnvironmentVariable("PROBE_BATCH") ?? "32");
        foreach (var threads in (Environment.GetEnvironmentVariable("PROBE_THREADS") ?? "1,2").Split(',').Select(int.Parse))
        {
            if (Environment.GetEnvironmentVariable("PROBE_HIDDEN") != "256")
            {
                Probe.Breakdown(CellType.Lstm, threads);
                Probe.Breakdown(CellType.Gru, threads);
            }
            Probe.Breakdown(CellType.Lstm, threads, 256, 64, breakdownBatch);
            Probe.Breakdown(CellType.Gru, threads, 256, 64, breakdownBatch);
        }
        return;
    default:
        BenchmarkSwitcher.FromAssembly(typeof(Probe).Assembly).Run(args);
        return;
}
