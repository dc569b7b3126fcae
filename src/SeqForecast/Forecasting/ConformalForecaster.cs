using SeqForecast.Data;
using SeqForecast.Serialization;

namespace SeqForecast.Forecasting;

/// <summary>Where a conformal wrapper's calibration residuals come from.</summary>
public enum ConformalCalibration
{
    /// <summary>
    /// Fit the inner forecaster on each series up to the calibration window, forecast the window, then (by default)
    /// refit on all the data: the residuals are strictly out of sample; two fits.
    /// </summary>
    Refit,
    /// <summary>
    /// Fit the inner forecaster once, holding the calibration window out as its validation part
    /// (<see cref="FitOptions.ValidationLength"/>): its weights never train on it, though early stopping looks at it,
    /// so the intervals can be slightly narrow. One fit; the model does not see the most recent window.
    /// </summary>
    ValidationPart,
}

/// <summary>How a conformal wrapper calibrates its intervals.</summary>
/// <param name="Horizon">Steps of the calibration forecasts (usually the inner forecaster's horizon). Range: ≥ 1.</param>
public sealed record ConformalOptions(int Horizon)
{
    /// <summary>Where the residuals come from. Default <see cref="ConformalCalibration.Refit"/>.</summary>
    public ConformalCalibration Calibration { get; init; } = ConformalCalibration.Refit;

    /// <summary>Central interval coverages to produce, each in (0, 1). Default 0.8 and 0.95.</summary>
    public IReadOnlyList<double> Levels { get; init; } = [0.8, 0.95];

    /// <summary>
    /// Calibration window: forecast origins per series, the last at <c>n − Horizon</c> and each earlier one
    /// <see cref="Step"/> points before the next. The calibration model is fitted on the data before the earliest
    /// origin, so every calibration residual is out of sample. Range: ≥ 1. Default 4.
    /// </summary>
    public int CalibrationOrigins { get; init; } = 4;

    /// <summary>Points between calibration origins; null (default): the horizon.</summary>
    public int? Step { get; init; }

    /// <summary>
    /// Season length m of the per-series scale the residuals are divided by (the mean |y_t − y_(t−m)| of the history
    /// before the origin), so series of different sizes share one calibration. Range: ≥ 1. Default 1.
    /// </summary>
    public int SeasonLength { get; init; } = 1;

    /// <summary>With <see cref="ConformalCalibration.Refit"/>: after calibrating, refit the inner forecaster on all the data (default true); false keeps the calibration model.</summary>
    public bool RefitOnFullData { get; init; } = true;

    /// <summary>Clamp interval bounds at zero (quantities that cannot be negative). Default false.</summary>
    public bool NonNegative { get; init; }

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Horizon);
        ArgumentNullException.ThrowIfNull(Levels);
        if (Levels.Count == 0) throw new ArgumentException("conformal intervals need at least one coverage level, for example 0.9", nameof(Levels));
        foreach (var level in Levels)
            if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(Levels), level, $"coverage level ({level}) must be in (0, 1)");
        if (Levels.Distinct().Count() != Levels.Count) throw new ArgumentException("a coverage level is listed twice", nameof(Levels));
        if (CalibrationOrigins < 1) throw new ArgumentOutOfRangeException(nameof(CalibrationOrigins), CalibrationOrigins, $"calibration origins ({CalibrationOrigins}) must be >= 1");
        if (Step is < 1) throw new ArgumentOutOfRangeException(nameof(Step), Step, $"step ({Step}) must be >= 1");
        if (SeasonLength < 1) throw new ArgumentOutOfRangeException(nameof(SeasonLength), SeasonLength, $"season length ({SeasonLength}) must be >= 1");
        if (!Enum.IsDefined(Calibration)) throw new ArgumentOutOfRangeException(nameof(Calibration), Calibration, "calibration must be Refit or ValidationPart");
    }
}

/// <summary>
/// Split-conformal prediction intervals for any forecaster (baselines included). Calibration: the inner forecaster is
/// fitted on each series up to the earliest calibration origin, forecasts from each of the last
/// <see cref="ConformalOptions.CalibrationOrigins"/> origins, and the absolute errors, divided by each series' own
/// scale, are pooled per horizon step. The half-width of the interval of coverage 1 − α at step h is the
/// ⌈(n + 1)(1 − α)⌉-th smallest of the n scores of that step (the finite-sample conformal quantile), times the series'
/// scale. If residuals are exchangeable, the interval covers the actual with probability at least 1 − α.
/// </summary>
public sealed class ConformalForecaster : IForecaster
{
    /// <summary>Wraps <paramref name="inner"/>.</summary>
    public ConformalForecaster(IForecaster inner, ConformalOptions options)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Inner = inner;
        Options = options;
    }

    /// <summary>The forecaster whose errors are calibrated.</summary>
    public IForecaster Inner { get; }

    /// <summary>The calibration settings.</summary>
    public ConformalOptions Options { get; }

    /// <inheritdoc />
    public string Name => $"conformal({Inner.Name})";

    IFittedForecaster IForecaster.Fit(IReadOnlyList<TimeSeries> series, FitOptions? options) => Fit(series, options);

    /// <summary>Calibrates on the end of each series, then (by default) refits the inner forecaster on all of it.</summary>
    /// <exception cref="ArgumentException">A series is too short for the calibration window.</exception>
    public FittedConformal Fit(IReadOnlyList<TimeSeries> series, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("series is empty", nameof(series));
        int horizon = Options.Horizon, step = Options.Step ?? horizon, origins = Options.CalibrationOrigins;
        int span = horizon + (origins - 1) * step;
        foreach (var s in series)
            if (s.Length <= span + 1)
                throw new ArgumentException($"series '{s.Id}' has {s.Length} points; a calibration window of {origins} origins every {step} points with horizon {horizon} needs more than {span + 1}", nameof(series));

        bool validationPart = Options.Calibration == ConformalCalibration.ValidationPart;
        var calibration = validationPart
            ? Inner.Fit(series, (options ?? new FitOptions()) with { ValidationLength = span })
            : Inner.Fit(series.Select(s => s.Slice(0, s.Length - span)).ToArray(), options);
        var scores = Enumerable.Range(0, horizon).Select(_ => new List<double>()).ToArray();
        try
        {
            for (int j = 0; j < origins; j++)
            {
                var histories = series.Select(s => s.Slice(0, s.Length - span + j * step)).ToArray();
                var future = series.Select((s, i) => s.Slice(histories[i].Length, horizon)).ToArray();
                var predictions = calibration.Predict(histories, new PredictOptions { Horizon = horizon, Future = future });
                for (int i = 0; i < series.Count; i++)
                {
                    var target = predictions[i].Targets[0];
                    double scale = Scale(histories[i].Column(target), Options.SeasonLength);
                    var actual = future[i].Column(target);
                    for (int h = 0; h < horizon; h++) scores[h].Add(Math.Abs(actual[h] - predictions[i].Values[0][h]) / scale);
                }
            }
        }
        catch
        {
            calibration.Dispose();
            throw;
        }

        var halfWidths = Options.Levels.Select(level => scores.Select(list => ConformalQuantile(list, level)).ToArray()).ToArray();
        IFittedForecaster model = calibration;
        if (Options.RefitOnFullData && !validationPart)
        {
            calibration.Dispose();
            model = Inner.Fit(series, options);
        }
        return new FittedConformal(model, Options.Levels, halfWidths, scores[0].Count, Options.SeasonLength, Options.NonNegative);
    }

    /// <summary>The ⌈(n + 1)·coverage⌉-th smallest score (the largest when that rank exceeds n).</summary>
    internal static double ConformalQuantile(IReadOnlyList<double> scores, double coverage)
    {
        var sorted = scores.Order().ToArray();
        int rank = (int)Math.Ceiling((sorted.Length + 1) * coverage);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    /// <summary>The mean |y_t − y_(t−m)| of <paramref name="history"/>; the mean |y| when that is 0, and 1 when both are.</summary>
    internal static double Scale(ReadOnlySpan<double> history, int season)
    {
        double sum = 0;
        int count = 0;
        for (int t = season; t < history.Length; t++) { sum += Math.Abs(history[t] - history[t - season]); count++; }
        if (count > 0 && sum > 0) return sum / count;
        double level = 0;
        foreach (var v in history) level += Math.Abs(v);
        return level > 0 ? level / history.Length : 1;
    }
}

/// <summary>A fitted conformal wrapper: the inner point forecast with calibrated central intervals as quantiles.</summary>
public sealed class FittedConformal : IFittedForecaster, IModelNode
{
    private readonly IReadOnlyList<double> _coverages;
    private readonly double[][] _halfWidths; // [level][step], in units of the series scale
    private readonly int _season;
    private readonly bool _nonNegative;

    internal FittedConformal(IFittedForecaster inner, IReadOnlyList<double> coverages, double[][] halfWidths, int calibrationScores, int season, bool nonNegative)
    {
        Inner = inner;
        _coverages = coverages.ToArray();
        _halfWidths = halfWidths;
        CalibrationScores = calibrationScores;
        _season = season;
        _nonNegative = nonNegative;
        QuantileLevels = coverages.SelectMany(c => new[] { Math.Round((1 - c) / 2, 12), Math.Round((1 + c) / 2, 12) }).Append(0.5).Distinct().Order().ToArray();
    }

    /// <summary>The forecaster whose point forecasts are widened.</summary>
    public IFittedForecaster Inner { get; }

    /// <summary>Calibration residuals per horizon step.</summary>
    public int CalibrationScores { get; }

    /// <summary>Calibrated half-widths: <c>[coverage][step]</c>, in units of each series' scale.</summary>
    public IReadOnlyList<double[]> HalfWidths => _halfWidths;

    /// <inheritdoc />
    public string Name => $"conformal({Inner.Name})";

    /// <inheritdoc />
    public int Horizon => Inner.Horizon;

    /// <summary>The interval bounds of every coverage and 0.5 (the point forecast), increasing.</summary>
    public IReadOnlyList<double> QuantileLevels { get; }

    /// <inheritdoc />
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<TimeSeries> history, PredictOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        var inner = Inner.Predict(history, options);
        var result = new Prediction[inner.Count];
        for (int s = 0; s < inner.Count; s++)
        {
            var p = inner[s];
            double scale = ConformalForecaster.Scale(history[s].Column(p.Targets[0]), _season);
            var point = p.Values[0];
            var quantiles = new double[QuantileLevels.Count][];
            for (int q = 0; q < QuantileLevels.Count; q++)
            {
                double level = QuantileLevels[q];
                quantiles[q] = new double[point.Length];
                if (Math.Abs(level - 0.5) < 1e-12) { point.CopyTo(quantiles[q], 0); continue; }
                int c = IndexOfCoverage(Math.Abs(1 - 2 * level));
                double sign = level < 0.5 ? -1 : 1;
                for (int h = 0; h < point.Length; h++)
                {
                    var widths = _halfWidths[c];
                    double bound = point[h] + sign * widths[Math.Min(h, widths.Length - 1)] * scale;
                    quantiles[q][h] = _nonNegative ? Math.Max(0, bound) : bound;
                }
            }
            // Intervals are calibrated for the first target; Quantiles holds that target only.
            result[s] = p with { QuantileLevels = QuantileLevels, Quantiles = [quantiles] };
        }
        return result;
    }

    /// <inheritdoc />
    public void Save(Stream stream)
    {
        var (node, tensors) = ((IModelNode)this).ToNode("");
        ModelFile.Write(stream, node, tensors);
    }

    /// <summary>Disposes the inner forecaster.</summary>
    public void Dispose() => Inner.Dispose();

    (ModelNode Node, IReadOnlyList<NamedTensor> Tensors) IModelNode.ToNode(string prefix)
    {
        if (Inner is not IModelNode writer)
            throw new NotSupportedException($"the wrapped forecaster '{Inner.Name}' cannot be saved in a model file");
        var (inner, tensors) = writer.ToNode(prefix + "inner.");
        return (new ConformalNode { Name = Name, Levels = _coverages, HalfWidths = _halfWidths, CalibrationWindows = CalibrationScores, Inner = inner, SeasonLength = _season, NonNegative = _nonNegative }, tensors);
    }

    internal static FittedConformal FromNode(ConformalNode node, IFittedForecaster inner, string source)
    {
        if (node.Levels is not { Count: > 0 } levels || levels.Any(l => !(l > 0 && l < 1)) || levels.Distinct().Count() != levels.Count)
            throw new InvalidDataException($"model file '{source}' has conformal levels that are missing, repeated or outside (0, 1)");
        if (node.HalfWidths is null || node.HalfWidths.Count != levels.Count || node.HalfWidths.Any(w => w is not { Length: > 0 } || w.Length > Windows.WindowSpec.MaxLength || w.Any(x => !(x >= 0) || !double.IsFinite(x))))
            throw new InvalidDataException($"model file '{source}' has conformal half-widths that do not match its levels or are not finite and non-negative");
        if (node.SeasonLength < 1 || node.SeasonLength > Windows.WindowSpec.MaxLength)
            throw new InvalidDataException($"model file '{source}' has a conformal season length {node.SeasonLength} out of range");
        return new FittedConformal(inner, levels, node.HalfWidths.Select(w => (double[])w.Clone()).ToArray(), node.CalibrationWindows, node.SeasonLength, node.NonNegative);
    }

    private int IndexOfCoverage(double coverage)
    {
        for (int c = 0; c < _coverages.Count; c++) if (Math.Abs(_coverages[c] - coverage) < 1e-9) return c;
        throw new InvalidOperationException($"no calibrated coverage {coverage}");
    }
}
