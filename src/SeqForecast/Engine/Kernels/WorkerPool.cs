using System.Diagnostics;

namespace SeqForecast.Engine.Kernels;

/// <summary>A unit of work split into <c>parts</c> pieces; piece <c>part</c> runs on one thread.</summary>
internal interface IParallelWork
{
    void Execute(int part, int parts);
}

/// <summary>
/// Worker threads for short, frequent parallel regions. One process-wide pool (<see cref="Shared"/>) serves every
/// model, so creating models creates no threads. Run allocates nothing: the caller keeps its
/// <see cref="IParallelWork"/> object and refills it.
/// </summary>
/// <remarks>
/// <para>One region runs at a time. A caller that finds the pool busy (another model, or another thread of the same
/// model) runs its whole region on its own thread instead of waiting: every kernel that runs here partitions its output
/// on fixed boundaries and computes each output element in one fixed order, so the result is the same bits whichever
/// threads ran it.</para>
/// <para>Idle workers spin for at most <see cref="SpinMicroseconds"/> after a region, then sleep on a semaphore, so an
/// idle pool costs no CPU.</para>
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>How long an idle worker spins before it sleeps.</summary>
    public const int SpinMicroseconds = 50;

    private static readonly long SpinTicks = Math.Max(1, Stopwatch.Frequency * SpinMicroseconds / 1_000_000);
    private static readonly object SharedGate = new();
    private static WorkerPool? _shared;
    private static int _configuredThreads;

    private readonly Thread?[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private readonly object _startGate = new();
    private IParallelWork? _work;
    private int _parts;
    private int _generation;
    private int _pending;
    private int _busy;
    private volatile bool _disposed;
    private Exception? _failure;

    /// <summary>Creates a pool that runs regions on up to <paramref name="threadCount"/> threads, the caller's included. Workers start on first use.</summary>
    public WorkerPool(int threadCount)
    {
        if (threadCount < 1)
            throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, $"thread count ({threadCount}) must be >= 1");
        ThreadCount = threadCount;
        _threads = new Thread?[threadCount - 1];
        _wake = new SemaphoreSlim[threadCount - 1];
        _sleeping = new int[threadCount - 1];
        for (int i = 0; i < _wake.Length; i++) _wake[i] = new SemaphoreSlim(0);
    }

    /// <summary>
    /// The process-wide pool: <see cref="ConfigureShared"/>'s size, else the <c>SEQFORECAST_THREADS</c> environment
    /// variable, else <see cref="Environment.ProcessorCount"/>.
    /// </summary>
    public static WorkerPool Shared
    {
        get
        {
            var pool = Volatile.Read(ref _shared);
            if (pool is not null) return pool;
            lock (SharedGate)
            {
                _shared ??= new WorkerPool(_configuredThreads > 0 ? _configuredThreads : DefaultThreads());
                return _shared;
            }
        }
    }

    /// <summary>True once <see cref="Shared"/> has been created.</summary>
    public static bool SharedCreated => Volatile.Read(ref _shared) is not null;

    /// <summary>Sets the size of <see cref="Shared"/>; allowed until it is first used, or again with the same size.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threads"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">The shared pool already exists with another size.</exception>
    public static void ConfigureShared(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, $"worker threads ({threads}) must be >= 1");
        lock (SharedGate)
        {
            if (_shared is { } existing && existing.ThreadCount != threads)
                throw new InvalidOperationException($"the shared worker pool already runs {existing.ThreadCount} threads; set its size ({threads}) before the first training or prediction");
            _configuredThreads = threads;
        }
    }

    private static int DefaultThreads()
    {
        var text = Environment.GetEnvironmentVariable("SEQFORECAST_THREADS");
        return int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1
            ? n
            : Environment.ProcessorCount;
    }

    /// <summary>Threads a region can run on, the caller's included.</summary>
    public int ThreadCount { get; }

    /// <summary>Worker threads started so far (they start on first use).</summary>
    public int StartedThreads => _threads.Count(t => t is not null);

    /// <summary>
    /// Runs <paramref name="work"/> as <c>min(parts, ThreadCount)</c> parts and returns when all are done. When the pool
    /// is busy with another region, the whole region runs on the caller's thread as one part.
    /// </summary>
    public void Run(IParallelWork work, int parts)
    {
        parts = Math.Min(parts, ThreadCount);
        if (parts <= 1 || _disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            work.Execute(0, 1);
            return;
        }
        try
        {
            EnsureStarted(parts - 1);
            _work = work;
            _parts = parts;
            _failure = null;
            Volatile.Write(ref _pending, parts - 1);
            Interlocked.Increment(ref _generation);
            for (int i = 0; i < parts - 1; i++)
                if (Interlocked.CompareExchange(ref _sleeping[i], 0, 1) == 1)
                    _wake[i].Release();
            Exception? own = null;
            try
            {
                work.Execute(0, parts);
            }
            catch (Exception ex)
            {
                own = ex;
            }
            var spinner = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spinner.SpinOnce(sleep1Threshold: -1);
            _work = null;
            if (own is not null) throw own;
            if (_failure is { } failure)
                throw new InvalidOperationException("a worker thread failed", failure);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Runs <paramref name="work"/> on every thread of the pool.</summary>
    public void Run(IParallelWork work) => Run(work, ThreadCount);

    private void EnsureStarted(int workers)
    {
        if (workers == 0 || _threads[workers - 1] is not null) return;
        lock (_startGate)
        {
            for (int i = 0; i < workers; i++)
            {
                if (_threads[i] is not null) continue;
                int index = i;
                // A worker starts asleep-ready: it has seen the current generation and waits for the next one.
                int seen = Volatile.Read(ref _generation);
                var thread = new Thread(() => WorkerLoop(index, seen)) { IsBackground = true, Name = $"SeqForecast worker {i + 1}" };
                thread.Start();
                _threads[i] = thread;
            }
        }
    }

    private void WorkerLoop(int index, int seen)
    {
        while (true)
        {
            long spinStart = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen)
            {
                if (_disposed) return;
                if (Stopwatch.GetTimestamp() - spinStart < SpinTicks)
                {
                    Thread.SpinWait(16);
                    continue;
                }
                Interlocked.Exchange(ref _sleeping[index], 1);
                if (Volatile.Read(ref _generation) != seen || _disposed)
                {
                    // The caller may have taken the flag and released the semaphore already: consume that release.
                    if (Interlocked.CompareExchange(ref _sleeping[index], 0, 1) != 1) _wake[index].Wait();
                    break;
                }
                _wake[index].Wait();
                spinStart = Stopwatch.GetTimestamp();
            }
            if (_disposed) return;
            seen = Volatile.Read(ref _generation);
            // A region may use fewer parts than there are workers; the others go back to sleep.
            if (index + 1 >= _parts) continue;
            try
            {
                _work!.Execute(index + 1, _parts);
            }
            catch (Exception ex)
            {
                _failure = ex;
            }
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <inheritdoc />
    /// <remarks>The shared pool is never disposed; disposing it is a no-op.</remarks>
    public void Dispose()
    {
        if (ReferenceEquals(this, _shared) || _disposed) return;
        _disposed = true;
        for (int i = 0; i < _wake.Length; i++) _wake[i].Release();
        foreach (var thread in _threads) thread?.Join();
        foreach (var wake in _wake) wake.Dispose();
    }
}
