using SeqForecast.Engine.Kernels;
using SeqForecast.Training;

namespace SeqForecast.Engine.Managed;

/// <summary>The built-in, fully managed backend: SIMD kernels on the CPU, no native dependency.</summary>
/// <remarks>
/// Every managed network runs on one process-wide pool of worker threads, so models own no threads and need not be
/// disposed to release any. Its size is <see cref="WorkerThreads"/>.
/// </remarks>
/// <param name="threads">Most threads one call of a session uses (capped at <see cref="WorkerThreads"/>); 0 (default) uses the whole pool. Results are bit-identical for any value.</param>
public sealed class ManagedBackend(int threads = 0) : IBackend
{
    /// <summary>The managed backend on every worker thread.</summary>
    public static ManagedBackend Default { get; } = new();

    /// <summary>Threads requested (0: the whole pool).</summary>
    public int Threads { get; } = threads >= 0 ? threads : throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads ({threads}) must be >= 0");

    /// <summary>
    /// Size of the process-wide worker pool, the calling thread included. Default: the <c>SEQFORECAST_THREADS</c>
    /// environment variable, else <see cref="Environment.ProcessorCount"/>. It can be set until the first training or
    /// prediction starts the pool (and later only to the same value).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    /// <exception cref="InvalidOperationException">The pool already runs with another size.</exception>
    public static int WorkerThreads
    {
        get => WorkerPool.Shared.ThreadCount;
        set => WorkerPool.ConfigureShared(value);
    }

    /// <summary>
    /// Width in bits of the vectors this process's kernels run on: 512 where the CPU has AVX-512 (also where .NET
    /// itself prefers 256-bit vectors), 256 with AVX2 and FMA, 128 on Arm (NEON; the backward cell arithmetic
    /// is scalar there), 0 for the scalar fallback. <c>SEQFORECAST_VECTOR_BITS</c> (512, 256, 128 or 0) sets it.
    /// Fixed for the life of the process.
    /// </summary>
    public static int VectorBits => Kernels.Simd.VectorBits;

    /// <summary>
    /// The process group this backend's sessions train over (data parallelism across processes and machines), or null
    /// (default): one process. See <see cref="WithProcessGroup"/>.
    /// </summary>
    public IProcessGroup? ProcessGroup { get; private init; }

    /// <summary>
    /// This backend, with its sessions training over <paramref name="group"/>: every process of the group runs the same
    /// program on the same data, options and seed; each session takes rank 0's initial weights when it is created, each
    /// training step computes this process's share of the batch (whole micro-batches of 32 windows,
    /// contiguous: rank r of W takes micro-batches [C·r/W, C·(r+1)/W) of the batch's C; with fewer micro-batches than processes, rows [B·r/W, B·(r+1)/W)), and the
    /// gradients and loss are averaged over the group, weighted by rows, before clipping and the optimizer step. Every
    /// process then holds the same weights, equal to one process training on the whole batch up to float rounding
    /// (and with the same dropout masks, when the batch has at least as many micro-batches as the group has processes).
    /// Validation, prediction and saving are local.
    /// </summary>
    /// <remarks>
    /// Creating a session and every training step are collectives: every process must make them in the same order.
    /// Leave wall-clock limits (<c>TrainerOptions.TimeLimit</c>, <c>AutoForecasterOptions.TimeBudget</c>) unset, or
    /// processes may stop at different steps. Processes sharing a machine share its cores: give each a share with
    /// <c>threads</c> or <see cref="WorkerThreads"/>.
    /// </remarks>
    /// <exception cref="ArgumentNullException"><paramref name="group"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The group's world size is below 1, or its rank is outside [0, world size).</exception>
    public ManagedBackend WithProcessGroup(IProcessGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        int world = group.WorldSize, rank = group.Rank;
        if (world < 1) throw new ArgumentOutOfRangeException(nameof(group), world, $"the process group's world size ({world}) must be >= 1");
        if (rank < 0 || rank >= world) throw new ArgumentOutOfRangeException(nameof(group), rank, $"the process group's rank ({rank}) must be in [0, {world})");
        return new ManagedBackend(Threads) { ProcessGroup = group };
    }

    /// <inheritdoc />
    public string Name => "managed";

    /// <inheritdoc />
    /// <remarks>With a <see cref="ProcessGroup"/>, a collective: the session starts from rank 0's initial weights.</remarks>
    public INetworkSession CreateSession(NetworkOptions network, TrainingSetup training, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(training);
        network.Validate();
        training.Validate();
        SessionChecks.LossFits(network, training);
        return new ManagedSession(new ManagedNetwork(network, seed, Threads), training, ProcessGroup);
    }
}

/// <summary>A managed network with its optimizer and loss buffers. Thread safety as <see cref="INetworkSession"/> says.</summary>
internal sealed class ManagedSession : INetworkSession
{
    private readonly Optimizer _optimizer;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private AlignedBuffer _outputs = AlignedBuffer.Empty;
    private AlignedBuffer _dOutputs = AlignedBuffer.Empty;
    private readonly IProcessGroup? _group;
    private double[] _reduced = [];   // [parameters + 6]: rows·gradients, rows, rows·loss, batch, batch², time, time² (with a process group)
    private double _learningRate;
    private bool _disposed;

    /// <summary>A session; with <paramref name="group"/>, a collective that takes rank 0's initial weights.</summary>
    internal ManagedSession(ManagedNetwork network, TrainingSetup training, IProcessGroup? group = null)
    {
        Network = network;
        Training = training;
        _optimizer = training.Optimizer.Create(network.Layout.TotalLength);
        _learningRate = training.Optimizer.LearningRate;
        _group = group;
        if (group is not null) BroadcastParameters(group);
    }

    /// <summary>
    /// This process's share of a batch of <paramref name="batch"/> windows in a group of <paramref name="world"/>:
    /// rows [Start, End) and the index of its first micro-batch in the whole batch (which seeds its dropout masks).
    /// Whole micro-batches, contiguous, as even as they go, when there are at least as many as processes; otherwise
    /// contiguous rows, and the first micro-batch index is the rank (so no two processes draw the same masks).
    /// </summary>
    internal static (int Start, int End, int FirstChunk) Share(int batch, int rank, int world)
    {
        int chunks = (batch + ManagedNetwork.MicroBatch - 1) / ManagedNetwork.MicroBatch;
        if (chunks >= world)
        {
            int first = (int)((long)chunks * rank / world), last = (int)((long)chunks * (rank + 1) / world);
            return (first * ManagedNetwork.MicroBatch, Math.Min(last * ManagedNetwork.MicroBatch, batch), first);
        }
        return ((int)((long)batch * rank / world), (int)((long)batch * (rank + 1) / world), rank);
    }

    /// <summary>Every process takes rank 0's parameters: a sum in which the others contribute zeros (exact in float64).</summary>
    private void BroadcastParameters(IProcessGroup group)
    {
        var parameters = Network.MutableParameters;
        var values = new double[parameters.Length];
        if (group.Rank == 0)
            for (int i = 0; i < values.Length; i++) values[i] = parameters[i];
        group.AllReduceSum(values);
        for (int i = 0; i < values.Length; i++) parameters[i] = (float)values[i];
        Network.MarkParametersChanged();
    }

    /// <summary>
    /// Replaces this process's gradients (of the mean loss over its <paramref name="rows"/>) with the mean over the
    /// group's rows, and returns the group's mean loss: one all-reduce of [rows·gradients…, rows, rows·loss] in float64,
    /// with the batch and time steps and their squares, whose sums tell every process at once whether all passed the
    /// same shape (Σb = W·b and Σb² = W·b² hold on every process only when every b is the same).
    /// </summary>
    /// <exception cref="InvalidOperationException">The processes passed batches of different shapes; every process throws.</exception>
    private double AverageOverGroup(IProcessGroup group, int rows, double loss, int batch, int timeSteps)
    {
        var gradients = Network.MutableGradients;
        int n = gradients.Length;
        if (_reduced.Length != n + 6) _reduced = new double[n + 6];
        var values = _reduced;
        for (int i = 0; i < n; i++) values[i] = (double)rows * gradients[i];
        values[n] = rows;
        values[n + 1] = rows * loss;
        values[n + 2] = batch;
        values[n + 3] = (double)batch * batch;
        values[n + 4] = timeSteps;
        values[n + 5] = (double)timeSteps * timeSteps;
        group.AllReduceSum(values);
        int world = group.WorldSize;
        if (values[n + 2] != (double)world * batch || values[n + 3] != (double)world * batch * batch
            || values[n + 4] != (double)world * timeSteps || values[n + 5] != (double)world * timeSteps * timeSteps)
            throw new InvalidOperationException($"rank {group.Rank} of {world} passed a batch of {batch} windows × {timeSteps} steps, and the group's " +
                $"processes passed {values[n + 2]} windows and {values[n + 4]} steps in all; every process must pass the same whole batch (the weights are unchanged)");
        double total = values[n];
        for (int i = 0; i < n; i++) gradients[i] = (float)(values[i] / total);
        return values[n + 1] / total;
    }

    /// <summary>The underlying network (lower-level API).</summary>
    internal ManagedNetwork Network { get; }

    NetworkOptions INetworkSession.Network => Network.Options;

    /// <inheritdoc />
    public ParameterLayout Layout => Network.Layout;

    /// <inheritdoc />
    public TrainingSetup Training { get; }

    /// <inheritdoc />
    public double LearningRate
    {
        get => Volatile.Read(ref _learningRate);
        set
        {
            if (!(value > 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, $"learning rate ({value}) must be finite and > 0");
            Volatile.Write(ref _learningRate, value);
        }
    }

    /// <inheritdoc />
    /// <remarks>With a process group, every process passes the whole batch; each computes its share (see
    /// <see cref="ManagedBackend.WithProcessGroup"/>), and the returned loss is the mean over all rows.</remarks>
    public double TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, LossContext context = default)
    {
        SessionChecks.Inputs(Network.Options, inputs, batch, timeSteps);
        var truth = SessionChecks.Targets(Network.Options, Training, targets, batch);
        int rows = batch, firstChunk = 0;
        if (_group is { } group)
        {
            // This process's contiguous rows; the loss context is per row too (scale and offset per value, weight per window).
            (int start, int end, firstChunk) = Share(batch, group.Rank, group.WorldSize);
            rows = end - start;
            int stepFloats = timeSteps * Network.Options.InputSize, values = truth.Length / batch;
            inputs = inputs.Slice(start * stepFloats, rows * stepFloats);
            truth = truth.Slice(start * values, rows * values);
            if (!context.IsEmpty)
                context = new LossContext(context.Scale.Slice(start * values, rows * values), context.Offset.Slice(start * values, rows * values), context.Weight.Slice(start, rows));
        }
        EnterWrite();
        try
        {
            double loss = 0;
            Network.ZeroGradients();
            if (rows > 0)
            {
                var outputs = Outputs(rows, ref _outputs);
                var dOutputs = Outputs(rows, ref _dOutputs);
                Network.Forward(inputs, rows, timeSteps, outputs, training: true, firstChunk);
                loss = LossFunctions.Compute(Training.Loss, outputs, truth, context, dOutputs);
                Network.Backward(dOutputs);
            }
            else Network.SkipTrainingStep();
            if (_group is { } averaging) loss = AverageOverGroup(averaging, rows, loss, batch, timeSteps);
            if (Training.GradientClipNorm is { } clip) GradientClipping.ClipByGlobalNorm(Network.MutableGradients, clip);
            Network.ApplyOptimizer(_optimizer, LearningRate);
            return loss;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public double EvaluateLoss(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, LossContext context = default)
    {
        SessionChecks.Inputs(Network.Options, inputs, batch, timeSteps);
        var truth = SessionChecks.Targets(Network.Options, Training, targets, batch);
        EnterWrite();
        try
        {
            var outputs = Outputs(batch, ref _outputs);
            Network.Forward(inputs, batch, timeSteps, outputs, training: false);
            return LossFunctions.Compute(Training.Loss, outputs, truth, context, Span<float>.Empty);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs)
    {
        SessionChecks.Inputs(Network.Options, inputs, batch, timeSteps);
        SessionChecks.Outputs(Network.Options, outputs, batch);
        EnterRead();
        try
        {
            Network.Forward(inputs, batch, timeSteps, outputs, training: false);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public void CopyParametersTo(Span<float> destination)
    {
        if (destination.Length < Layout.TotalLength)
            throw new ArgumentException($"destination has {destination.Length} floats; the network has {Layout.TotalLength} parameters", nameof(destination));
        EnterRead();
        try
        {
            Network.Parameters.CopyTo(destination);
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public void LoadParameters(ReadOnlySpan<float> source)
    {
        EnterWrite();
        try
        {
            Network.SetParameters(source);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    /// <remarks>The session holds no threads or native memory; disposing it only makes later calls throw.</remarks>
    public void Dispose() => _disposed = true;

    private void EnterRead()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _lock.EnterReadLock();
    }

    private void EnterWrite()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        _lock.EnterWriteLock();
    }

    private Span<float> Outputs(int batch, ref AlignedBuffer buffer)
    {
        Buffers.Ensure(ref buffer, (long)batch * Network.Options.OutputSize);
        return buffer.AsSpan(0, batch * Network.Options.OutputSize);
    }
}
