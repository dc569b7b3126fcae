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

    /// <inheritdoc />
    public string Name => "managed";

    /// <inheritdoc />
    public INetworkSession CreateSession(NetworkOptions network, TrainingSetup training, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(training);
        network.Validate();
        training.Validate();
        SessionChecks.LossFits(network, training);
        return new ManagedSession(new ManagedNetwork(network, seed, Threads), training);
    }
}

/// <summary>A managed network with its optimizer and loss buffers. Thread safety as <see cref="INetworkSession"/> says.</summary>
internal sealed class ManagedSession : INetworkSession
{
    private readonly Optimizer _optimizer;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private AlignedBuffer _outputs = AlignedBuffer.Empty;
    private AlignedBuffer _dOutputs = AlignedBuffer.Empty;
    private double _learningRate;
    private bool _disposed;

    internal ManagedSession(ManagedNetwork network, TrainingSetup training)
    {
        Network = network;
        Training = training;
        _optimizer = training.Optimizer.Create(network.Layout.TotalLength);
        _learningRate = training.Optimizer.LearningRate;
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
    public double TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, LossContext context = default)
    {
        SessionChecks.Inputs(Network.Options, inputs, batch, timeSteps);
        var truth = SessionChecks.Targets(Network.Options, Training, targets, batch);
        EnterWrite();
        try
        {
            var outputs = Outputs(batch, ref _outputs);
            var dOutputs = Outputs(batch, ref _dOutputs);
            Network.Forward(inputs, batch, timeSteps, outputs, training: true);
            double loss = LossFunctions.Compute(Training.Loss, outputs, truth, context, dOutputs);
            Network.ZeroGradients();
            Network.Backward(dOutputs);
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
