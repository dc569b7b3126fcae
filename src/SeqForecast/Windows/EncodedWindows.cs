using SeqForecast.Training;

namespace SeqForecast.Windows;

/// <summary>
/// Windows over prepared series frames: for series s, the origins (first forecast steps) <c>First[s]</c>,
/// <c>First[s] + stride</c>, … up to <c>Last[s]</c>. Windows are views: nothing is copied until a batch is filled, and
/// the index is arithmetic over per-series counts.
/// </summary>
internal sealed class EncodedWindows : IWindowSource
{
    private readonly long[] _offsets; // [series + 1], prefix sums of windows per series

    public EncodedWindows(WindowEncoder encoder, IReadOnlyList<SeriesFrame> frames, IReadOnlyList<int> first, IReadOnlyList<int> last, int stride, bool withContext)
    {
        Encoder = encoder;
        Frames = frames;
        First = first;
        Stride = stride;
        HasContext = withContext;
        _offsets = new long[frames.Count + 1];
        for (int s = 0; s < frames.Count; s++)
        {
            long windows = last[s] >= first[s] ? (last[s] - first[s]) / stride + 1 : 0;
            _offsets[s + 1] = _offsets[s] + windows;
        }
        if (_offsets[^1] > int.MaxValue)
            throw new ArgumentException($"the data has {_offsets[^1]:N0} windows; at most {int.MaxValue:N0} are supported (raise the stride)", nameof(frames));
    }

    public WindowEncoder Encoder { get; }

    public IReadOnlyList<SeriesFrame> Frames { get; }

    public IReadOnlyList<int> First { get; }

    public int Stride { get; }

    public int Count => (int)_offsets[^1];

    public int TimeSteps => Encoder.TimeSteps;

    public int InputFeatureCount => Encoder.FeatureCount;

    public int InputLength => Encoder.InputLength;

    public int TargetLength => Encoder.TargetLength;

    public bool HasContext { get; }

    public int SeriesCount => Frames.Count;

    public int FirstWindow(int series) => (int)_offsets[series];

    public int WindowsInSeries(int series) => (int)(_offsets[series + 1] - _offsets[series]);

    /// <summary>Series index and origin of window <paramref name="index"/>.</summary>
    public (int Series, int Origin) Locate(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new ArgumentOutOfRangeException(nameof(index), index, $"window index must be in [0, {Count})");
        int s = Array.BinarySearch(_offsets, index);
        s = s >= 0 ? s : ~s - 1;
        while (_offsets[s + 1] == _offsets[s]) s++;
        return (s, First[s] + (int)(index - _offsets[s]) * Stride);
    }

    public void Fill(ReadOnlySpan<int> windows, Span<float> inputs, Span<float> targets, Span<float> scale, Span<float> offset, Span<float> weight)
    {
        int inputLength = InputLength, targetLength = TargetLength;
        if (inputs.Length < windows.Length * inputLength)
            throw new ArgumentException($"inputs has {inputs.Length} floats; {windows.Length} windows need {windows.Length * inputLength}", nameof(inputs));
        if (targets.Length < windows.Length * targetLength)
            throw new ArgumentException($"targets has {targets.Length} floats; {windows.Length} windows need {windows.Length * targetLength}", nameof(targets));
        Span<float> scratchScale = HasContext ? default : stackalloc float[Math.Min(targetLength, 1024)];
        Span<float> scratchOffset = HasContext ? default : stackalloc float[Math.Min(targetLength, 1024)];
        float[]? rented = !HasContext && targetLength > 1024 ? new float[2 * targetLength] : null;
        for (int w = 0; w < windows.Length; w++)
        {
            var (s, origin) = Locate(windows[w]);
            var windowScale = HasContext ? scale.Slice(w * targetLength, targetLength) : rented is null ? scratchScale[..targetLength] : rented.AsSpan(0, targetLength);
            var windowOffset = HasContext ? offset.Slice(w * targetLength, targetLength) : rented is null ? scratchOffset[..targetLength] : rented.AsSpan(targetLength, targetLength);
            float wt = Encoder.Encode(Frames[s], origin, inputs.Slice(w * inputLength, inputLength), targets.Slice(w * targetLength, targetLength), windowScale, windowOffset);
            if (HasContext) weight[w] = wt;
        }
    }
}
