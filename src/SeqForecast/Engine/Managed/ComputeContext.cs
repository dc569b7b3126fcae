using SeqForecast.Engine.Kernels;

namespace SeqForecast.Engine.Managed;

/// <summary>The threads and GEMM runner shared by the layers of one network.</summary>
internal sealed class ComputeContext : IDisposable
{
    public ComputeContext(int threads)
    {
        Pool = new WorkerPool(threads);
        Gemm = new GemmRunner(Pool);
    }

    public WorkerPool Pool { get; }

    public GemmRunner Gemm { get; }

    public void Dispose() => Pool.Dispose();
}

/// <summary>Grow-only float buffers: reallocated only when a larger batch or sequence arrives, so steady-state steps allocate nothing.</summary>
internal static class Buffers
{
    public static void Ensure(ref float[] buffer, long length)
    {
        if (buffer.Length < length) buffer = new float[length];
    }
}
