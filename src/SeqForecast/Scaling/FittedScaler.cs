using SeqForecast.Data;
using SeqForecast.Splits;

namespace SeqForecast.Scaling;

/// <summary>Whether scaling statistics are computed per series or pooled over all series.</summary>
public enum ScalingScope
{
    /// <summary>Each (series, column) pair gets its own statistics.</summary>
    PerSeries,
    /// <summary>Each column gets one set of statistics pooled over all series.</summary>
    Global,
}

/// <summary>Which scaler produced a <see cref="FittedScaler"/>.</summary>
public enum ScalerKind
{
    /// <summary>Min-max scaling to a range.</summary>
    MinMax,
    /// <summary>Standard (z-score) scaling.</summary>
    Standard,
}

/// <summary>An affine map <c>y = x · Scale + Offset</c> and its inverse <c>x = (y − Offset) / Scale</c>.</summary>
/// <param name="Scale">Multiplier; never zero.</param>
/// <param name="Offset">Additive term.</param>
public readonly record struct AffineTransform(double Scale, double Offset)
{
    /// <summary>Applies the map.</summary>
    public double Apply(double x) => x * Scale + Offset;

    /// <summary>Applies the inverse map.</summary>
    public double Invert(double y) => (y - Offset) / Scale;
}

/// <summary>Fits a scaler on the training part of a split.</summary>
public interface IScaler
{
    /// <summary>
    /// Computes statistics from <see cref="DatasetSplit.Train"/> only: validation and test parts are never read,
    /// so statistics cannot leak the future.
    /// </summary>
    /// <exception cref="ArgumentException">The training data holds NaN or ±∞.</exception>
    FittedScaler Fit(DatasetSplit split);
}

/// <summary>
/// An immutable fitted scaler: one <see cref="AffineTransform"/> per (series, column), or per column when global.
/// </summary>
/// <remarks>
/// Values outside the fitted range are mapped by the same affine formula and are not clipped: a min-max scaler fitted
/// on [0, 100] maps 150 to 1.5 with the default range. Neural networks see such values as they are, and the inverse
/// transform recovers them exactly.
/// </remarks>
public sealed class FittedScaler
{
    private readonly IReadOnlyDictionary<string, AffineTransform[]> _perSeries;
    private readonly AffineTransform[]? _global;

    /// <summary>Creates a fitted scaler from its state (used by model files). Prefer <see cref="IScaler.Fit"/>.</summary>
    /// <param name="kind">Min-max or standard.</param>
    /// <param name="scope">Per-series or global.</param>
    /// <param name="columns">Fitted columns.</param>
    /// <param name="perSeries">Per-series transforms (per-series scope).</param>
    /// <param name="global">Global transforms (global scope).</param>
    /// <param name="rangeMin">Min-max target range start (for fitting series it has not seen).</param>
    /// <param name="rangeMax">Min-max target range end.</param>
    /// <exception cref="ArgumentException">A scale is zero or not finite, or the state does not match the scope.</exception>
    public FittedScaler(ScalerKind kind, ScalingScope scope, IReadOnlyList<string> columns, IReadOnlyDictionary<string, AffineTransform[]> perSeries, AffineTransform[]? global, double rangeMin = 0, double rangeMax = 1)
    {
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind), kind, "kind must be MinMax or Standard");
        if (!Enum.IsDefined(scope)) throw new ArgumentOutOfRangeException(nameof(scope), scope, "scope must be PerSeries or Global");
        if (!double.IsFinite(rangeMin) || !double.IsFinite(rangeMax) || rangeMax <= rangeMin)
            throw new ArgumentException($"range [{rangeMin}, {rangeMax}] is invalid; the end must exceed the start and both be finite", nameof(rangeMax));
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(perSeries);
        if (scope == ScalingScope.Global && global is null)
            throw new ArgumentException("a global scaler needs global transforms", nameof(global));
        if (global is not null && global.Length != columns.Count)
            throw new ArgumentException($"global transforms have {global.Length} entries; {columns.Count} columns need one each", nameof(global));
        foreach (var (id, transforms) in perSeries)
            if (transforms.Length != columns.Count)
                throw new ArgumentException($"series '{id}' has {transforms.Length} transforms; {columns.Count} columns need one each", nameof(perSeries));
        foreach (var t in perSeries.Values.SelectMany(x => x).Concat(global ?? []))
            if (t.Scale == 0 || !double.IsFinite(t.Scale) || !double.IsFinite(t.Offset))
                throw new ArgumentException($"transform {t} is invalid; scale must be finite and non-zero, offset finite", nameof(perSeries));
        Kind = kind;
        Scope = scope;
        RangeMin = rangeMin;
        RangeMax = rangeMax;
        Columns = columns.ToArray();
        _perSeries = new Dictionary<string, AffineTransform[]>(perSeries, StringComparer.Ordinal);
        _global = global;
    }

    /// <summary>The scaler that produced this state.</summary>
    public ScalerKind Kind { get; }

    /// <summary>Per-series or global statistics.</summary>
    public ScalingScope Scope { get; }

    /// <summary>Start of the min-max target range.</summary>
    public double RangeMin { get; }

    /// <summary>End of the min-max target range.</summary>
    public double RangeMax { get; }

    /// <summary>True when the scaler has statistics for <paramref name="seriesId"/> (always, for a global scaler).</summary>
    public bool Knows(string seriesId) => _global is not null || _perSeries.ContainsKey(seriesId);

    /// <summary>
    /// The transform of <paramref name="column"/> for series <paramref name="seriesId"/>; for a per-series scaler and a
    /// series it was not fitted on, a transform of the same kind fitted on <paramref name="history"/> (the series' own
    /// history), so a global model can forecast a series it never saw.
    /// </summary>
    /// <exception cref="ArgumentException">The column was not fitted.</exception>
    public AffineTransform TransformFor(string seriesId, string column, ReadOnlySpan<double> history)
    {
        if (Knows(seriesId)) return Get(seriesId, column);
        if (!Columns.Contains(column))
            throw new ArgumentException($"column '{column}' was not fitted; the scaler knows: {string.Join(", ", Columns)}", nameof(column));
        var values = history.ToArray();
        return Kind == ScalerKind.MinMax ? ScalerFitting.MinMax(values, RangeMin, RangeMax) : ScalerFitting.Standard(values);
    }

    /// <summary>Columns the scaler was fitted on.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Series ids the scaler was fitted on (per-series scope).</summary>
    public IEnumerable<string> SeriesIds => _perSeries.Keys;

    /// <summary>The transform for <paramref name="column"/> of series <paramref name="seriesId"/>.</summary>
    /// <exception cref="InvalidOperationException">Per-series scope and the series was not in the training data.</exception>
    /// <exception cref="ArgumentException">The column was not fitted.</exception>
    public AffineTransform Get(string seriesId, string column)
    {
        int c = -1;
        for (int i = 0; i < Columns.Count; i++) if (Columns[i] == column) c = i;
        if (c < 0)
            throw new ArgumentException($"column '{column}' was not fitted; the scaler knows: {string.Join(", ", Columns)}", nameof(column));
        if (_global is not null) return _global[c];
        if (!_perSeries.TryGetValue(seriesId, out var transforms))
            throw new InvalidOperationException($"scaler was not fitted on series '{seriesId}': a per-series scaler can only transform series it saw in training");
        return transforms[c];
    }

    /// <summary>Scales every fitted column of <paramref name="series"/>; other columns are copied unchanged.</summary>
    public TimeSeries Transform(TimeSeries series) => Map(series, static (t, x) => t.Apply(x));

    /// <summary>Scales every part of <paramref name="split"/> with these (training) statistics.</summary>
    public DatasetSplit Transform(DatasetSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        return split.Map(Transform);
    }

    /// <summary>Undoes <see cref="Transform(TimeSeries)"/>.</summary>
    public TimeSeries InverseTransform(TimeSeries series) => Map(series, static (t, x) => t.Invert(x));

    /// <summary>Maps scaled values of one column back to original units, in place.</summary>
    public void InverseTransform(string seriesId, string column, Span<double> values)
    {
        var t = Get(seriesId, column);
        for (int i = 0; i < values.Length; i++) values[i] = t.Invert(values[i]);
    }

    /// <summary>Maps scaled float values of one column back to original units, in place.</summary>
    public void InverseTransform(string seriesId, string column, Span<float> values)
    {
        var t = Get(seriesId, column);
        for (int i = 0; i < values.Length; i++) values[i] = (float)t.Invert(values[i]);
    }

    /// <summary>The per-series transforms, keyed by series id (empty for a global scaler).</summary>
    public IReadOnlyDictionary<string, AffineTransform[]> PerSeriesTransforms => _perSeries;

    /// <summary>The global transforms, one per column (null for a per-series scaler).</summary>
    public IReadOnlyList<AffineTransform>? GlobalTransforms => _global;

    private TimeSeries Map(TimeSeries series, Func<AffineTransform, double, double> map)
    {
        ArgumentNullException.ThrowIfNull(series);
        var columns = new double[series.ColumnNames.Count][];
        for (int c = 0; c < columns.Length; c++)
        {
            var source = series.Column(c);
            columns[c] = source.ToArray();
            if (!Columns.Contains(series.ColumnNames[c])) continue;
            var t = Get(series.Id, series.ColumnNames[c]);
            for (int i = 0; i < columns[c].Length; i++) columns[c][i] = map(t, source[i]);
        }
        return series.WithColumns(columns);
    }
}
