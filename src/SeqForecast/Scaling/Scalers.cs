using SeqForecast.Data;
using SeqForecast.Splits;

namespace SeqForecast.Scaling;

/// <summary>Options of <see cref="MinMaxScaler"/>.</summary>
public sealed record MinMaxScalerOptions
{
    /// <summary>Lower end of the target range. Default 0.</summary>
    public double RangeMin { get; init; }

    /// <summary>Upper end of the target range; must exceed <see cref="RangeMin"/>. Default 1.</summary>
    public double RangeMax { get; init; } = 1;

    /// <summary>Per-series (default) or global statistics.</summary>
    public ScalingScope Scope { get; init; } = ScalingScope.PerSeries;

    /// <summary>Columns to scale; <c>null</c> scales every column.</summary>
    public IReadOnlyList<string>? Columns { get; init; }
}

/// <summary>Options of <see cref="StandardScaler"/>.</summary>
public sealed record StandardScalerOptions
{
    /// <summary>Per-series (default) or global statistics.</summary>
    public ScalingScope Scope { get; init; } = ScalingScope.PerSeries;

    /// <summary>Columns to scale; <c>null</c> scales every column.</summary>
    public IReadOnlyList<string>? Columns { get; init; }
}

/// <summary>
/// Min-max scaling: <c>x' = (x − min) / (max − min) · (b − a) + a</c> with [a, b] = [RangeMin, RangeMax] and min, max
/// taken from the training part. A constant column (max = min) maps to <c>a</c> with unit slope: <c>x' = x − min + a</c>.
/// </summary>
public sealed class MinMaxScaler(MinMaxScalerOptions? options = null) : IScaler
{
    /// <summary>The options.</summary>
    public MinMaxScalerOptions Options { get; } = options ?? new MinMaxScalerOptions();

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">RangeMax is not greater than RangeMin, or either is not finite.</exception>
    public FittedScaler Fit(DatasetSplit split)
    {
        if (!double.IsFinite(Options.RangeMin) || !double.IsFinite(Options.RangeMax) || Options.RangeMax <= Options.RangeMin)
            throw new ArgumentOutOfRangeException(nameof(Options), $"range [{Options.RangeMin}, {Options.RangeMax}] is invalid; RangeMax must be greater than RangeMin and both finite");
        double a = Options.RangeMin, b = Options.RangeMax;
        return ScalerFitting.Fit(split, ScalerKind.MinMax, Options.Scope, Options.Columns, values => ScalerFitting.MinMax(values, a, b), a, b);
    }
}

/// <summary>
/// Standard (z-score) scaling: <c>x' = (x − μ) / σ</c> with μ and the population standard deviation σ of the training
/// part. A constant column (σ = 0) uses σ = 1, so it maps to 0 without dividing by zero.
/// </summary>
public sealed class StandardScaler(StandardScalerOptions? options = null) : IScaler
{
    /// <summary>The options.</summary>
    public StandardScalerOptions Options { get; } = options ?? new StandardScalerOptions();

    /// <inheritdoc />
    public FittedScaler Fit(DatasetSplit split) => ScalerFitting.Fit(split, ScalerKind.Standard, Options.Scope, Options.Columns, ScalerFitting.Standard);
}

internal static class ScalerFitting
{
    /// <summary>Min-max to [a, b]; a constant column maps to a with unit slope.</summary>
    public static AffineTransform MinMax(IEnumerable<double> values, double a, double b)
    {
        double min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var v in values) { min = Math.Min(min, v); max = Math.Max(max, v); }
        if (!double.IsFinite(min)) return new AffineTransform(1, a);
        double range = max - min;
        double scale = range > 0 && double.IsFinite((b - a) / range) ? (b - a) / range : 1.0;
        return Checked(new AffineTransform(scale, a - min * scale), min, max);
    }

    /// <summary>Z-score with the population standard deviation; a constant column uses σ = 1.</summary>
    public static AffineTransform Standard(IEnumerable<double> values)
    {
        double mean = 0, m2 = 0;
        long n = 0;
        foreach (var v in values)
        {
            n++;
            double delta = v - mean;
            mean += delta / n;
            m2 += delta * (v - mean);
        }
        double std = n > 0 ? Math.Sqrt(m2 / n) : 0;
        double scale = std > 0 && double.IsFinite(1.0 / std) ? 1.0 / std : 1.0;
        return Checked(new AffineTransform(scale, -mean * scale), mean, mean);
    }

    private static AffineTransform Checked(AffineTransform transform, double low, double high)
    {
        if (transform.Scale == 0 || !double.IsFinite(transform.Scale) || !double.IsFinite(transform.Offset))
            throw new ArgumentException($"values between {low:G6} and {high:G6} cannot be scaled in double precision (the transform would be {transform}); rescale the data (for example to thousands) first", "values");
        return transform;
    }

    public static FittedScaler Fit(DatasetSplit split, ScalerKind kind, ScalingScope scope, IReadOnlyList<string>? requestedColumns, Func<IEnumerable<double>, AffineTransform> fit, double rangeMin = 0, double rangeMax = 1)
    {
        ArgumentNullException.ThrowIfNull(split);
        var train = split.Train;
        var columns = requestedColumns ?? train[0].ColumnNames;
        foreach (var series in train)
        {
            foreach (var column in columns)
            {
                var values = series.Column(column);
                for (int i = 0; i < values.Length; i++)
                    if (!double.IsFinite(values[i]))
                        throw new ArgumentException($"series '{series.Id}' column '{column}' is {values[i]} at index {i}; a scaler can only be fitted on finite values", nameof(split));
            }
        }

        var perSeries = new Dictionary<string, AffineTransform[]>(StringComparer.Ordinal);
        AffineTransform[]? global = null;
        if (scope == ScalingScope.Global)
            global = columns.Select(c => fit(train.SelectMany(s => s.Column(c).ToArray()))).ToArray();
        else
            foreach (var series in train)
                if (!perSeries.TryAdd(series.Id, columns.Select(c => fit(series.Column(c).ToArray())).ToArray()))
                    throw new ArgumentException($"series id '{series.Id}' appears twice in the training data; per-series scaling needs unique ids", nameof(split));
        return new FittedScaler(kind, scope, columns, perSeries, global, rangeMin, rangeMax);
    }
}
