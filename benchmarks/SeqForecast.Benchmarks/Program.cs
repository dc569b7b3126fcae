using BenchmarkDotNet.Running;
using SeqForecast.Benchmarks;

if (args.Length > 0 && args[0] == "probe-gemm")
{
    Probe.Gemm(1);
    Probe.Gemm(2);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Probe).Assembly).Run(args);
