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
    public static void Ensure(ref AlignedBuffer buffer, long length)
    {
        if (buffer.Length < length) buffer = new AlignedBuffer(length);
    }
}

/// <summary>
/// A zeroed float buffer whose first element sits on a 64-byte boundary (one cache line, one Vector512). It lives on
/// the pinned object heap, so the alignment holds for its lifetime. A 64-byte vector load from an unaligned address
/// touches two cache lines; for weights streamed from L2 that halves the matrix-vector speed (measured).
/// </summary>
internal sealed class AlignedBuffer
{
    private const int AlignmentFloats = 16;
    private readonly float[] _array;
    private readonly int _offset;

    /// <summary>A shared empty buffer, the initial value of grow-only fields.</summary>
    public static readonly AlignedBuffer Empty = new(0);

    public AlignedBuffer(long length)
    {
        if (length < 0 || length > Array.MaxLength - AlignmentFloats)
            throw new ArgumentOutOfRangeException(nameof(length), length, $"length must be in [0, {Array.MaxLength - AlignmentFloats}]");
        Length = (int)length;
        _array = GC.AllocateArray<float>(Length + AlignmentFloats - 1, pinned: true);
        unsafe
        {
            fixed (float* p = _array)
                _offset = (int)((64 - ((nint)p & 63)) & 63) / sizeof(float);
        }
    }

    public int Length { get; }

    public ref float this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Length) throw new IndexOutOfRangeException();
            return ref _array[_offset + index];
        }
    }

    public Span<float> AsSpan() => new(_array, _offset, Length);

    public Span<float> AsSpan(int start) => AsSpan()[start..];

    public Span<float> AsSpan(int start, int length) => AsSpan().Slice(start, length);

    public static implicit operator Span<float>(AlignedBuffer buffer) => buffer.AsSpan();

    public static implicit operator ReadOnlySpan<float>(AlignedBuffer buffer) => buffer.AsSpan();
}
