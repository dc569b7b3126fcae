using SeqForecast.Data;
using SeqForecast.Randomness;

namespace SeqForecast.Windows;

/// <summary>Identifies one window: which series, and the index of its first input step.</summary>
/// <param name="SeriesIndex">Index of the series in the dataset.</param>
/// <param name="Start">First input step; targets start at <c>Start + Lookback</c>.</param>
public readonly record struct WindowRef(int SeriesIndex, int Start);

/// <summary>
/// Sliding windows over many series, pooled into one dataset, with raw values (no normalisation): the building block
/// under the forecasters, laid out as <see cref="WindowSpec"/> describes. Windows are views: nothing is copied until a
/// batch is filled.
/// </summary>
/// <remarks>
/// <para>Memory: each series is held once (its target values as doubles, covariates as floats), and the window index
/// is arithmetic over per-series counts (one long per series). A batch buffer holds
/// <c>batch × (steps × features + horizon × targets)</c> floats, and a shuffled epoch one int per window. So the memory
/// does not grow with the number of windows beyond the epoch order.</para>
/// <para>Batches come out as contiguous float buffers: inputs <c>[batch, TimeSteps, InputFeatureCount]</c> and
/// targets <c>[batch, horizon, targets]</c>, row-major. Windows start at 0, stride, 2·stride, … while a whole window
/// fits in the series.</para>
/// </remarks>
public sealed class WindowDataset
{
    private readonly EncodedWindows _windows;

    private WindowDataset(WindowSpec spec, EncodedWindows windows)
    {
        Spec = spec;
        _windows = windows;
    }

    /// <summary>Builds the dataset over <paramref name="series"/>.</summary>
    /// <param name="series">One or more series with the same columns (pooled into one global dataset).</param>
    /// <param name="spec">Window spec.</param>
    /// <exception cref="ArgumentException">No series, a series too short for lookback + horizon, a missing column or attribute, series with different columns, or a non-finite value.</exception>
    public static WindowDataset Create(IReadOnlyList<TimeSeries> series, WindowSpec spec)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (series.Count == 0)
            throw new ArgumentException("series is empty; a dataset needs at least one series", nameof(series));
        var targets = spec.TargetNames(series[0]);
        foreach (var s in series)
        {
            spec.ValidateSeries(s, spec.WindowLength);
            if (!spec.TargetNames(s).SequenceEqual(targets))
                throw new ArgumentException($"series '{s.Id}' has columns ({string.Join(", ", s.ColumnNames)}) unlike series '{series[0].Id}' ({string.Join(", ", series[0].ColumnNames)}); pooled series need the same target and feature columns", nameof(series));
        }
        var encoder = new WindowEncoder(spec, targets, EncoderSettings.Raw, WindowEncoder.FitState(spec, series, standardize: false));
        var frames = series.Select(s => encoder.Frame(s, null)).ToArray();
        var first = frames.Select(_ => spec.Lookback).ToArray();
        var last = frames.Select(f => f.Length - spec.Horizon).ToArray();
        return new WindowDataset(spec, new EncodedWindows(encoder, frames, first, last, spec.Stride, withContext: false));
    }

    /// <summary>The window spec.</summary>
    public WindowSpec Spec { get; }

    internal EncodedWindows Windows => _windows;

    /// <summary>Number of windows.</summary>
    public int Count => _windows.Count;

    /// <summary>Number of series.</summary>
    public int SeriesCount => _windows.SeriesCount;

    /// <summary>Steps per window input: lookback, plus the horizon when the spec has known-future inputs.</summary>
    public int TimeSteps => _windows.TimeSteps;

    /// <summary>Values per input step (see <see cref="WindowSpec"/> for the order).</summary>
    public int InputFeatureCount => _windows.InputFeatureCount;

    /// <summary>Names of the values of one input step, in order.</summary>
    public IReadOnlyList<string> FeatureNames => _windows.Encoder.FeatureNames();

    /// <summary>Target columns.</summary>
    public int TargetCount => _windows.Encoder.TargetCount;

    /// <summary>Floats in one window's input: time steps × input features.</summary>
    public int InputLength => _windows.InputLength;

    /// <summary>Floats in one window's target: horizon × targets.</summary>
    public int TargetLength => _windows.TargetLength;

    /// <summary>Number of windows in series <paramref name="seriesIndex"/>.</summary>
    public int WindowsInSeries(int seriesIndex) => _windows.WindowsInSeries(seriesIndex);

    /// <summary>The window with global index <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, Count).</exception>
    public WindowRef this[int index]
    {
        get
        {
            var (s, origin) = _windows.Locate(index);
            return new WindowRef(s, origin - Spec.Lookback);
        }
    }

    /// <summary>Copies window <paramref name="index"/> into <paramref name="input"/> [steps, features] and <paramref name="target"/> [horizon, targets].</summary>
    /// <exception cref="ArgumentException">A destination is shorter than <see cref="InputLength"/> or <see cref="TargetLength"/>.</exception>
    public void CopyWindow(int index, Span<float> input, Span<float> target)
    {
        if (input.Length < InputLength) throw new ArgumentException($"input has {input.Length} floats; a window needs {InputLength}", nameof(input));
        if (target.Length < TargetLength) throw new ArgumentException($"target has {target.Length} floats; a window needs {TargetLength}", nameof(target));
        _windows.Fill([index], input, target, default, default, default);
    }

    /// <summary>
    /// Fills a batch: <paramref name="inputs"/> [n, steps, features] and <paramref name="targets"/> [n, horizon, targets]
    /// for the n = <paramref name="windowIndices"/>.Length windows listed.
    /// </summary>
    public void FillBatch(ReadOnlySpan<int> windowIndices, Span<float> inputs, Span<float> targets) =>
        _windows.Fill(windowIndices, inputs, targets, default, default, default);

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
    /// Writes the input of the window a forecast of <paramref name="series"/> starts from (its last lookback points,
    /// raw values) into <paramref name="destination"/> [steps, features]. Known-future inputs of the forecast steps are
    /// filled where the spec can compute them (calendar, holidays); future covariates there are zero.
    /// </summary>
    /// <exception cref="ArgumentException">The series is shorter than the lookback, lacks a column, or the destination is too short.</exception>
    public static void CopyLatestInput(TimeSeries series, WindowSpec spec, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        spec.ValidateSeries(series, spec.Lookback);
        var encoder = new WindowEncoder(spec, spec.TargetNames(series), EncoderSettings.Raw, WindowEncoder.FitState(spec, [series], standardize: false));
        if (destination.Length < encoder.InputLength)
            throw new ArgumentException($"destination has {destination.Length} floats; {spec.TimeSteps} steps × {encoder.FeatureCount} features needs {encoder.InputLength}", nameof(destination));
        var frame = encoder.Frame(series, null);
        Span<float> scale = new float[encoder.TargetLength], offset = new float[encoder.TargetLength];
        encoder.Encode(frame, series.Length, destination, default, scale, offset);
    }
}

/// <summary>
/// A reusable batch buffer: <see cref="Inputs"/> [count, steps, features] and <see cref="Targets"/> [count, horizon, targets].
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
        _inputs = new float[(long)capacity * dataset.InputLength];
        _targets = new float[capacity * dataset.TargetLength];
        _indices = new int[capacity];
    }

    /// <summary>Largest number of windows the buffer holds.</summary>
    public int Capacity { get; }

    /// <summary>Windows in the current batch.</summary>
    public int Count { get; private set; }

    /// <summary>Inputs, [count, steps, features], row-major.</summary>
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
