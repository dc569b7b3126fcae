namespace SeqForecast.Windows;

/// <summary>Where an instance-normalised window is centred.</summary>
public enum NormalizationCenter
{
    /// <summary>The mean of the window's observed values (RevIN).</summary>
    Mean,
    /// <summary>The window's last observed value: the network forecasts the change from it, as a naive forecast would start.</summary>
    LastValue,
    /// <summary>
    /// No centring: zero stays zero, so a day that sells nothing is an output at or below 0 (with
    /// <c>NonNegative</c>) rather than one exact value that moves with the window. For counts and intermittent demand,
    /// with <see cref="NormalizationScale.MeanAbsolute"/> (DeepAR's mean scaling).
    /// </summary>
    Zero,
}

/// <summary>How an instance-normalised window is scaled.</summary>
public enum NormalizationScale
{
    /// <summary>The population standard deviation of the window's observed values.</summary>
    StandardDeviation,
    /// <summary>The mean absolute difference of consecutive observed values (the in-window naive MAE, MASE's scale).</summary>
    MeanAbsoluteDifference,
    /// <summary>No scaling (only centring).</summary>
    None,
    /// <summary>The mean absolute value of the window's observed values (the window's typical size).</summary>
    MeanAbsolute,
}

/// <summary>
/// Per-window (instance) normalisation, as RevIN: each window's target values are centred and scaled by the window's
/// own observed statistics, the network forecasts in those units, and the forecast is scaled back. Levels never seen in
/// training are then no problem, and no per-series state is kept (new series forecast without refitting anything).
/// </summary>
/// <remarks>
/// <para>A degenerate window (all values equal, all zero) would divide by zero: the scale is then
/// <c>max(s, 0.001·|c|)</c>, and 1 when that is 0.</para>
/// <para>RevIN's learned affine (γ, β on the normalised input and their inverse on the output) is not offered: with the
/// input projection <c>W_ih</c> and the linear head of these networks it is an exact reparametrisation (γ and β fold
/// into <c>W_ih</c>, the input bias and the head), so it adds no capacity.</para>
/// </remarks>
public sealed record InstanceNormalization
{
    /// <summary>Centre. Default <see cref="NormalizationCenter.Mean"/>.</summary>
    public NormalizationCenter Center { get; init; } = NormalizationCenter.Mean;

    /// <summary>Scale. Default <see cref="NormalizationScale.StandardDeviation"/>.</summary>
    public NormalizationScale Scale { get; init; } = NormalizationScale.StandardDeviation;

    /// <summary>Mean and standard deviation (RevIN).</summary>
    public static InstanceNormalization MeanStd { get; } = new();

    /// <summary>Last value and mean absolute difference: forecasts the change from the last value, in units of the window's typical step.</summary>
    public static InstanceNormalization LastValueDifference { get; } = new() { Center = NormalizationCenter.LastValue, Scale = NormalizationScale.MeanAbsoluteDifference };

    /// <summary>
    /// No centring, scaled by the window's mean absolute value (DeepAR's mean scaling): zero stays zero, so counts and
    /// intermittent demand (days with no sales) are forecast as well as levels.
    /// </summary>
    public static InstanceNormalization MeanScaling { get; } = new() { Center = NormalizationCenter.Zero, Scale = NormalizationScale.MeanAbsolute };

    /// <summary>Checks the values.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Center)) throw new ArgumentOutOfRangeException(nameof(Center), Center, "center must be Mean, LastValue or Zero");
        if (!Enum.IsDefined(Scale)) throw new ArgumentOutOfRangeException(nameof(Scale), Scale, "scale must be StandardDeviation, MeanAbsoluteDifference, MeanAbsolute or None");
    }
}

/// <summary>Which baseline a residual-mode network corrects.</summary>
public enum ResidualBaselineKind
{
    /// <summary>The last observed value.</summary>
    Naive,
    /// <summary>The value one season earlier (falls back to naive where the history is shorter than a season).</summary>
    SeasonalNaive,
}

/// <summary>
/// Baseline-residual mode: the network forecasts the correction to a baseline forecast made from the same window's
/// history, and the forecast is baseline + correction. A network whose output is zero forecasts the baseline exactly,
/// so training starts from the baseline's accuracy.
/// </summary>
/// <param name="Kind">Naive or seasonal naive.</param>
/// <param name="SeasonLength">Season length for seasonal naive (7 for daily data with a weekly cycle). Range: ≥ 1.</param>
public sealed record ResidualBaseline(ResidualBaselineKind Kind, int SeasonLength = 1)
{
    /// <summary>Seasonal naive of season <paramref name="seasonLength"/>.</summary>
    public static ResidualBaseline Seasonal(int seasonLength) => new(ResidualBaselineKind.SeasonalNaive, seasonLength);

    /// <summary>Naive (last value).</summary>
    public static ResidualBaseline Naive { get; } = new(ResidualBaselineKind.Naive);

    /// <summary>Checks the values.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "baseline must be Naive or SeasonalNaive");
        if (SeasonLength < 1 || SeasonLength > WindowSpec.MaxLength) throw new ArgumentOutOfRangeException(nameof(SeasonLength), SeasonLength, $"season length ({SeasonLength}) must be in [1, {WindowSpec.MaxLength}]");
    }
}

/// <summary>What training and prediction do with a series shorter than the lookback (+ horizon).</summary>
public enum ShortSeriesPolicy
{
    /// <summary>Throw, naming the series and the points needed.</summary>
    Error,
    /// <summary>Leave the series out of training and report it (<c>TrainingReport.SkippedSeries</c>); prediction still needs a full lookback.</summary>
    Skip,
    /// <summary>
    /// Pad the missing start of the lookback with zeros marked unobserved (the "observed" input is 0 there), so windows
    /// with at least the minimum history train and predict. Long series keep the whole lookback.
    /// </summary>
    Pad,
}

/// <summary>What a forecaster does with a static category it did not see in training.</summary>
public enum UnknownCategoryPolicy
{
    /// <summary>Throw, naming the series, the attribute and the known categories.</summary>
    Error,
    /// <summary>Encode it as all zeros (no known category), the documented fallback for new stores or product groups.</summary>
    Zeros,
}
