using SeqForecast.Data;
using SeqForecast.Scaling;

namespace SeqForecast.Windows;

/// <summary>Standardisation of one column or numeric attribute: <c>x' = (x − Mean) / Scale</c>.</summary>
/// <param name="Mean">Subtracted first.</param>
/// <param name="Scale">Divisor; never 0.</param>
internal sealed record Standardization(double Mean, double Scale)
{
    /// <summary>The identity (mean 0, scale 1).</summary>
    public static Standardization Identity { get; } = new(0, 1);

    /// <summary>Applies it.</summary>
    public double Apply(double x) => (x - Mean) / Scale;

    /// <summary>Mean and population standard deviation of <paramref name="values"/> (scale 1 when constant or empty).</summary>
    public static Standardization Fit(IEnumerable<double> values)
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
        return new Standardization(n > 0 ? mean : 0, std > 0 && double.IsFinite(std) ? std : 1);
    }
}

/// <summary>How one static attribute becomes inputs: a one-hot block over <see cref="Categories"/>, or one standardised number.</summary>
/// <param name="Name">Attribute name.</param>
/// <param name="Categories">Categories seen in training, sorted (ordinal); null for a numeric attribute.</param>
/// <param name="Numeric">Standardisation of a numeric attribute; null for a category.</param>
internal sealed record StaticEncoding(string Name, IReadOnlyList<string>? Categories, Standardization? Numeric)
{
    /// <summary>Inputs this attribute adds per step.</summary>
    public int Width => Categories?.Count ?? 1;
}

/// <summary>What an encoder learned from the training data: covariate standardisation and static encodings.</summary>
/// <param name="Past">One per past covariate.</param>
/// <param name="Future">One per known-future covariate.</param>
/// <param name="Statics">One per static covariate.</param>
internal sealed record EncoderState(IReadOnlyList<Standardization> Past, IReadOnlyList<Standardization> Future, IReadOnlyList<StaticEncoding> Statics);

/// <summary>The normalisation side of an encoder (forecasters set it; raw window datasets leave it empty).</summary>
/// <param name="Instance">Per-window normalisation, or null.</param>
/// <param name="Residual">Baseline-residual mode, or null.</param>
/// <param name="ShortSeries">Short-series policy.</param>
/// <param name="MinimumHistory">Observed points a padded window needs (with <see cref="ShortSeriesPolicy.Pad"/>).</param>
/// <param name="UnknownCategories">What an unseen static category does.</param>
/// <param name="SeasonLength">Season of the MASE scale in the loss context.</param>
internal sealed record EncoderSettings(InstanceNormalization? Instance, ResidualBaseline? Residual, ShortSeriesPolicy ShortSeries, int MinimumHistory, UnknownCategoryPolicy UnknownCategories, int SeasonLength)
{
    public static EncoderSettings Raw { get; } = new(null, null, ShortSeriesPolicy.Error, 1, UnknownCategoryPolicy.Error, 1);
}

/// <summary>
/// Turns series into network inputs and targets, and network outputs back into original units. One encoder serves
/// training windows, validation windows and predictions, so the three can never disagree about the layout.
/// </summary>
/// <remarks>
/// Shapes: inputs <c>[TimeSteps, FeatureCount]</c> per window (the layout of <see cref="WindowSpec"/>), targets and
/// the loss context <c>[Horizon, TargetCount]</c>. Values: targets and their lags are
/// <c>(a·y + b − c)/s</c>, where (a, b) is the series' fitted scaler (1, 0 without one) and (c, s) the window's
/// instance statistics (0, 1 without); targets are <c>(a·y + b − base)/s</c> with base = c, or the residual baseline's
/// forecast; so <c>y = value·Scale + Offset</c> with <c>Scale = s/a</c> and <c>Offset = (base − b)/a</c>.
/// </remarks>
internal sealed class WindowEncoder
{
    private readonly int _maskOffset, _pastOffset, _lagOffset, _futureOffset, _calendarOffset, _holidayOffset, _staticOffset;

    public WindowEncoder(WindowSpec spec, IReadOnlyList<string> targets, EncoderSettings settings, EncoderState state)
    {
        Spec = spec;
        Targets = targets;
        Settings = settings;
        State = state;
        int t = targets.Count;
        HasMask = spec.HasKnownFuture || settings.ShortSeries == ShortSeriesPolicy.Pad;
        _maskOffset = t;
        _pastOffset = _maskOffset + (HasMask ? 1 : 0);
        _lagOffset = _pastOffset + spec.Features.Count;
        _futureOffset = _lagOffset + spec.SeasonalLags.Count * t;
        _calendarOffset = _futureOffset + spec.FutureCovariates.Count;
        _holidayOffset = _calendarOffset + CalendarEncoding.Count(spec.Calendar);
        _staticOffset = _holidayOffset + (spec.Holidays is null ? 0 : 1);
        FeatureCount = _staticOffset + state.Statics.Sum(s => s.Width);
    }

    public WindowSpec Spec { get; }

    public IReadOnlyList<string> Targets { get; }

    public EncoderSettings Settings { get; }

    public EncoderState State { get; }

    public bool HasMask { get; }

    public int FeatureCount { get; }

    public int TimeSteps => Spec.TimeSteps;

    public int TargetCount => Targets.Count;

    /// <summary>Floats per window target: horizon × targets.</summary>
    public int TargetLength => Spec.Horizon * Targets.Count;

    /// <summary>Floats per window input.</summary>
    public int InputLength => TimeSteps * FeatureCount;

    /// <summary>Fewest observed points before a window's origin.</summary>
    public int MinimumHistory => Settings.ShortSeries == ShortSeriesPolicy.Pad ? Math.Min(Spec.Lookback, Settings.MinimumHistory) : Spec.Lookback;

    /// <summary>Names of the inputs of one step, in order.</summary>
    public IReadOnlyList<string> FeatureNames()
    {
        var names = new List<string>(Targets);
        if (HasMask) names.Add("observed");
        names.AddRange(Spec.Features);
        foreach (var lag in Spec.SeasonalLags) names.AddRange(Targets.Select(t => $"{t}_lag{lag}"));
        names.AddRange(Spec.FutureCovariates);
        names.AddRange(CalendarEncoding.Names(Spec.Calendar));
        if (Spec.Holidays is not null) names.Add("holiday");
        foreach (var s in State.Statics) names.AddRange(s.Categories is null ? [s.Name] : s.Categories.Select(c => $"{s.Name}={c}"));
        return names;
    }

    /// <summary>
    /// Learns covariate standardisation (when <paramref name="standardize"/>) and static encodings from
    /// <paramref name="training"/>; raw datasets pass false and see covariates as they are.
    /// </summary>
    public static EncoderState FitState(WindowSpec spec, IReadOnlyList<TimeSeries> training, bool standardize)
    {
        Standardization Column(string name) => standardize
            ? Standardization.Fit(training.SelectMany(s => s.Column(name).ToArray()).Where(double.IsFinite))
            : Standardization.Identity;
        var past = spec.Features.Select(Column).ToArray();
        var future = spec.FutureCovariates.Select(Column).ToArray();
        var statics = new List<StaticEncoding>();
        foreach (var name in spec.StaticCovariates)
        {
            var values = training.Select(s => s.Statics.TryGetValue(name, out var v) ? v
                : throw new ArgumentException($"series '{s.Id}' has no static attribute '{name}'; it has: {(s.Statics.Count == 0 ? "none" : string.Join(", ", s.Statics.Keys))}", nameof(training))).ToArray();
            int categories = values.Count(v => v.IsCategory);
            if (categories > 0 && categories < values.Length)
                throw new ArgumentException($"static attribute '{name}' is a category for {categories} series and a number for {values.Length - categories}; it must be one or the other", nameof(training));
            statics.Add(categories > 0
                ? new StaticEncoding(name, values.Select(v => v.Category!).Distinct().Order(StringComparer.Ordinal).ToArray(), null)
                : new StaticEncoding(name, null, standardize ? Standardization.Fit(values.Select(v => v.Number)) : Standardization.Identity));
        }
        return new EncoderState(past, future, statics);
    }

    /// <summary>
    /// Prepares one series: its history, optionally followed by <paramref name="future"/> values of the known-future
    /// covariates, with room for <paramref name="extraSteps"/> appended forecasts (recursive decoding).
    /// </summary>
    /// <exception cref="ArgumentException">A column, attribute or timestamp is missing, a value is not finite, or a category is unknown (with <see cref="UnknownCategoryPolicy.Error"/>).</exception>
    public SeriesFrame Frame(TimeSeries history, FittedScaler? scaler, TimeSeries? future = null, int extraSteps = 0)
    {
        ArgumentNullException.ThrowIfNull(history);
        Spec.ValidateSeries(history, 1);
        int n = history.Length, t = Targets.Count;
        var y = new double[t][];
        var a = new double[t];
        var b = new double[t];
        for (int k = 0; k < t; k++)
        {
            var values = history.Column(Targets[k]);
            RequireFinite(history, Targets[k], values);
            var affine = scaler is null ? new AffineTransform(1, 0) : scaler.TransformFor(history.Id, Targets[k], values);
            a[k] = affine.Scale;
            b[k] = affine.Offset;
            y[k] = new double[n + extraSteps];
            for (int i = 0; i < n; i++) y[k][i] = affine.Apply(values[i]);
        }
        var past = new float[Spec.Features.Count][];
        for (int p = 0; p < past.Length; p++)
        {
            var values = history.Column(Spec.Features[p]);
            RequireFinite(history, Spec.Features[p], values);
            past[p] = new float[n];
            for (int i = 0; i < n; i++) past[p][i] = (float)State.Past[p].Apply(values[i]);
        }
        int futureSteps = future?.Length ?? 0;
        if (future is not null && Spec.FutureCovariates.Count > 0)
            foreach (var name in Spec.FutureCovariates) future.ColumnIndex(name);
        var futureValues = new float[Spec.FutureCovariates.Count][];
        for (int f = 0; f < futureValues.Length; f++)
        {
            string name = Spec.FutureCovariates[f];
            var observed = history.Column(name);
            RequireFinite(history, name, observed);
            futureValues[f] = new float[n + futureSteps];
            for (int i = 0; i < n; i++) futureValues[f][i] = (float)State.Future[f].Apply(observed[i]);
            if (future is null) continue;
            var ahead = future.Column(name);
            RequireFinite(future, name, ahead);
            for (int i = 0; i < futureSteps; i++) futureValues[f][n + i] = (float)State.Future[f].Apply(ahead[i]);
        }
        DateTime[]? times = history.HasTimestamps ? history.Timestamps.ToArray() : null;
        Frequency? frequency = times is { Length: >= 2 } ? FrequencyExtensions.Infer(times, history.Id) : null;
        return new SeriesFrame(history.Id, n, y, a, b, past, futureValues, n + futureSteps, times, frequency, Statics(history), MaseScales(y[0], n, a[0], Settings.SeasonLength), Settings.SeasonLength);
    }

    /// <summary>
    /// Encodes the window whose first forecast step is <paramref name="origin"/>: inputs [TimeSteps, FeatureCount] and,
    /// when <paramref name="target"/> is not empty, targets, scale and offset [Horizon, TargetCount]; returns the
    /// window's loss weight (one over the in-sample naive MAE before the origin, in original units).
    /// Without targets, scale and offset are still written (they decode a forecast).
    /// </summary>
    public float Encode(SeriesFrame frame, int origin, Span<float> input, Span<float> target, Span<float> scale, Span<float> offset)
    {
        int lookback = Spec.Lookback, horizon = Spec.Horizon, t = Targets.Count, features = FeatureCount, steps = TimeSteps;
        int start = Math.Max(0, origin - lookback);
        Span<double> center = stackalloc double[t];
        Span<double> spread = stackalloc double[t];
        for (int k = 0; k < t; k++) (center[k], spread[k]) = Statistics(frame.Y[k].AsSpan(start, origin - start));

        input[..(steps * features)].Clear();
        for (int j = 0; j < steps; j++)
        {
            int tau = origin - lookback + j;
            var row = input.Slice(j * features, features);
            bool observed = j < lookback && tau >= 0;
            if (observed)
            {
                for (int k = 0; k < t; k++) row[k] = (float)((frame.Y[k][tau] - center[k]) / spread[k]);
                if (HasMask) row[_maskOffset] = 1;
                for (int p = 0; p < frame.Past.Length; p++) row[_pastOffset + p] = frame.Past[p][tau];
            }
            for (int l = 0; l < Spec.SeasonalLags.Count; l++)
            {
                int source = tau - Spec.SeasonalLags[l];
                if (source < 0 || source >= origin) continue;
                for (int k = 0; k < t; k++) row[_lagOffset + l * t + k] = (float)((frame.Y[k][source] - center[k]) / spread[k]);
            }
            if (tau >= 0 && tau < frame.FutureLength)
                for (int f = 0; f < frame.Future.Length; f++) row[_futureOffset + f] = frame.Future[f][tau];
            if ((Spec.Calendar != CalendarFeatures.None || Spec.Holidays is not null) && frame.TimeAt(tau) is { } time)
            {
                CalendarEncoding.Encode(time, Spec.Calendar, row[_calendarOffset..]);
                if (Spec.Holidays is { } holidays && holidays.IsHoliday(time)) row[_holidayOffset] = 1;
            }
            frame.Statics.CopyTo(row[_staticOffset..]);
        }

        bool withTargets = !target.IsEmpty;
        for (int h = 0; h < horizon; h++)
        {
            for (int k = 0; k < t; k++)
            {
                double baseline = Baseline(frame.Y[k], origin, h, center[k]);
                int e = h * t + k;
                if (withTargets) target[e] = (float)((frame.Y[k][origin + h] - baseline) / spread[k]);
                scale[e] = (float)(spread[k] / frame.A[k]);
                offset[e] = (float)((baseline - frame.B[k]) / frame.A[k]);
            }
        }
        return frame.Weight(origin);
    }

    /// <summary>
    /// The double-precision map from network outputs back to original units for the window at <paramref name="origin"/>:
    /// <c>y = output·scale + offset</c>, [Horizon, TargetCount] (predictions decode with it; float spans would round
    /// large levels).
    /// </summary>
    public void Decoding(SeriesFrame frame, int origin, Span<double> scale, Span<double> offset)
    {
        int start = Math.Max(0, origin - Spec.Lookback), t = Targets.Count;
        for (int k = 0; k < t; k++)
        {
            var (center, spread) = Statistics(frame.Y[k].AsSpan(start, origin - start));
            for (int h = 0; h < Spec.Horizon; h++)
            {
                double baseline = Baseline(frame.Y[k], origin, h, center);
                scale[h * t + k] = spread / frame.A[k];
                offset[h * t + k] = (baseline - frame.B[k]) / frame.A[k];
            }
        }
    }

    /// <summary>Writes the standardised encoding of <paramref name="series"/>'s static attributes.</summary>
    private float[] Statics(TimeSeries series)
    {
        var values = new float[FeatureCount - _staticOffset];
        int at = 0;
        foreach (var encoding in State.Statics)
        {
            if (!series.Statics.TryGetValue(encoding.Name, out var value))
                throw new ArgumentException($"series '{series.Id}' has no static attribute '{encoding.Name}'; the model was trained with it", nameof(series));
            if (encoding.Categories is { } categories)
            {
                if (!value.IsCategory)
                    throw new ArgumentException($"series '{series.Id}' static attribute '{encoding.Name}' is the number {value}; the model was trained with categories ({string.Join(", ", categories)})", nameof(series));
                int index = IndexOf(categories, value.Category!);
                if (index >= 0) values[at + index] = 1;
                else if (Settings.UnknownCategories == UnknownCategoryPolicy.Error)
                    throw new ArgumentException($"series '{series.Id}' static attribute '{encoding.Name}' is '{value.Category}', a category the model did not see in training (known: {string.Join(", ", categories)}); set UnknownCategories = Zeros to forecast it with no category", nameof(series));
            }
            else
            {
                if (value.IsCategory)
                    throw new ArgumentException($"series '{series.Id}' static attribute '{encoding.Name}' is the category '{value.Category}'; the model was trained with numbers", nameof(series));
                values[at] = (float)encoding.Numeric!.Apply(value.Number);
            }
            at += encoding.Width;
        }
        return values;
    }

    private static int IndexOf(IReadOnlyList<string> values, string value)
    {
        for (int i = 0; i < values.Count; i++) if (string.Equals(values[i], value, StringComparison.Ordinal)) return i;
        return -1;
    }

    private (double Center, double Scale) Statistics(ReadOnlySpan<double> window)
    {
        if (Settings.Instance is not { } instance || window.Length == 0) return (0, 1);
        double mean = 0;
        foreach (var v in window) mean += v;
        mean /= window.Length;
        double center = instance.Center switch { NormalizationCenter.Mean => mean, NormalizationCenter.LastValue => window[^1], _ => 0 };
        double spread;
        switch (instance.Scale)
        {
            case NormalizationScale.StandardDeviation:
                double m2 = 0;
                foreach (var v in window) m2 += (v - mean) * (v - mean);
                spread = Math.Sqrt(m2 / window.Length);
                break;
            case NormalizationScale.MeanAbsoluteDifference:
                double sum = 0;
                for (int i = 1; i < window.Length; i++) sum += Math.Abs(window[i] - window[i - 1]);
                spread = window.Length > 1 ? sum / (window.Length - 1) : 0;
                break;
            case NormalizationScale.MeanAbsolute:
                double absolute = 0;
                foreach (var v in window) absolute += Math.Abs(v);
                spread = absolute / window.Length;
                break;
            default:
                return (center, 1);
        }
        spread = Math.Max(spread, 1e-3 * Math.Abs(center));
        return (center, spread > 0 && double.IsFinite(spread) ? spread : 1);
    }

    private double Baseline(double[] y, int origin, int h, double center)
    {
        if (Settings.Residual is not { } residual) return center;
        if (residual.Kind == ResidualBaselineKind.SeasonalNaive)
        {
            int index = origin - residual.SeasonLength + h % residual.SeasonLength;
            if (index >= 0) return y[index];
        }
        return y[origin - 1];
    }

    /// <summary>Prefix sums of |y_t − y_{t−m}| over the history, for the in-sample MASE scale at any origin.</summary>
    private static double[] MaseScales(double[] scaledTarget, int n, double a, int season)
    {
        var prefix = new double[n + 1];
        for (int i = 1; i <= n; i++)
            prefix[i] = prefix[i - 1] + (i - 1 >= season ? Math.Abs(scaledTarget[i - 1] - scaledTarget[i - 1 - season]) / Math.Abs(a) : 0);
        return prefix;
    }

    private static void RequireFinite(TimeSeries series, string column, ReadOnlySpan<double> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (double.IsFinite(values[i])) continue;
            var where = series.HasTimestamps ? $"{FrequencyExtensions.Format(series.Timestamps[i])} (index {i})" : $"index {i}";
            throw new ArgumentException($"series '{series.Id}' column '{column}' is {values[i]} at {where}; forecasts need finite values (clean the data, for example with a MissingValuePolicy)", nameof(series));
        }
    }
}

/// <summary>One series prepared for encoding: scaled target values (with room for appended forecasts), standardised covariates, times and statics.</summary>
internal sealed class SeriesFrame(string id, int length, double[][] y, double[] a, double[] b, float[][] past, float[][] future, int futureLength, DateTime[]? times, Frequency? frequency, float[] statics, double[] maseSums, int season)
{
    public string Id { get; } = id;

    /// <summary>Points of history (grows as forecasts are appended).</summary>
    public int Length { get; private set; } = length;

    /// <summary>[targets][points]: a·y + b.</summary>
    public double[][] Y { get; } = y;

    public double[] A { get; } = a;

    public double[] B { get; } = b;

    public float[][] Past { get; } = past;

    public float[][] Future { get; } = future;

    /// <summary>Points for which the known-future covariates are known.</summary>
    public int FutureLength { get; } = futureLength;

    public float[] Statics { get; } = statics;

    /// <summary>Points of history the frame was built from (before any appended forecast).</summary>
    public int HistoryLength { get; } = length;

    /// <summary>Timestamp of point <paramref name="index"/> (before the start or after the end through the frequency), or null when unknown.</summary>
    public DateTime? TimeAt(int index)
    {
        if (times is null || times.Length == 0) return null;
        if (index >= 0 && index < times.Length) return times[index];
        if (frequency is not { } f) return null;
        try
        {
            return index < 0 ? f.Advance(times[0], index) : f.Advance(times[^1], index - times.Length + 1);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>The frequency of the timestamps, or null.</summary>
    public Frequency? Frequency => frequency;

    /// <summary>Loss weight at <paramref name="origin"/>: one over the mean |y_t − y_(t−m)| before it, in original units (1 when undefined).</summary>
    public float Weight(int origin)
    {
        int o = Math.Min(origin, maseSums.Length - 1);
        int terms = o - season;
        if (terms < 1) return 1f;
        double mean = maseSums[o] / terms;
        return mean > 0 && double.IsFinite(mean) ? (float)(1 / mean) : 1f;
    }

    /// <summary>Appends one forecast step (scaled values, one per target) for recursive decoding.</summary>
    public void Append(ReadOnlySpan<double> values)
    {
        for (int k = 0; k < Y.Length; k++) Y[k][Length] = values[k];
        Length++;
    }
}
