using SeqForecast.Baselines;
using SeqForecast.Data;
using SeqForecast.Serialization;

namespace SeqForecast.Forecasting;

/// <summary>
/// A statistical baseline (naive, seasonal naive, drift, AR(p), or any <see cref="IBaselineModel"/>) as a forecaster.
/// Baselines are local models: fitting keeps nothing, and each prediction fits the model on the history it is given
/// (AR(p) chooses its order per series). It is its own fitted forecaster.
/// </summary>
public sealed class BaselineForecaster : IForecaster, IFittedForecaster, IModelNode
{
    /// <summary>Creates the forecaster.</summary>
    /// <param name="model">The baseline.</param>
    /// <param name="horizon">Steps forecast when a prediction does not say. Range: ≥ 1.</param>
    /// <param name="target">Column to forecast; null: the first column of each series.</param>
    public BaselineForecaster(IBaselineModel model, int horizon, string? target = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(horizon);
        if (target is not null) ArgumentException.ThrowIfNullOrWhiteSpace(target);
        Model = model;
        Horizon = horizon;
        Target = target;
    }

    /// <summary>The baseline.</summary>
    public IBaselineModel Model { get; }

    /// <summary>Column forecast; null: the first column.</summary>
    public string? Target { get; }

    /// <inheritdoc />
    public string Name => Model.Name;

    /// <inheritdoc />
    public int Horizon { get; }

    /// <inheritdoc />
    public IReadOnlyList<double> QuantileLevels => [];

    /// <summary>Checks the series (the target column exists) and returns this forecaster: a baseline learns nothing ahead of prediction.</summary>
    public IFittedForecaster Fit(IReadOnlyList<TimeSeries> series, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        options?.Validate();
        options?.CancellationToken.ThrowIfCancellationRequested();
        foreach (var s in series) _ = Values(s);
        return this;
    }

    /// <inheritdoc />
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<TimeSeries> history, PredictOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        options ??= new PredictOptions();
        options.Validate();
        int steps = options.Horizon ?? Horizon;
        var result = new Prediction[history.Count];
        for (int s = 0; s < history.Count; s++)
        {
            var series = history[s] ?? throw new ArgumentNullException(nameof(history));
            double[] forecast;
            try
            {
                forecast = Model.Forecast(Values(series), steps);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"series '{series.Id}': {ErrorMessages.Bare(ex)}", nameof(history), ex);
            }
            result[s] = new Prediction(series.Id, FutureTimestamps(series, steps), [Target ?? series.ColumnNames[0]], [forecast]);
        }
        return result;
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">The baseline is not one of the built-in models (naive, seasonal naive, drift, AR).</exception>
    public void Save(Stream stream)
    {
        var (node, tensors) = ((IModelNode)this).ToNode("");
        ModelFile.Write(stream, node, tensors);
    }

    /// <summary>Nothing to release.</summary>
    public void Dispose()
    {
    }

    (ModelNode Node, IReadOnlyList<NamedTensor> Tensors) IModelNode.ToNode(string prefix)
    {
        BaselineNode node = Model switch
        {
            NaiveModel => new() { Model = "naive" },
            SeasonalNaiveModel seasonal => new() { Model = "seasonal-naive", SeasonLength = seasonal.SeasonLength },
            DriftModel => new() { Model = "drift" },
            AutoRegressiveModel ar => new() { Model = "ar", MaxLag = ar.Options.MaxLag, FixedOrder = ar.Options.FixedOrder, Criterion = ar.Options.Criterion.ToString() },
            _ => throw new NotSupportedException($"baseline '{Model.Name}' ({Model.GetType().Name}) is not a built-in model; only naive, seasonal naive, drift and AR baselines can be saved"),
        };
        return (node with { Name = Name, Target = Target, Horizon = Horizon }, []);
    }

    internal static BaselineForecaster FromNode(BaselineNode node, string source)
    {
        if (node.Horizon < 1 || node.Horizon > Windows.WindowSpec.MaxLength)
            throw new InvalidDataException($"model file '{source}' has a baseline horizon {node.Horizon} outside [1, {Windows.WindowSpec.MaxLength}]");
        if (node.Target is { } target && string.IsNullOrWhiteSpace(target))
            throw new InvalidDataException($"model file '{source}' has an empty baseline target");
        IBaselineModel model = node.Model switch
        {
            "naive" => new NaiveModel(),
            "seasonal-naive" when node.SeasonLength is >= 1 and <= Windows.WindowSpec.MaxLength => new SeasonalNaiveModel(node.SeasonLength),
            "drift" => new DriftModel(),
            "ar" when node.MaxLag is >= 0 and <= 10_000 && Enum.TryParse<InformationCriterion>(node.Criterion, out var criterion) && Enum.IsDefined(criterion)
                      && (node.FixedOrder is null || (node.FixedOrder >= 0 && node.FixedOrder <= node.MaxLag))
                => new AutoRegressiveModel(new AutoRegressiveOptions(node.MaxLag) { FixedOrder = node.FixedOrder, Criterion = criterion }),
            _ => throw new InvalidDataException($"model file '{source}' describes an unknown or invalid baseline '{node.Model}'"),
        };
        return new BaselineForecaster(model, node.Horizon, node.Target);
    }

    private ReadOnlySpan<double> Values(TimeSeries series) => Target is null ? series.Column(0) : series.Column(Target);

    internal static IReadOnlyList<DateTime> FutureTimestamps(TimeSeries series, int steps)
    {
        if (!series.HasTimestamps || series.Length < 2) return [];
        var frequency = FrequencyExtensions.Infer(series.Timestamps.ToArray(), series.Id);
        var last = series.Timestamps[^1];
        return Enumerable.Range(1, steps).Select(k => frequency.Advance(last, k)).ToArray();
    }
}

/// <summary>A fitted forecaster that can describe itself as a model-file node (with its tensors under a name prefix).</summary>
internal interface IModelNode
{
    (ModelNode Node, IReadOnlyList<NamedTensor> Tensors) ToNode(string prefix);
}
