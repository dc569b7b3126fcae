using System.Text.Json;
using SeqForecast.Engine;
using SeqForecast.Scaling;
using SeqForecast.Windows;

namespace SeqForecast.Serialization;

/// <summary>Scaler state as stored in a model file: per (series, column) or per column, a [scale, offset] pair.</summary>
public sealed record ScalerState(ScalerKind Kind, ScalingScope Scope, IReadOnlyList<string> Columns, IReadOnlyDictionary<string, double[][]> PerSeries, double[][]? Global)
{
    /// <summary>Captures a fitted scaler.</summary>
    public static ScalerState From(FittedScaler scaler) => new(
        scaler.Kind, scaler.Scope, scaler.Columns,
        scaler.PerSeriesTransforms.ToDictionary(p => p.Key, p => p.Value.Select(t => new[] { t.Scale, t.Offset }).ToArray()),
        scaler.GlobalTransforms?.Select(t => new[] { t.Scale, t.Offset }).ToArray());

    /// <summary>Rebuilds the fitted scaler.</summary>
    public FittedScaler ToScaler()
    {
        static AffineTransform[] Parse(double[][] pairs) => pairs.Select(p => p.Length == 2 ? new AffineTransform(p[0], p[1]) : throw new InvalidDataException("a scaler transform needs [scale, offset]")).ToArray();
        return new FittedScaler(Kind, Scope, Columns, PerSeries.ToDictionary(p => p.Key, p => Parse(p.Value)), Global is null ? null : Parse(Global));
    }
}

/// <summary>What a model file holds besides the weights.</summary>
/// <param name="Network">Network shape.</param>
/// <param name="Lookback">Input steps.</param>
/// <param name="Horizon">Forecast steps.</param>
/// <param name="Stride">Window stride used in training.</param>
/// <param name="Targets">Target columns (resolved names).</param>
/// <param name="Features">Extra input columns.</param>
/// <param name="Calendar">Calendar inputs.</param>
/// <param name="Scaler">Scaler state, or null when unscaled.</param>
/// <param name="TrainedOn">Backend name the weights were trained on.</param>
/// <param name="NonNegative">Forecasts are clamped at zero after inverse scaling.</param>
public sealed record ModelConfig(NetworkOptions Network, int Lookback, int Horizon, int Stride, IReadOnlyList<string> Targets, IReadOnlyList<string> Features, CalendarFeatures Calendar, ScalerState? Scaler, string TrainedOn, bool NonNegative = false)
{
    /// <summary>The window spec.</summary>
    public WindowSpec Window => new(Lookback, Horizon) { Stride = Stride, Targets = Targets, Features = Features, Calendar = Calendar };
}

/// <summary>
/// SeqForecast model files: a safetensors file whose tensors are the network's parameters under their PyTorch names
/// (float32, little-endian) and whose metadata holds <c>format</c> = "seqforecast-model", <c>format_version</c> and
/// <c>config</c> (a JSON <see cref="ModelConfig"/>: network options, window spec, scaler state).
/// </summary>
/// <remarks>
/// A PyTorch model saved with safetensors and these three metadata entries loads here. Writes are atomic (temporary
/// file, then rename). Reads validate the header, every tensor's name, dtype, shape and offsets, and the configuration,
/// and throw <see cref="InvalidDataException"/> naming the file and the problem.
/// </remarks>
public static class ModelFile
{
    /// <summary>Value of the <c>format</c> metadata entry.</summary>
    public const string Format = "seqforecast-model";

    /// <summary>The format version this library writes and the newest it reads.</summary>
    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false, Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };

    /// <summary>Writes the configuration and parameters (in <paramref name="layout"/> order) to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, ModelConfig config, ParameterLayout layout, ReadOnlySpan<float> parameters)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(layout);
        if (parameters.Length != layout.TotalLength)
            throw new ArgumentException($"parameters has {parameters.Length} floats; the layout needs {layout.TotalLength}", nameof(parameters));
        var tensors = new NamedTensor[layout.Parameters.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            var p = layout.Parameters[i];
            tensors[i] = new NamedTensor(p.Name, p.Shape, parameters.Slice(p.Offset, p.Length).ToArray());
        }
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["format_version"] = FormatVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["config"] = JsonSerializer.Serialize(config, Json),
        };
        AtomicFile.Write(path, stream => SafeTensors.Write(stream, tensors, metadata));
    }

    /// <summary>Reads and validates a model file.</summary>
    /// <returns>The configuration, and the parameters in <see cref="ParameterLayout"/> order of its network.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupt, of another format or a newer version, or its tensors do not match its configuration.</exception>
    public static (ModelConfig Config, float[] Parameters) Read(string path)
    {
        var (metadata, tensors) = SafeTensors.Read(path);
        if (!metadata.TryGetValue("format", out var format) || format != Format)
            throw new InvalidDataException($"model file '{path}' is not a SeqForecast model: metadata 'format' is {(format is null ? "missing" : $"'{format}'")}, expected '{Format}'");
        if (!metadata.TryGetValue("format_version", out var versionText) || !int.TryParse(versionText, out var version) || version < 1)
            throw new InvalidDataException($"model file '{path}' has no valid 'format_version' (got '{versionText}')");
        if (version > FormatVersion)
            throw new InvalidDataException($"model file '{path}' has format version {version}; this SeqForecast reads up to version {FormatVersion}: upgrade SeqForecast");
        if (!metadata.TryGetValue("config", out var configText))
            throw new InvalidDataException($"model file '{path}' has no 'config' metadata");
        ModelConfig config;
        try
        {
            config = JsonSerializer.Deserialize<ModelConfig>(configText, Json) ?? throw new InvalidDataException($"model file '{path}' has an empty 'config'");
            config.Network.Validate();
            config.Window.Validate();
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or NotSupportedException)
        {
            throw new InvalidDataException($"model file '{path}' has an invalid 'config': {ex.Message}", ex);
        }

        var layout = ParameterLayout.For(config.Network);
        var byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var parameters = new float[layout.TotalLength];
        foreach (var info in layout.Parameters)
        {
            if (!byName.Remove(info.Name, out var tensor))
                throw new InvalidDataException($"model file '{path}' lacks tensor '{info.Name}' that its configuration needs");
            if (!tensor.Shape.SequenceEqual(info.Shape))
                throw new InvalidDataException($"model file '{path}' tensor '{info.Name}' has shape [{string.Join(", ", tensor.Shape)}]; the configuration needs [{string.Join(", ", info.Shape)}]");
            tensor.Data.CopyTo(parameters, info.Offset);
        }
        if (byName.Count > 0)
            throw new InvalidDataException($"model file '{path}' has tensors its configuration does not use: {string.Join(", ", byName.Keys)}");
        return (config, parameters);
    }
}
