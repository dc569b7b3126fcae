using System.Text.Json.Serialization;
using SeqForecast.Engine;
using SeqForecast.Forecasting;
using SeqForecast.Scaling;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Serialization;

/// <summary>
/// The JSON description of a saved forecaster (the <c>model</c> metadata entry of a format-2 model file). One node per
/// forecaster; ensembles and conformal wrappers nest their members. Source-generated serialization
/// (<see cref="ModelJsonContext"/>), so model files work in trimmed and NativeAOT apps.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(RnnNode), "rnn")]
[JsonDerivedType(typeof(BaselineNode), "baseline")]
[JsonDerivedType(typeof(EnsembleNode), "ensemble")]
[JsonDerivedType(typeof(ConformalNode), "conformal")]
internal abstract record ModelNode
{
    /// <summary>Display name of the forecaster.</summary>
    public string Name { get; init; } = "";

    /// <summary>A description of how the model was chosen (the auto forecaster's report), or null.</summary>
    public string? Selection { get; init; }
}

/// <summary>A recurrent forecaster: network shape, window layout, normalisation and the encoder's fitted state.</summary>
internal sealed record RnnNode : ModelNode
{
    public NetworkDto Network { get; init; } = new();
    public WindowDto Window { get; init; } = new();
    public InstanceNormalizationDto? Normalization { get; init; }
    public ResidualDto? Residual { get; init; }
    public ShortSeriesPolicy ShortSeries { get; init; }
    public int MinimumHistory { get; init; }
    public UnknownCategoryPolicy UnknownCategories { get; init; }
    public int SeasonLength { get; init; } = 1;
    public IReadOnlyList<double[]> Past { get; init; } = [];
    public IReadOnlyList<double[]> Future { get; init; } = [];
    public IReadOnlyList<StaticDto> Statics { get; init; } = [];
    public ScalerState? Scaler { get; init; }
    public LossKind Loss { get; init; }
    public IReadOnlyList<double> Quantiles { get; init; } = [];
    public bool NonNegative { get; init; }
    public bool RoundForecasts { get; init; }
    public PointForecast Point { get; init; }
    public string TrainedOn { get; init; } = "";
    public int BestEpoch { get; init; }
}

/// <summary>A baseline: which one and its parameters.</summary>
internal sealed record BaselineNode : ModelNode
{
    /// <summary>naive, seasonal-naive, drift or ar.</summary>
    public string Model { get; init; } = "";
    public int SeasonLength { get; init; } = 1;
    public int MaxLag { get; init; }
    public int? FixedOrder { get; init; }
    public string Criterion { get; init; } = "Aic";
    public string? Target { get; init; }
    public int Horizon { get; init; } = 1;
}

/// <summary>An ensemble: how members combine and the members themselves.</summary>
internal sealed record EnsembleNode : ModelNode
{
    public string Combine { get; init; } = "Median";
    public IReadOnlyList<ModelNode> Members { get; init; } = [];
}

/// <summary>A conformal wrapper: the calibrated half-widths and the model it wraps.</summary>
internal sealed record ConformalNode : ModelNode
{
    public IReadOnlyList<double> Levels { get; init; } = [];
    /// <summary>[level][step]: half-width of the central interval in original units (absolute residual quantiles).</summary>
    public IReadOnlyList<double[]> HalfWidths { get; init; } = [];
    public int CalibrationWindows { get; init; }
    public int SeasonLength { get; init; } = 1;
    public bool NonNegative { get; init; }
    public ModelNode? Inner { get; init; }
}

internal sealed record NetworkDto
{
    public CellType Cell { get; init; }
    public int InputSize { get; init; }
    public int HiddenSize { get; init; }
    public int Layers { get; init; }
    public int OutputSize { get; init; }
    public double Dropout { get; init; }

    public static NetworkDto From(NetworkOptions o) => new() { Cell = o.Cell, InputSize = o.InputSize, HiddenSize = o.HiddenSize, Layers = o.Layers, OutputSize = o.OutputSize, Dropout = o.Dropout };

    public NetworkOptions ToOptions() => new(Cell, InputSize, HiddenSize, Layers, OutputSize) { Dropout = Dropout };
}

internal sealed record WindowDto
{
    public int Lookback { get; init; }
    public int Horizon { get; init; }
    public int Stride { get; init; } = 1;
    public IReadOnlyList<string> Targets { get; init; } = [];
    public IReadOnlyList<string> Features { get; init; } = [];
    public IReadOnlyList<string> FutureCovariates { get; init; } = [];
    public IReadOnlyList<string> StaticCovariates { get; init; } = [];
    public IReadOnlyList<int> SeasonalLags { get; init; } = [];
    public CalendarFeatures Calendar { get; init; }
    public string? HolidayName { get; init; }
    public IReadOnlyList<DateTime>? Holidays { get; init; }

    public static WindowDto From(WindowSpec spec, IReadOnlyList<string> targets) => new()
    {
        Lookback = spec.Lookback, Horizon = spec.Horizon, Stride = spec.Stride, Targets = targets, Features = spec.Features,
        FutureCovariates = spec.FutureCovariates, StaticCovariates = spec.StaticCovariates, SeasonalLags = spec.SeasonalLags,
        Calendar = spec.Calendar, HolidayName = spec.Holidays?.Name, Holidays = spec.Holidays?.Dates,
    };

    public WindowSpec ToSpec() => new(Lookback, Horizon)
    {
        Stride = Stride, Targets = Targets, Features = Features, FutureCovariates = FutureCovariates, StaticCovariates = StaticCovariates,
        SeasonalLags = SeasonalLags, Calendar = Calendar,
        Holidays = Holidays is null ? null : new HolidayCalendar(string.IsNullOrWhiteSpace(HolidayName) ? "holidays" : HolidayName, Holidays),
    };
}

internal sealed record InstanceNormalizationDto
{
    public NormalizationCenter Center { get; init; }
    public NormalizationScale Scale { get; init; }
}

internal sealed record ResidualDto
{
    public ResidualBaselineKind Kind { get; init; }
    public int SeasonLength { get; init; } = 1;
}

internal sealed record StaticDto
{
    public string Name { get; init; } = "";
    public IReadOnlyList<string>? Categories { get; init; }
    public double Mean { get; init; }
    public double Scale { get; init; } = 1;
}

/// <summary>Format 1 configuration (read only), as the first release wrote it.</summary>
internal sealed record LegacyConfig
{
    public NetworkDto? Network { get; init; }
    public int Lookback { get; init; }
    public int Horizon { get; init; }
    public int Stride { get; init; } = 1;
    public IReadOnlyList<string>? Targets { get; init; }
    public IReadOnlyList<string>? Features { get; init; }
    public CalendarFeatures Calendar { get; init; }
    public ScalerState? Scaler { get; init; }
    public string? TrainedOn { get; init; }
    public bool NonNegative { get; init; }
}

/// <summary>Source-generated JSON for model files (works trimmed and under NativeAOT).</summary>
[JsonSourceGenerationOptions(UseStringEnumConverter = true, WriteIndented = false, AllowTrailingCommas = false, NumberHandling = JsonNumberHandling.Strict, MaxDepth = 32)]
[JsonSerializable(typeof(ModelNode))]
[JsonSerializable(typeof(LegacyConfig))]
internal sealed partial class ModelJsonContext : JsonSerializerContext;
