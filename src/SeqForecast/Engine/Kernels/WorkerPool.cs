namespace SeqForecast.Engine.Kernels;

/// <summary>A unit of work split into <c>parts</c> pieces; piece <c>part</c> runs on one thread.</summary>
internal interface IParallelWork
{
    void Execute(int part, int parts);
}

/// <summary>
/// A fixed set of worker threads for short, frequent parallel regions (one per GEMM of a time step). Run allocates
/// nothing: the caller keeps its <see cref="IParallelWork"/> object and refills it. Workers spin briefly between
/// regions, then sleep on a semaphore, so an idle pool costs no CPU.
/// </summary>
/// <remarks>
/// Results do not depend on the thread count: every kernel that runs here partitions its output on fixed tile
/// boundaries, and each output element is computed by one thread in one fixed order.
/// </remarks>
internal sealed class WorkerPool : IDisposable
{
    private const int SpinIterations = 20_000;
    private readonly Thread[] _threads;
    private readonly SemaphoreSlim[] _wake;
    private readonly int[] _sleeping;
    private IParallelWork? _work;
    private int _generation;
    private int _pending;
    private volatile bool _disposed;
    private Exception? _failure;

    /// <summary>Creates a pool that runs regions on <paramref name="threadCount"/> threads, the caller's included.</summary>
    public WorkerPool(int threadCount)
    {
        if (threadCount < 1)
            throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, $"thread count ({threadCount}) must be >= 1");
        ThreadCount = threadCount;
        _threads = new Thread[threadCount - 1];
        _wake = new SemaphoreSlim[threadCount - 1];
        _sleeping = new int[threadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _wake[i] = new SemaphoreSlim(0);
            int index = i;
            _threads[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"SeqForecast worker {i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads a region runs on, the caller's included.</summary>
    public int ThreadCount { get; }

    /// <summary>Runs <paramref name="work"/> as <see cref="ThreadCount"/> parts and returns when all are done.</summary>
    public void Run(IParallelWork work)
    {
        if (_threads.Length == 0)
        {
            work.Execute(0, 1);
            return;
        }
        _work = work;
        _failure = null;
        Volatile.Write(ref _pending, _threads.Length);
        Interlocked.Increment(ref _generation);
        for (int i = 0; i < _threads.Length; i++)
            if (Interlocked.CompareExchange(ref _sleeping[i], 0, 1) == 1)
                _wake[i].Release();
        work.Execute(0, ThreadCount);
        var spinner = new SpinWait();
        while (Volatile.Read(ref _pending) != 0) spinner.SpinOnce(sleep1Threshold: -1);
        _work = null;
        if (_failure is { } failure)
            throw new InvalidOperationException("a worker thread failed", failure);
    }

    private void WorkerLoop(int index)
    {
        int seen = 0;
        while (true)
        {
            int spins = 0;
            while (Volatile.Read(ref _generation) == seen)
            {
                if (_disposed) return;
                if (++spins < SpinIterations)
                {
                    Thread.SpinWait(8);
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
                spins = 0;
            }
            if (_disposed) return;
            seen = Volatile.Read(ref _generation);
            try
            {
                _work!.Execute(index + 1, ThreadCount);
            }
            catch (Exception ex)
            {
                _failure = ex;
            }
            Interlocked.Decrement(ref _pending);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int i = 0; i < _threads.Length; i++) _wake[i].Release();
        foreach (var thread in _threads) thread.Join();
        foreach (var wake in _wake) wake.Dispose();
    }
}
