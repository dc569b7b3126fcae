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
    public static readonly NetworkConfig Gpu = new("gpu 2x256 L64 B1024", 256, 2, 64, 1024);

    /// <summary>The reference and large configs, and the GPU-sized one where libtorch sees a GPU.</summary>
    public static IEnumerable<NetworkConfig> All => BackendFactory.Available.Contains("libtorch-cuda") ? [Reference, Large, Gpu] : [Reference, Large];

    public override string ToString() => Name;
}

/// <summary>What the training and predict benchmarks share: the parameters and a session on the chosen backend.</summary>
public abstract class SessionBenchmark
{
    protected INetworkSession Session { get; private set; } = null!;

    protected float[] Inputs { get; private set; } = [];

    [ParamsAllValues]
    public CellType Cell { get; set; }

    [ParamsSource(nameof(Configs))]
    public NetworkConfig Config { get; set; } = NetworkConfig.Reference;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = "managed";

    public static IEnumerable<NetworkConfig> Configs() => NetworkConfig.All;

    public static IEnumerable<string> BackendNames() => BackendFactory.Available;

    /// <summary>Windows per operation: the batch for training, one for predict.</summary>
    protected abstract int Windows { get; }

    [GlobalSetup]
    public void Setup()
    {
        var network = new NetworkOptions(Cell, Config.Features, Config.Hidden, Config.Layers, 1);
        Session = BackendFactory.Create(Backend).CreateSession(network, new TrainingSetup(new LossOptions(), new AdamOptions()), 1);
        Inputs = new float[Windows * Config.Lookback * Config.Features];
        for (int i = 0; i < Inputs.Length; i++) Inputs[i] = MathF.Sin(i * 0.1f);
    }

    [GlobalCleanup]
    public void Cleanup() => Session.Dispose();
}

/// <summary>
/// One training step (forward, MSE loss, backward, Adam update) per operation. Throughput in samples/s is
/// batch / mean time; GFLOP/s counts 2 FLOPs per multiply-add of the forward pass, ×3 for forward plus backward.
/// </summary>
[MemoryDiagnoser]
public class TrainingBenchmarks : SessionBenchmark
{
    private float[] _targets = [];

    protected override int Windows => Config.Batch;

    [GlobalSetup(Target = nameof(TrainStep))]
    public void SetupTargets()
    {
        Setup();
        _targets = Enumerable.Range(0, Config.Batch).Select(i => MathF.Cos(i * 0.3f)).ToArray();
    }

    [Benchmark(Description = "train step")]
    public double TrainStep() => Session.TrainStep(Inputs, _targets, Config.Batch, Config.Lookback);
}

/// <summary>
/// One training step on windows kept on the device (<see cref="IResidentTraining"/>): the step gathers its batch by
/// index instead of uploading it. libtorch backends only (the managed engine reads host memory in place); set beside
/// <see cref="TrainingBenchmarks"/>, the difference is the per-step upload.
/// </summary>
[MemoryDiagnoser]
public class ResidentTrainingBenchmarks
{
    private INetworkSession _session = null!;
    private IResidentWindows _windows = null!;
    private int[] _indices = [];

    [ParamsAllValues]
    public CellType Cell { get; set; }

    [ParamsSource(nameof(Configs))]
    public NetworkConfig Config { get; set; } = NetworkConfig.Reference;

    [ParamsSource(nameof(BackendNames))]
    public string Backend { get; set; } = "libtorch-cpu";

    public static IEnumerable<NetworkConfig> Configs() => NetworkConfig.All;

    public static IEnumerable<string> BackendNames() => BackendFactory.Available.Where(name => name.StartsWith("libtorch", StringComparison.Ordinal));

    [GlobalSetup]
    public void Setup()
    {
        var network = new NetworkOptions(Cell, Config.Features, Config.Hidden, Config.Layers, 1);
        _session = BackendFactory.Create(Backend).CreateSession(network, new TrainingSetup(new LossOptions(), new AdamOptions()), 1);
        // Four batches' worth of windows, so each step gathers rows spread over the set, in a shuffled order.
        int windows = 4 * Config.Batch;
        _windows = ((IResidentTraining)_session).CreateResidentWindows(windows, Config.Lookback);
        var inputs = new float[windows * Config.Lookback * Config.Features];
        for (int i = 0; i < inputs.Length; i++) inputs[i] = MathF.Sin(i * 0.1f);
        var targets = Enumerable.Range(0, windows).Select(i => MathF.Cos(i * 0.3f)).ToArray();
        _windows.Write(0, inputs, targets, windows);
        _indices = Enumerable.Range(0, windows).OrderBy(i => (i * 7919) % windows).Take(Config.Batch).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _windows.Dispose();
        _session.Dispose();
    }

    [Benchmark(Description = "train step, resident windows")]
    public double TrainStep() => ((IResidentTraining)_session).TrainStep(_windows, _indices);
}

/// <summary>Latency of forecasting one window (batch of one).</summary>
[MemoryDiagnoser]
public class PredictBenchmarks : SessionBenchmark
{
    private readonly float[] _output = new float[1];

    protected override int Windows => 1;

    [Benchmark(Description = "predict one window")]
    public float Predict()
    {
        Session.Predict(Inputs, 1, Config.Lookback, _output);
        return _output[0];
    }
}

/// <summary>
/// The backends benchmarks run on: the managed engine always, libtorch on the CPU where the shim loads, and libtorch on
/// CUDA where a GPU is visible, in float32 and in its two precision modes (TF32, mixed float16). SEQFORECAST_BENCH_BACKENDS
/// (a comma-separated list of these names) keeps only those named; libtorch-cpu-mixed (bfloat16 on the CPU) runs only
/// when named there.
/// </summary>
public static class BackendFactory
{
    private const string CpuMixed = "libtorch-cpu-mixed";

    public static IEnumerable<string> Available
    {
        get
        {
            var only = Environment.GetEnvironmentVariable("SEQFORECAST_BENCH_BACKENDS")?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return only is { Length: > 0 } ? Detected().Where(only.Contains) : Detected().Where(name => name != CpuMixed);
        }
    }

    private static IEnumerable<string> Detected()
    {
        yield return "managed";
        if (!SeqForecast.LibTorch.LibTorchBackend.TryLoad(out _)) yield break;
        yield return "libtorch-cpu";
        yield return CpuMixed;
        if (SeqForecast.LibTorch.LibTorchBackend.CudaDeviceCount == 0) yield break;
        yield return "libtorch-cuda";
        yield return "libtorch-cuda-tf32";
        yield return "libtorch-cuda-mixed";
    }

    public static IBackend Create(string name) => name switch
    {
        "managed" => ManagedBackend.Default,
        "libtorch-cpu" => SeqForecast.LibTorch.LibTorchBackend.Cpu(1),
        CpuMixed => SeqForecast.LibTorch.LibTorchBackend.Cpu(1).WithPrecision(SeqForecast.LibTorch.LibTorchPrecision.Mixed),
        "libtorch-cuda" => SeqForecast.LibTorch.LibTorchBackend.Cuda(),
        "libtorch-cuda-tf32" => SeqForecast.LibTorch.LibTorchBackend.Cuda().WithPrecision(SeqForecast.LibTorch.LibTorchPrecision.Tf32),
        "libtorch-cuda-mixed" => SeqForecast.LibTorch.LibTorchBackend.Cuda().WithPrecision(SeqForecast.LibTorch.LibTorchPrecision.Mixed),
        _ => throw new ArgumentException($"backend '{name}' is unknown"),
    };
}

/// <summary>
/// One training step of a single 32-window micro-batch on the managed engine at 1 and 2 threads: with two threads the
/// micro-batch runs on a team of two (GEMM rows and hidden units split, two syncs a time step).
/// </summary>
[MemoryDiagnoser]
public class TeamBenchmarks
{
    private INetworkSession _session = null!;
    private float[] _inputs = [], _targets = [];

    [ParamsAllValues]
    public CellType Cell { get; set; }

    [Params(64, 256)]
    public int Hidden { get; set; }

    [Params(1, 2)]
    public int Threads { get; set; }

    private int Lookback => Hidden == 64 ? 30 : 64;

    [GlobalSetup]
    public void Setup()
    {
        const int batch = ManagedNetwork.MicroBatch;
        _session = new ManagedBackend(Threads).CreateSession(new NetworkOptions(Cell, 1, Hidden, 2, 1), new TrainingSetup(new LossOptions(), new AdamOptions()), 1);
        _inputs = new float[batch * Lookback];
        for (int i = 0; i < _inputs.Length; i++) _inputs[i] = MathF.Sin(i * 0.1f);
        _targets = Enumerable.Range(0, batch).Select(i => MathF.Cos(i * 0.3f)).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark(Description = "train step, batch 32")]
    public double TrainStep() => _session.TrainStep(_inputs, _targets, ManagedNetwork.MicroBatch, Lookback);
}
