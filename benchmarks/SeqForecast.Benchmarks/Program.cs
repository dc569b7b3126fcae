using BenchmarkDotNet.Running;
using SeqForecast.Benchmarks;
using SeqForecast.Engine;

switch (args.FirstOrDefault())
{
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
    case "probe-narrow":
        Probe.Narrow();
        return;
    case "probe-breakdown":
        foreach (var threads in new[] { 1, 2 })
        {
            Probe.Breakdown(CellType.Lstm, threads);
            Probe.Breakdown(CellType.Gru, threads);
        }
        return;
    default:
        BenchmarkSwitcher.FromAssembly(typeof(Probe).Assembly).Run(args);
        return;
}
