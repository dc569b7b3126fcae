using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Scaling;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Forecasting;

/// <summary>
/// Everything a recurrent forecaster needs: windows and inputs, normalisation, network shape, training and backend.
/// Validated when the forecaster is created.
/// </summary>
/// <param name="Window">Lookback, horizon, stride, targets, covariates, lags and calendar inputs.</param>
public sealed record RnnForecasterOptions(WindowSpec Window)
{
    /// <summary>LSTM (default) or GRU.</summary>
    public CellType Cell { get; init; } = CellType.Lstm;

    /// <summary>Units per layer. Range: [1, 4096]. Default 64.</summary>
    public int HiddenSize { get; init; } = 64;

    /// <summary>Stacked layers. Range: [1, 16]. Default 2.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Dropout between layers in training. Range: [0, 1); needs at least 2 layers. Default 0.</summary>
    public double Dropout { get; init; }

    /// <summary>
    /// Per-window (instance) normalisation of the targets. Default: <see cref="InstanceNormalization.LastValueDifference"/>
    /// (the network forecasts the change from the last value in units of the window's typical step; it beat mean/std
    /// normalisation on M4 Weekly validation data, docs/accuracy.md). Null turns it off (then set <see cref="Scaler"/>,
    /// or the network sees raw values).
    /// </summary>
    public InstanceNormalization? Normalization { get; init; } = InstanceNormalization.LastValueDifference;

    /// <summary>
    /// A per-series (or global) scaler fitted on the training part, the older alternative to
    /// <see cref="Normalization"/> (they cannot be combined). Default: null. It scales the target columns only; a series
    /// it was not fitted on gets a scaler fitted on its own history.
    /// </summary>
    public IScaler? Scaler { get; init; }

    /// <summary>Baseline-residual mode: the network forecasts the correction to this baseline. Default: null (off).</summary>
    public ResidualBaseline? Residual { get; init; }

    /// <summary>Series shorter than lookback + horizon. Default <see cref="ShortSeriesPolicy.Pad"/>.</summary>
    public ShortSeriesPolicy ShortSeries { get; init; } = ShortSeriesPolicy.Pad;

    /// <summary>
    /// With <see cref="ShortSeriesPolicy.Pad"/>, the fewest observed points a window (and a prediction) needs.
    /// Null (default): min(lookback, horizon). Range: [1, lookback].
    /// </summary>
    public int? MinimumHistory { get; init; }

    /// <summary>Static categories not seen in training. Default <see cref="UnknownCategoryPolicy.Error"/>.</summary>
    public UnknownCategoryPolicy UnknownCategories { get; init; } = UnknownCategoryPolicy.Error;

    /// <summary>Season length m of the MASE scale used by the scaled-MAE loss and the MASE monitor (1: naive). Range: ≥ 1. Default 1.</summary>
    public int SeasonLength { get; init; } = 1;

    /// <summary>
    /// Points at the end of each series held out for validation when <see cref="FitOptions.ValidationLength"/> is not
    /// given. Null (default): the horizon when early stopping is set or a MASE/sMAPE monitor is chosen, else 0.
    /// </summary>
    public int? ValidationLength { get; init; }

    /// <summary>
    /// After training with validation, train a fresh network with the same seed on training + validation data for the
    /// best epoch count found (no early stopping). Default false.
    /// </summary>
    public bool RefitOnFullData { get; init; }

    /// <summary>
    /// Clamp forecasts at zero after inverse scaling (quantities that cannot be negative, such as unit sales).
    /// Default false: forecasts are returned as the network produces them.
    /// </summary>
    public bool NonNegative { get; init; }

    /// <summary>
    /// Round forecasts (points and quantiles) to whole numbers, for counts such as units sold: a forecast of 0.3 units is
    /// 0, which matters for sMAPE on days that sell nothing. Applied after <see cref="NonNegative"/>. Default false.
    /// </summary>
    public bool RoundForecasts { get; init; }

    /// <summary>
    /// Which number a quantile network reports as its point forecast (<see cref="Prediction.Values"/>): the median
    /// (default; best for MAE and MASE), the mean (MSE) or the value with the smallest expected sMAPE, all read from the
    /// quantiles of the pinball loss. Anything but <see cref="PointForecast.Median"/> needs the pinball loss with at
    /// least three levels. The quantiles themselves are unchanged.
    /// </summary>
    public PointForecast Point { get; init; } = PointForecast.Median;

    /// <summary>Training loop settings (epochs, batch size, loss, optimizer, early stopping, sampling, seed, …). Default <see cref="DefaultTraining"/>.</summary>
    public TrainerOptions Training { get; init; } = DefaultTraining;

    /// <summary>
    /// The training settings forecasters start from, chosen on validation data of the accuracy benchmark
    /// (docs/accuracy.md): at most 40 epochs of 8,192 series-balanced windows, batch 64, the MASE-like scaled-MAE loss,
    /// Adam with learning rate 2e-3, gradient clipping at norm 1, and early stopping after 20 epochs without a better
    /// validation MASE (restoring the best epoch). The patience is half the epoch budget because the validation score
    /// moves by several per cent from one epoch to the next while its trend still falls, and a shorter patience stops
    /// on that noise: on M4 Weekly's validation data, patience 6 stopped three LSTM seeds at epochs 12, 14 and 26 of 40.
    /// Change one setting with <c>with</c>: <c>Training = RnnForecasterOptions.DefaultTraining with { Epochs = 100 }</c>. A bare <c>new TrainerOptions()</c>
    /// has the plain defaults of <see cref="TrainerOptions"/> instead.
    /// </summary>
    public static TrainerOptions DefaultTraining { get; } = new()
    {
        Epochs = 40,
        BatchSize = 64,
        WindowsPerEpoch = 8192,
        Sampling = WindowSampling.SeriesBalanced,
        Loss = new LossOptions(LossKind.ScaledMae),
        Monitor = ValidationMonitor.Mase,
        Optimizer = new AdamOptions { LearningRate = 2e-3 },
        GradientClipNorm = 1.0,
        EarlyStopping = new EarlyStoppingOptions(20),
    };

    /// <summary>Compute backend. Default: the managed engine.</summary>
    public IBackend Backend { get; init; } = ManagedBackend.Default;

    /// <summary>Quantile levels of the forecasts (from a pinball loss), empty for point forecasts.</summary>
    public IReadOnlyList<double> QuantileLevels => Training.Loss.Kind == LossKind.Pinball ? Training.Loss.Quantiles : [];

    /// <summary>The effective minimum history.</summary>
    public int EffectiveMinimumHistory => ShortSeries == ShortSeriesPolicy.Pad ? MinimumHistory ?? Math.Min(Window.Lookback, Window.Horizon) : Window.Lookback;

    /// <summary>The effective default validation length.</summary>
    public int DefaultValidationLength => ValidationLength
        ?? (Training.EarlyStopping is not null || Training.Monitor != ValidationMonitor.Loss || RefitOnFullData ? Window.Horizon : 0);

    /// <summary>The network shape for <paramref name="inputFeatures"/> inputs per step and <paramref name="targets"/> targets.</summary>
    public NetworkOptions NetworkFor(int inputFeatures, int targets) =>
        new(Cell, inputFeatures, HiddenSize, Layers, Window.Horizon * targets * Training.Loss.OutputsPerValue) { Dropout = Dropout };

    /// <summary>Checks every range and combination.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    /// <exception cref="ArgumentException">A combination is invalid (for example a scaler with instance normalisation).</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Window);
        ArgumentNullException.ThrowIfNull(Training);
        ArgumentNullException.ThrowIfNull(Backend);
        Window.Validate();
        if (HiddenSize < 1 || HiddenSize > 4096) throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, $"hidden size ({HiddenSize}) must be in [1, 4096]");
        if (Layers < 1 || Layers > 16) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, $"layers ({Layers}) must be in [1, 16]");
        NetworkFor(1, 1).Validate();
        Training.Validate();
        Normalization?.Validate();
        Residual?.Validate();
        if (Normalization is not null && Scaler is not null)
            throw new ArgumentException("Normalization (per window) and Scaler (per series) are both set; choose one: set Normalization = null to use the scaler", nameof(Scaler));
        if (!Enum.IsDefined(ShortSeries)) throw new ArgumentOutOfRangeException(nameof(ShortSeries), ShortSeries, "short-series policy must be Error, Skip or Pad");
        if (!Enum.IsDefined(UnknownCategories)) throw new ArgumentOutOfRangeException(nameof(UnknownCategories), UnknownCategories, "unknown-category policy must be Error or Zeros");
        if (MinimumHistory is { } minimum && (minimum < 1 || minimum > Window.Lookback))
            throw new ArgumentOutOfRangeException(nameof(MinimumHistory), minimum, $"minimum history ({minimum}) must be in [1, lookback {Window.Lookback}]");
        if (SeasonLength < 1 || SeasonLength > WindowSpec.MaxLength) throw new ArgumentOutOfRangeException(nameof(SeasonLength), SeasonLength, $"season length ({SeasonLength}) must be in [1, {WindowSpec.MaxLength}]");
        if (ValidationLength is { } validation && validation < 0) throw new ArgumentOutOfRangeException(nameof(ValidationLength), validation, $"validation length ({validation}) must be >= 0");
        if (!Enum.IsDefined(Point)) throw new ArgumentOutOfRangeException(nameof(Point), Point, "point forecast must be Median, Mean or MinimumSmape");
        if (Point != PointForecast.Median && (Training.Loss.Kind != LossKind.Pinball || Training.Loss.Quantiles.Count < 3))
            throw new ArgumentException($"point forecast {Point} is read from the forecast quantiles; it needs the pinball loss with at least three levels (the loss is {Training.Loss.Kind} with {Training.Loss.Quantiles.Count})", nameof(Point));
        if (RefitOnFullData && ValidationLength == 0)
            throw new ArgumentException("RefitOnFullData refits for the best epoch found on validation data, and ValidationLength is 0", nameof(RefitOnFullData));
    }
}
