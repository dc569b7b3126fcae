using SeqForecast.Data;
using SeqForecast.Randomness;

namespace SeqForecast.Windows;

/// <summary>Identifies one window: which series, and the index of its first input step.</summary>
/// <param name="SeriesIndex">Index of the series in the dataset.</param>
/// <param name="Start">First input step; targets start at <c>Start + Lookback</c>.</param>
public readonly record struct WindowRef(int SeriesIndex, int Start);

/// <summary>
/// Sliding windows over many series, pooled into one dataset. Windows are views: nothing is copied until a batch
/// is filled.
/// </summary>
/// <remarks>
/// <para>Memory: each series is encoded once as float32 rows, <c>points × (inputFeatures + targets)</c> values, and the
/// window index is arithmetic over per-series counts (one int per series). A batch buffer holds
/// <c>batch × (lookback × inputFeatures + horizon × targets)</c> floats, and a shuffled epoch one int per window.
/// So the bound is <c>4·Σpoints·(F + T) + 4·windows + 4·B·(L·F + H·T)</c> bytes, whatever the number of windows
/// (the window order of a shuffled epoch is the only per-window cost).</para>
/// <para>Batches come out as contiguous float buffers: inputs <c>[batch, lookback, inputFeatures]</c> and targets
/// <c>[batch, horizon, targets]</c>, row-major.</para>
/// </remarks>
public sealed class WindowDataset
{
    private readonly SeriesRows[] _rows;
    private readonly long[] _windowOffsets; // [series + 1], prefix sums of windows per series

    private WindowDataset(WindowSpec spec, SeriesRows[] rows, long[] offsets, int inputFeatures, int targets)
    {
        Spec = spec;
        _rows = rows;
        _windowOffsets = offsets;
        InputFeatureCount = inputFeatures;
        TargetCount = targets;
    }

    /// <summary>Builds the dataset over <paramref name="series"/>.</summary>
    /// <param name="series">One or more series with the same columns (pooled into one global dataset).</param>
    /// <param name="spec">Window spec.</param>
    /// <exception cref="ArgumentException">No series, a series too short for lookback + horizon, a missing column, or series with different columns.</exception>
    public static WindowDataset Create(IReadOnlyList<TimeSeries> series, WindowSpec spec)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (series.Count == 0)
            throw new ArgumentException("series is empty; a dataset needs at least one series", nameof(series));
        var rows = new SeriesRows[series.Count];
        var offsets = new long[series.Count + 1];
        int features = spec.InputFeatureCount(series[0]);
        int targets = spec.TargetNames(series[0]).Count;
        for (int s = 0; s < series.Count; s++)
        {
            spec.ValidateSeries(series[s], spec.WindowLength);
            RequireSameColumns(series[0], series[s], spec);
            rows[s] = SeriesRows.Encode(series[s], spec);
            long windows = (series[s].Length - spec.WindowLength) / spec.Stride + 1;
            offsets[s + 1] = offsets[s] + windows;
        }
        if (offsets[^1] > int.MaxValue)
            throw new ArgumentException($"the dataset has {offsets[^1]} windows; at most {int.MaxValue} are supported (raise the stride)", nameof(series));
        return new WindowDataset(spec, rows, offsets, features, targets);
    }

    /// <summary>The window spec.</summary>
    public WindowSpec Spec { get; }

    /// <summary>Number of windows.</summary>
    public int Count => (int)_windowOffsets[^1];

    /// <summary>Number of series.</summary>
    public int SeriesCount => _rows.Length;

    /// <summary>Values per input step (targets + features + calendar).</summary>
    public int InputFeatureCount { get; }

    /// <summary>Target columns.</summary>
    public int TargetCount { get; }

    /// <summary>Floats in one window's input: lookback × input features.</summary>
    public int InputLength => Spec.Lookback * InputFeatureCount;

    /// <summary>Floats in one window's target: horizon × targets.</summary>
    public int TargetLength => Spec.Horizon * TargetCount;

    /// <summary>Number of windows in series <paramref name="seriesIndex"/>.</summary>
    public int WindowsInSeries(int seriesIndex) => (int)(_windowOffsets[seriesIndex + 1] - _windowOffsets[seriesIndex]);

    /// <summary>The window with global index <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, Count).</exception>
    public WindowRef this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Count)
                throw new ArgumentOutOfRangeException(nameof(index), index, $"window index must be in [0, {Count})");
            int s = Array.BinarySearch(_windowOffsets, index);
            s = s >= 0 ? s : ~s - 1;
            while (_windowOffsets[s + 1] == _windowOffsets[s]) s++; // defensive: every series has >= 1 window
            return new WindowRef(s, (int)(index - _windowOffsets[s]) * Spec.Stride);
        }
    }

    /// <summary>Copies window <paramref name="index"/> into <paramref name="input"/> [lookback, features] and <paramref name="target"/> [horizon, targets].</summary>
    /// <exception cref="ArgumentException">A destination is shorter than <see cref="InputLength"/> or <see cref="TargetLength"/>.</exception>
    public void CopyWindow(int index, Span<float> input, Span<float> target)
    {
        if (input.Length < InputLength) throw new ArgumentException($"input has {input.Length} floats; a window needs {InputLength}", nameof(input));
        if (target.Length < TargetLength) throw new ArgumentException($"target has {target.Length} floats; a window needs {TargetLength}", nameof(target));
        var w = this[index];
        var rows = _rows[w.SeriesIndex];
        rows.Inputs.AsSpan(w.Start * InputFeatureCount, InputLength).CopyTo(input);
        rows.Targets.AsSpan((w.Start + Spec.Lookback) * TargetCount, TargetLength).CopyTo(target);
    }

    /// <summary>
    /// Fills a batch: <paramref name="inputs"/> [n, lookback, features] and <paramref name="targets"/> [n, horizon, targets]
    /// for the n = <paramref name="windowIndices"/>.Length windows listed. Allocates nothing.
    /// </summary>
    public void FillBatch(ReadOnlySpan<int> windowIndices, Span<float> inputs, Span<float> targets)
    {
        if (inputs.Length < windowIndices.Length * InputLength)
            throw new ArgumentException($"inputs has {inputs.Length} floats; {windowIndices.Length} windows need {windowIndices.Length * InputLength}", nameof(inputs));
        if (targets.Length < windowIndices.Length * TargetLength)
            throw new ArgumentException($"targets has {targets.Length} floats; {windowIndices.Length} windows need {windowIndices.Length * TargetLength}", nameof(targets));
        for (int b = 0; b < windowIndices.Length; b++)
            CopyWindow(windowIndices[b], inputs.Slice(b * InputLength, InputLength), targets.Slice(b * TargetLength, TargetLength));
    }

    /// <summary>
    /// Enumerates the dataset in batches of at most <paramref name="batchSize"/> windows; the last batch may be smaller.
    /// The same <see cref="WindowBatch"/> instance is refilled for every batch: copy what you keep.
    /// </summary>
    /// <param name="batchSize">Windows per batch. Range: ≥ 1.</param>
    /// <param name="shuffle">Visit windows in a random order drawn from <paramref name="seed"/>.</param>
    /// <param name="seed">Seed of the shuffle; the same seed gives the same order.</param>
    public IEnumerable<WindowBatch> Batches(int batchSize, bool shuffle, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var batch = new WindowBatch(this, Math.Min(batchSize, Count));
        var order = new int[Count];
        return Enumerate(batch, order, shuffle, seed);
    }

    /// <summary>Writes the order in which an epoch visits the windows into <paramref name="order"/> (length <see cref="Count"/>).</summary>
    public void EpochOrder(Span<int> order, bool shuffle, ulong seed)
    {
        if (order.Length != Count) throw new ArgumentException($"order has {order.Length} slots; the dataset has {Count} windows", nameof(order));
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (shuffle) new DeterministicRandom(seed).Shuffle(order);
    }

    private IEnumerable<WindowBatch> Enumerate(WindowBatch batch, int[] order, bool shuffle, ulong seed)
    {
        EpochOrder(order, shuffle, seed);
        for (int start = 0; start < order.Length; start += batch.Capacity)
        {
            batch.Fill(order.AsSpan(start, Math.Min(batch.Capacity, order.Length - start)));
            yield return batch;
        }
    }

    /// <summary>
    /// Writes the last <c>lookback</c> input steps of <paramref name="series"/> (the window a forecast starts from)
    /// into <paramref name="destination"/> [lookback, features].
    /// </summary>
    /// <exception cref="ArgumentException">The series is shorter than the lookback, lacks a column, or the destination is too short.</exception>
    public static void CopyLatestInput(TimeSeries series, WindowSpec spec, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        spec.ValidateSeries(series, spec.Lookback);
        int features = spec.InputFeatureCount(series);
        if (destination.Length < spec.Lookback * features)
            throw new ArgumentException($"destination has {destination.Length} floats; lookback {spec.Lookback} × {features} features needs {spec.Lookback * features}", nameof(destination));
        var tail = series.Slice(series.Length - spec.Lookback, spec.Lookback);
        SeriesRows.Encode(tail, spec).Inputs.CopyTo(destination);
    }

    private static void RequireSameColumns(TimeSeries first, TimeSeries other, WindowSpec spec)
    {
        if (spec.InputFeatureCount(other) != spec.InputFeatureCount(first) || !spec.TargetNames(other).SequenceEqual(spec.TargetNames(first)))
            throw new ArgumentException($"series '{other.Id}' has columns ({string.Join(", ", other.ColumnNames)}) unlike series '{first.Id}' ({string.Join(", ", first.ColumnNames)}); pooled series need the same target and feature columns", "series");
    }

    /// <summary>One series encoded as float rows: inputs [points, features] and targets [points, targets].</summary>
    private sealed record SeriesRows(float[] Inputs, float[] Targets)
    {
        public static SeriesRows Encode(TimeSeries series, WindowSpec spec)
        {
            var targetNames = spec.TargetNames(series);
            var columns = targetNames.Concat(spec.Features).Select(series.ColumnIndex).ToArray();
            int calendar = CalendarEncoding.Count(spec.Calendar);
            int features = columns.Length + calendar;
            int length = series.Length;
            var inputs = new float[length * features];   // [points, features]
            var targets = new float[length * targetNames.Count]; // [points, targets]
            for (int c = 0; c < columns.Length; c++)
            {
                var values = series.Column(columns[c]);
                for (int t = 0; t < length; t++)
                {
                    inputs[t * features + c] = (float)values[t];
                    if (c < targetNames.Count) targets[t * targetNames.Count + c] = (float)values[t];
                }
            }
            if (calendar > 0)
                for (int t = 0; t < length; t++)
                    CalendarEncoding.Encode(series.Timestamps[t], spec.Calendar, inputs.AsSpan(t * features + columns.Length, calendar));
            return new SeriesRows(inputs, targets);
        }
    }
}

/// <summary>
/// A reusable batch buffer: <see cref="Inputs"/> [count, lookback, features] and <see cref="Targets"/> [count, horizon, targets].
/// </summary>
public sealed class WindowBatch
{
    private readonly WindowDataset _dataset;
    private readonly float[] _inputs;
    private readonly float[] _targets;
    private readonly int[] _indices;

    internal WindowBatch(WindowDataset dataset, int capacity)
    {
        _dataset = dataset;
        Capacity = capacity;
        _inputs = new float[capacity * dataset.InputLength];
        _targets = new float[capacity * dataset.TargetLength];
        _indices = new int[capacity];
    }

    /// <summary>Largest number of windows the buffer holds.</summary>
    public int Capacity { get; }

    /// <summary>Windows in the current batch.</summary>
    public int Count { get; private set; }

    /// <summary>Inputs, [count, lookback, features], row-major.</summary>
    public ReadOnlySpan<float> Inputs => _inputs.AsSpan(0, Count * _dataset.InputLength);

    /// <summary>Targets, [count, horizon, targets], row-major.</summary>
    public ReadOnlySpan<float> Targets => _targets.AsSpan(0, Count * _dataset.TargetLength);

    /// <summary>Global window indices of the batch, in batch order.</summary>
    public ReadOnlySpan<int> WindowIndices => _indices.AsSpan(0, Count);

    internal void Fill(ReadOnlySpan<int> indices)
    {
        Count = indices.Length;
        indices.CopyTo(_indices);
        _dataset.FillBatch(indices, _inputs, _targets);
    }
}
