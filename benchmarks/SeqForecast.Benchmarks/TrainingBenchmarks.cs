using BenchmarkDotNet.Attributes;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Training;

namespace SeqForecast.Benchmarks;

/// <summary>A benchmark configuration: network shape and batch.</summary>
public sealed record NetworkConfig(string Name, int Hidden, int Layers, int Lookback, int Batch, int Features = 1)
{
    public static readonly NetworkConfig Reference = new("reference 2x64 L30 B64", 64, 2, 30, 64);
    public static readonly NetworkConfig Large = new("large 2x256 L64 B256", 256, 2, 64, 256);

    public override string ToString() => Name;
}

/// <summary>
/// One training step (forward, MSE loss, backward, Adam update) per operation. Throughput in samples/s is
/// batch / mean time; GFLOP/s counts 2 FLOPs per multiply-add of the forward pass, ×3 for forward plus backward.
/// </summary>
[MemoryDiagnoser]
public class TrainingBenchmarks
{
    private INetworkSession _session = null!;
    private float[] _inputs = [];
    private float[] _targets = [];

    [ParamsAllValues]
    public CellType Cell { get; set; }

    [ParamsSource(nameof(Configs))]
    public NetworkConfig Config { get; set; } = NetworkConfig.Reference;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = "managed";

    public static IEnumerable<NetworkConfig> Configs() => [NetworkConfig.Reference, NetworkConfig.Large];

    public static IEnumerable<string> BackendNames() => BackendFactory.Available;

    [GlobalSetup]
    public void Setup()
    {
        var network = new NetworkOptions(Cell, Config.Features, Config.Hidden, Config.Layers, 1);
        _session = BackendFactory.Create(Backend).CreateSession(network, new TrainingSetup(new LossOptions(), new AdamOptions()), 1);
        _inputs = new float[Config.Batch * Config.Lookback * Config.Features];
        _targets = new float[Config.Batch];
        for (int i = 0; i < _inputs.Length; i++) _inputs[i] = MathF.Sin(i * 0.1f);
        for (int i = 0; i < _targets.Length; i++) _targets[i] = MathF.Cos(i * 0.3f);
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark(Description = "train step")]
    public double TrainStep() => _session.TrainStep(_inputs, _targets, Config.Batch, Config.Lookback);
}

/// <summary>Latency of forecasting one window (batch of one).</summary>
[MemoryDiagnoser]
public class PredictBenchmarks
{
    private INetworkSession _session = null!;
    private float[] _window = [];
    private readonly float[] _output = new float[1];

    [ParamsAllValues]
    public CellType Cell { get; set; }

    [ParamsSource(nameof(Configs))]
    public NetworkConfig Config { get; set; } = NetworkConfig.Reference;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = "managed";

    public static IEnumerable<NetworkConfig> Configs() => [NetworkConfig.Reference, NetworkConfig.Large];

    public static IEnumerable<string> BackendNames() => BackendFactory.Available;

    [GlobalSetup]
    public void Setup()
    {
        var network = new NetworkOptions(Cell, Config.Features, Config.Hidden, Config.Layers, 1);
        _session = BackendFactory.Create(Backend).CreateSession(network, new TrainingSetup(new LossOptions(), new AdamOptions()), 1);
        _window = new float[Config.Lookback * Config.Features];
        for (int i = 0; i < _window.Length; i++) _window[i] = MathF.Sin(i * 0.1f);
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark(Description = "predict one window")]
    public float Predict()
    {
        _session.Predict(_window, 1, Config.Lookback, _output);
        return _output[0];
    }
}

/// <summary>
/// The backends benchmarks run on: the managed engine always, libtorch on the CPU where the shim loads, and libtorch on
/// CUDA where a GPU is visible.
/// </summary>
public static class BackendFactory
{
    public static IEnumerable<string> Available
    {
        get
        {
            yield return "managed";
            if (!SeqForecast.LibTorch.LibTorchBackend.TryLoad(out _)) yield break;
            yield return "libtorch-cpu";
            if (SeqForecast.LibTorch.LibTorchBackend.CudaDeviceCount > 0) yield return "libtorch-cuda";
        }
    }

    public static IBackend Create(string name) => name switch
    {
        "managed" => ManagedBackend.Default,
        "libtorch-cpu" => SeqForecast.LibTorch.LibTorchBackend.Cpu(1),
        "libtorch-cuda" => SeqForecast.LibTorch.LibTorchBackend.Cuda(),
        _ => throw new ArgumentException($"backend '{name}' is unknown"),
    };
}
