using SeqForecast.Engine;
using SeqForecast.Training;

namespace SeqForecast.LibTorch;

/// <summary>A libtorch device: "cpu" or "cuda:N".</summary>
/// <param name="Name">libtorch's device string.</param>
public readonly record struct LibTorchDevice(string Name)
{
    /// <summary>The CPU.</summary>
    public static LibTorchDevice Cpu => new("cpu");

    /// <summary>CUDA device <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is negative.</exception>
    public static LibTorchDevice Cuda(int index = 0) => index >= 0 ? new($"cuda:{index}") : throw new ArgumentOutOfRangeException(nameof(index), index, $"CUDA device index ({index}) must be >= 0");

    /// <summary>True for CUDA devices.</summary>
    public bool IsCuda => Name.StartsWith("cuda", StringComparison.Ordinal);

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>
/// The libtorch backend: the same networks (torch::nn::LSTM/GRU, batch_first, dropout between layers, Linear head) and
/// the same training setup, run by libtorch on the CPU or a CUDA GPU. Selecting it is one option:
/// <c>Backend = LibTorchBackend.Cpu()</c> or <c>LibTorchBackend.Cuda()</c>.
/// </summary>
/// <remarks>
/// Sessions start from <see cref="ParameterInitializer"/>'s weights for the seed, as the managed engine does, and
/// parameters move in and out under their PyTorch names, so weights trained here load into the managed engine and back.
/// The seed also seeds libtorch's generator (dropout masks), whose stream differs from the managed engine's. Each
/// session keeps its own generator state, so its masks depend on its seed and steps only, not on other sessions
/// created or trained in between or at the same time (training passes of sessions with dropout take turns on the
/// process-wide generator).
/// </remarks>
public sealed class LibTorchBackend : IBackend
{
    /// <summary>Creates a backend on <paramref name="device"/>.</summary>
    /// <param name="device">cpu or cuda:N.</param>
    /// <param name="threads">libtorch intra-op threads; 0 keeps libtorch's default.</param>
    public LibTorchBackend(LibTorchDevice device, int threads = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        ArgumentException.ThrowIfNullOrWhiteSpace(device.Name, nameof(device));
        Device = device;
        Threads = threads;
    }

    /// <summary>libtorch on the CPU.</summary>
    public static LibTorchBackend Cpu(int threads = 0) => new(LibTorchDevice.Cpu, threads);

    /// <summary>libtorch on CUDA device <paramref name="index"/>.</summary>
    public static LibTorchBackend Cuda(int index = 0) => new(LibTorchDevice.Cuda(index));

    /// <summary>The device.</summary>
    public LibTorchDevice Device { get; }

    /// <summary>Intra-op threads (0: libtorch's default).</summary>
    public int Threads { get; }

    /// <summary>Data-parallel training over a process group, or null for a single process.</summary>
    public DistributedOptions? Distributed { get; private init; }

    /// <summary>How sessions compute (<see cref="LibTorchPrecision.Float32"/> unless <see cref="WithPrecision"/> says otherwise).</summary>
    public LibTorchPrecision Precision { get; private init; } = LibTorchPrecision.Float32;

    /// <summary>The loss scaling of <see cref="LibTorchPrecision.Mixed"/> sessions.</summary>
    public LossScaling LossScaling { get; private init; } = new();

    /// <summary>
    /// Most bytes of training windows (inputs and targets, float32) a session keeps on its device, so that a training
    /// step uploads only the batch's window indices (<see cref="IResidentTraining"/>; the <see cref="Training.Trainer"/>
    /// uses it when the whole training set fits). Default: <see cref="DefaultCudaResidentBytes"/> on CUDA, 0 (off) on
    /// the CPU, where a step reads the host batch in place. Set with <see cref="WithResidentWindows"/>.
    /// </summary>
    public long ResidentWindowBytes => ResidentOverride ?? (Device.IsCuda ? DefaultCudaResidentBytes : 0);

    private long? ResidentOverride { get; init; }

    /// <summary>The default <see cref="ResidentWindowBytes"/> on CUDA devices: 2 GiB.</summary>
    public const long DefaultCudaResidentBytes = 2L << 30;

    /// <summary>
    /// This backend keeping up to <paramref name="maxBytes"/> of training windows on the device (0 turns it off). The
    /// windows of a training set take windows × (lookback × features + outputs) × 4 bytes.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBytes"/> is negative.</exception>
    public LibTorchBackend WithResidentWindows(long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        return With(Distributed, Precision, LossScaling, maxBytes);
    }

    /// <summary>Adam/AdamW as one multi-tensor update: null on CUDA only (the shim's default), or always / never (tests).</summary>
    internal bool? MultiTensorAdam { get; init; }

    /// <summary>
    /// This backend with data-parallel training over the process group <paramref name="options"/> describes (for example
    /// <see cref="DistributedOptions.FromEnvironment"/> under torchrun or a job scheduler). Sessions join the group when
    /// created: start every rank, or creation fails after <see cref="DistributedOptions.Timeout"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public LibTorchBackend WithDistributed(DistributedOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return With(options, Precision, LossScaling, ResidentOverride);
    }

    /// <summary>
    /// This backend computing in <paramref name="precision"/>: <see cref="LibTorchPrecision.Tf32"/> (CUDA only) or
    /// <see cref="LibTorchPrecision.Mixed"/> with <paramref name="scaling"/> (GradScaler's defaults when null). Weights
    /// stay float32, so a model trained in either mode saves, loads and serves like any other.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="precision"/> is not a mode, TF32 is asked of a CPU
    /// device, or a loss-scaling field is out of range.</exception>
    public LibTorchBackend WithPrecision(LibTorchPrecision precision, LossScaling? scaling = null)
    {
        if (!Enum.IsDefined(precision))
            throw new ArgumentOutOfRangeException(nameof(precision), precision, $"precision ({(int)precision}) must be Float32, Tf32 or Mixed");
        if (precision == LibTorchPrecision.Tf32 && !Device.IsCuda)
            throw new ArgumentOutOfRangeException(nameof(precision), precision, $"precision Tf32 runs on CUDA tensor cores only; device {Device} computes in float32 (use Float32 or Mixed)");
        scaling ??= new LossScaling();
        scaling.Validate();
        return With(Distributed, precision, scaling, ResidentOverride);
    }

    private LibTorchBackend With(DistributedOptions? distributed, LibTorchPrecision precision, LossScaling scaling, long? resident) =>
        new(Device, Threads) { Distributed = distributed, Precision = precision, LossScaling = scaling, MultiTensorAdam = MultiTensorAdam, ResidentOverride = resident };

    /// <inheritdoc />
    public string Name => Precision == LibTorchPrecision.Float32 ? $"libtorch-{Device}" : $"libtorch-{Device}-{Precision.ToString().ToLowerInvariant()}";

    /// <summary>The libtorch version the shim was built against.</summary>
    /// <exception cref="LibTorchUnavailableException">The shim or libtorch is missing.</exception>
    public static Version LibTorchVersion
    {
        get
        {
            NativeMethods.Check(NativeMethods.sf_version(out var major, out var minor, out var patch), "version");
            return new Version(major, minor, patch);
        }
    }

    /// <summary>CUDA devices libtorch can see (0 for a CPU-only libtorch).</summary>
    /// <exception cref="LibTorchUnavailableException">The shim or libtorch is missing.</exception>
    public static int CudaDeviceCount
    {
        get
        {
            NativeMethods.Check(NativeMethods.sf_cuda_device_count(out var count), "CUDA device count");
            return count;
        }
    }

    /// <summary>Tries to load the shim and libtorch; returns false with the reason (what to install) when it cannot.</summary>
    public static bool TryLoad(out string reason)
    {
        try
        {
            reason = $"libtorch {LibTorchVersion}";
            return true;
        }
        catch (LibTorchUnavailableException ex)
        {
            reason = ex.Message;
            return false;
        }
    }

    /// <inheritdoc />
    /// <exception cref="LibTorchUnavailableException">The shim, libtorch or the CUDA device is not available.</exception>
    /// <exception cref="LibTorchException">libtorch rejected the model.</exception>
    public INetworkSession CreateSession(NetworkOptions network, TrainingSetup training, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(training);
        network.Validate();
        training.Validate();
        if (network.OutputSize % training.Loss.OutputsPerValue != 0)
            throw new ArgumentException($"the network has {network.OutputSize} outputs; the {training.Loss.Kind} loss with {training.Loss.OutputsPerValue} quantile levels needs a multiple of {training.Loss.OutputsPerValue}", nameof(training));
        if (Device.IsCuda)
        {
            int devices = CudaDeviceCount;
            if (devices == 0)
                throw new LibTorchUnavailableException($"CUDA is not available: libtorch {LibTorchVersion} sees no CUDA device (a CPU-only libtorch, no GPU, or no driver); use LibTorchBackend.Cpu() or the managed backend");
        }
        if (Threads > 0) NativeMethods.Check(NativeMethods.sf_set_threads(Threads), "set threads");
        NativeMethods.Check(NativeMethods.sf_manual_seed(seed), "manual seed");
        var options = ToNative(network, training);
        options.Precision = (int)Precision;
        options.LossScale = LossScaling.InitialScale;
        options.ScaleGrowth = LossScaling.GrowthFactor;
        options.ScaleBackoff = LossScaling.BackoffFactor;
        options.GrowthInterval = LossScaling.GrowthInterval;
        options.MultiTensorAdam = MultiTensorAdam switch { null => 0, false => 1, true => 2 };
        NativeMethods.Check(NativeMethods.sf_create(options, Device.Name, out var pointer), $"creating the model on {Device}");
        var session = new LibTorchSession(ModelHandle.Wrap(pointer), network, training, ResidentWindowBytes);
        try
        {
            var initial = new float[session.Layout.TotalLength];
            ParameterInitializer.Initialize(network, seed, initial);
            session.LoadParameters(initial);
            if (Distributed is { } distributed) session.Join(LibTorchProcessGroup.For(distributed));
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static NativeModelOptions ToNative(NetworkOptions network, TrainingSetup training)
    {
        var options = new NativeModelOptions
        {
            Cell = network.Cell == CellType.Lstm ? 0 : 1,
            InputSize = network.InputSize,
            HiddenSize = network.HiddenSize,
            Layers = network.Layers,
            OutputSize = network.OutputSize,
            Dropout = network.Dropout,
            // Losses the shim computes itself; every other loss runs as forward, managed loss, backward (see LibTorchSession).
            Loss = training.Loss.Kind switch { LossKind.Mae => 1, LossKind.Huber => 2, _ => 0 },
            HuberDelta = training.Loss.HuberDelta,
            LearningRate = training.Optimizer.LearningRate,
            WeightDecay = training.Optimizer.WeightDecay,
            ClipNorm = training.GradientClipNorm ?? 0,
        };
        switch (training.Optimizer)
        {
            case AdamOptions adam:
                options.Optimizer = adam is AdamWOptions ? 1 : 0;
                options.Beta1 = adam.Beta1;
                options.Beta2 = adam.Beta2;
                options.Epsilon = adam.Epsilon;
                break;
            case SgdOptions sgd:
                options.Optimizer = 2;
                options.Momentum = sgd.Momentum;
                options.Dampening = sgd.Dampening;
                options.Nesterov = sgd.Nesterov ? 1 : 0;
                break;
            default:
                throw new ArgumentException($"optimizer {training.Optimizer.GetType().Name} is not supported by the libtorch backend", nameof(training));
        }
        return options;
    }
}
