using SeqForecast.Engine.Kernels;

namespace SeqForecast.Engine.Managed;

/// <summary>The GEMM runner shared by the layers of one micro-batch; large products use up to <c>threads</c> threads of the shared pool.</summary>
internal sealed class ComputeContext(int threads)
{
    public GemmRunner Gemm { get; } = new(WorkerPool.Shared, threads);
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
