using BenchmarkDotNet.Attributes;
using SeqForecast.Data;
using SeqForecast.Windows;

namespace SeqForecast.Benchmarks;

/// <summary>
/// Memory of a window dataset over 1,000 series of 1,100 days (1,000,000 windows of lookback 30 + horizon 7 with stride
/// 1): building it, and one shuffled epoch of batches of 64. The documented bound is
/// 4·Σpoints·(F + T) + 4·windows + 4·B·(L·F + H·T) bytes, independent of how many windows overlap.
/// </summary>
[MemoryDiagnoser]
public class WindowDatasetBenchmarks
{
    private TimeSeries[] _series = [];
    private WindowDataset _dataset = null!;

    [GlobalSetup]
    public void Setup()
    {
        _series = Enumerable.Range(0, 1000).Select(s => TimeSeries.FromValues($"s{s}", Enumerable.Range(0, 1036).Select(t => Math.Sin(t * 0.1 + s)).ToArray())).ToArray();
        _dataset = WindowDataset.Create(_series, new WindowSpec(30, 7));
        if (_dataset.Count != 1_000_000) throw new InvalidOperationException($"expected 1,000,000 windows, got {_dataset.Count}");
    }

    [Benchmark(Description = "create 1M-window dataset")]
    public int Create() => WindowDataset.Create(_series, new WindowSpec(30, 7)).Count;

    [Benchmark(Description = "one shuffled epoch, batch 64")]
    public double Epoch()
    {
        double sum = 0;
        foreach (var batch in _dataset.Batches(64, shuffle: true, seed: 1)) sum += batch.Targets[0];
        return sum;
    }
}
