using System.Collections.Concurrent;
using System.Globalization;
using SeqForecast.Engine;

namespace SeqForecast.LibTorch;

/// <summary>
/// Data-parallel training over a c10d process group (Gloo), launched the way <c>torchrun</c> launches: every process
/// runs the same program on the same data with the same seed, each computes its share of every training batch
/// (contiguous rows: rank r of W takes rows [B·r/W, B·(r+1)/W)), and the gradients are averaged over the group,
/// weighted by rows, before clipping and the optimizer step. Every rank then holds the same weights, equal to one
/// process training on the whole batch up to float rounding.
/// </summary>
/// <param name="Rank">This process's rank, 0 ≤ rank &lt; world size; rank 0 hosts the rendezvous.</param>
/// <param name="WorldSize">Number of processes in the group.</param>
/// <remarks>
/// Training must make the same calls in the same order on every rank: same data, seed and options. A wall-clock
/// <c>TimeLimit</c> can stop ranks at different steps; leave it unset. Validation, prediction and saving are local;
/// save the model from rank 0 only.
/// </remarks>
public sealed record DistributedOptions(int Rank, int WorldSize)
{
    /// <summary>Address of rank 0 (torchrun's <c>MASTER_ADDR</c>). Default 127.0.0.1.</summary>
    public string MasterAddress { get; init; } = "127.0.0.1";

    /// <summary>Port of the rendezvous store on rank 0 (torchrun's <c>MASTER_PORT</c>). Default 29500.</summary>
    public int MasterPort { get; init; } = 29500;

    /// <summary>
    /// Bound on the rendezvous and on every collective: a rank that dies, hangs or never starts ends the others' training
    /// with a <see cref="LibTorchException"/> after at most this long. Default 5 minutes.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Collective backend; "gloo", the only one the shim builds (CPU tensors, and CUDA tensors through the host).</summary>
    public string Backend { get; init; } = "gloo";

    /// <summary>True when a launcher set <c>WORLD_SIZE</c> (torchrun, a job scheduler, a script).</summary>
    public static bool IsLaunched => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WORLD_SIZE"));

    /// <summary>
    /// Reads torchrun's variables: <c>RANK</c>, <c>WORLD_SIZE</c>, <c>MASTER_ADDR</c> (default 127.0.0.1),
    /// <c>MASTER_PORT</c> (default 29500), and <c>SEQFORECAST_DIST_TIMEOUT_SECONDS</c> (default 300).
    /// </summary>
    /// <exception cref="InvalidOperationException">A variable is missing or not a number; the message names it.</exception>
    public static DistributedOptions FromEnvironment()
    {
        int Read(string name, int? fallback)
        {
            var text = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrWhiteSpace(text))
                return fallback ?? throw new InvalidOperationException($"environment variable {name} is not set; launch every process with RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT (as torchrun does)");
            return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                ? value
                : throw new InvalidOperationException($"environment variable {name} is '{text}'; it must be an integer");
        }
        var options = new DistributedOptions(Read("RANK", null), Read("WORLD_SIZE", null))
        {
            MasterAddress = Environment.GetEnvironmentVariable("MASTER_ADDR") is { Length: > 0 } address ? address : "127.0.0.1",
            MasterPort = Read("MASTER_PORT", 29500),
            Timeout = TimeSpan.FromSeconds(Read("SEQFORECAST_DIST_TIMEOUT_SECONDS", 300)),
        };
        options.Validate();
        return options;
    }

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of range; the message names it, its value and the rule.</exception>
    public void Validate()
    {
        if (WorldSize < 1) throw new ArgumentOutOfRangeException(nameof(WorldSize), WorldSize, $"world size ({WorldSize}) must be >= 1");
        if (Rank < 0 || Rank >= WorldSize) throw new ArgumentOutOfRangeException(nameof(Rank), Rank, $"rank ({Rank}) must be in [0, {WorldSize})");
        if (MasterPort is < 1 or > 65535) throw new ArgumentOutOfRangeException(nameof(MasterPort), MasterPort, $"master port ({MasterPort}) must be in [1, 65535]");
        if (string.IsNullOrWhiteSpace(MasterAddress)) throw new ArgumentException("master address must not be empty", nameof(MasterAddress));
        if (Timeout < TimeSpan.FromMilliseconds(1) || Timeout > TimeSpan.FromDays(1))
            throw new ArgumentOutOfRangeException(nameof(Timeout), Timeout, $"timeout ({Timeout}) must be between 1 ms and 1 day");
        if (Backend != "gloo") throw new ArgumentOutOfRangeException(nameof(Backend), Backend, $"backend ('{Backend}') must be \"gloo\"");
    }

    /// <summary>This rank's rows [start, end) of a batch of <paramref name="batch"/> rows.</summary>
    public (int Start, int End) Share(int batch) => ((int)((long)batch * Rank / WorldSize), (int)((long)batch * (Rank + 1) / WorldSize));
}

/// <summary>
/// A c10d process group over Gloo (TCP), joined the way <c>torchrun</c> launches: the group that
/// <see cref="LibTorchBackend.WithDistributed"/> trains libtorch sessions over, and an <see cref="IProcessGroup"/> the
/// managed engine trains over (<c>ManagedBackend.WithProcessGroup</c>), on one machine or many.
/// </summary>
/// <remarks>
/// One group per distinct <see cref="DistributedOptions"/> in a process, joined on first use and kept for the process's
/// life (c10d groups are not torn down one by one). Needs a shim built with Gloo's headers (docs/distributed.md).
/// </remarks>
public sealed unsafe class LibTorchProcessGroup : IProcessGroup
{
    private static readonly ConcurrentDictionary<DistributedOptions, Lazy<LibTorchProcessGroup>> Groups = new();
    private readonly IntPtr _handle;

    private LibTorchProcessGroup(DistributedOptions options)
    {
        Options = options;
        NativeMethods.Check(NativeMethods.sf_group_create(options.Backend, options.MasterAddress, options.MasterPort, options.Rank, options.WorldSize,
            (long)Math.Ceiling(options.Timeout.TotalMilliseconds), out _handle), $"joining the process group (rank {options.Rank} of {options.WorldSize} at {options.MasterAddress}:{options.MasterPort})");
    }

    /// <summary>How the group was joined.</summary>
    public DistributedOptions Options { get; }

    /// <inheritdoc />
    public int Rank => Options.Rank;

    /// <inheritdoc />
    public int WorldSize => Options.WorldSize;

    /// <summary>
    /// The group for <paramref name="options"/>. The first call in a process joins it, a collective that every rank
    /// makes: rank 0 hosts the rendezvous store, and the call returns once every rank has joined.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A field of <paramref name="options"/> is out of range.</exception>
    /// <exception cref="LibTorchException">The group could not be joined within <see cref="DistributedOptions.Timeout"/>
    /// (a rank never started, or the address or port is wrong), or the shim has no distributed support.</exception>
    public static LibTorchProcessGroup Join(DistributedOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return For(options);
    }

    /// <summary>The group for <paramref name="options"/> (validated by the caller); the first call joins it.</summary>
    internal static LibTorchProcessGroup For(DistributedOptions options)
    {
        var lazy = Groups.GetOrAdd(options, o => new Lazy<LibTorchProcessGroup>(() => new LibTorchProcessGroup(o), LazyThreadSafetyMode.ExecutionAndPublication));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Groups.TryRemove(new KeyValuePair<DistributedOptions, Lazy<LibTorchProcessGroup>>(options, lazy));
            throw;
        }
    }

    /// <inheritdoc />
    /// <exception cref="LibTorchException">Another rank failed, left or did not answer within
    /// <see cref="DistributedOptions.Timeout"/>; the message names this rank, the group's size and Gloo's reason.</exception>
    public void AllReduceSum(Span<double> values)
    {
        if (values.IsEmpty) return;
        fixed (double* v = values)
            NativeMethods.Check(NativeMethods.sf_group_allreduce_sum(_handle, v, values.Length), "the process group's all-reduce");
    }

    internal void Attach(ModelHandle model) => NativeMethods.Check(NativeMethods.sf_attach_group(model, _handle), "attaching the model to the process group");
}
