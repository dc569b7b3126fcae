using System.Globalization;
using System.Text.Json;
using SeqForecast.Engine;
using SeqForecast.Scaling;

namespace SeqForecast.Serialization;

/// <summary>Scaler state as stored in a model file: per (series, column) or per column, a [scale, offset] pair.</summary>
/// <param name="Kind">Min-max or standard.</param>
/// <param name="Scope">Per-series or global.</param>
/// <param name="Columns">Fitted columns.</param>
/// <param name="PerSeries">Per-series pairs, by series id.</param>
/// <param name="Global">Global pairs, or null.</param>
internal sealed record ScalerState(ScalerKind Kind, ScalingScope Scope, IReadOnlyList<string> Columns, IReadOnlyDictionary<string, double[][]> PerSeries, double[][]? Global)
{
    /// <summary>Start of the min-max target range (for series the scaler did not see); null: 0.</summary>
    public double? RangeMin { get; init; }

    /// <summary>End of the min-max target range; null: 1.</summary>
    public double? RangeMax { get; init; }

    /// <summary>Captures a fitted scaler.</summary>
    public static ScalerState From(FittedScaler scaler)
    {
        ArgumentNullException.ThrowIfNull(scaler);
        return new(scaler.Kind, scaler.Scope, scaler.Columns,
            scaler.PerSeriesTransforms.ToDictionary(p => p.Key, p => p.Value.Select(t => new[] { t.Scale, t.Offset }).ToArray()),
            scaler.GlobalTransforms?.Select(t => new[] { t.Scale, t.Offset }).ToArray())
        { RangeMin = scaler.RangeMin, RangeMax = scaler.RangeMax };
    }

    /// <summary>Rebuilds the fitted scaler.</summary>
    /// <exception cref="InvalidDataException">The state is incomplete or inconsistent.</exception>
    public FittedScaler ToScaler()
    {
        if (Columns is null || PerSeries is null || Columns.Any(string.IsNullOrWhiteSpace))
            throw new InvalidDataException("scaler state lacks its columns or per-series transforms");
        static AffineTransform[] Parse(double[][] pairs) => pairs is null
            ? throw new InvalidDataException("a scaler transform list is null")
            : pairs.Select(p => p is { Length: 2 } ? new AffineTransform(p[0], p[1]) : throw new InvalidDataException("a scaler transform needs [scale, offset]")).ToArray();
        try
        {
            return new FittedScaler(Kind, Scope, Columns, PerSeries.ToDictionary(p => p.Key, p => Parse(p.Value)), Global is null ? null : Parse(Global), RangeMin ?? 0, RangeMax ?? 1);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"scaler state is invalid: {SeqForecast.Data.ErrorMessages.Bare(ex)}", ex);
        }
    }
}

/// <summary>
/// SeqForecast model files: a safetensors file whose tensors are the networks' parameters under their PyTorch names
/// (float32, little-endian; members of an ensemble prefixed <c>members.{i}.</c>) and whose metadata holds
/// <c>format</c> = "seqforecast-model", <c>format_version</c>, <c>model</c> (the JSON description of the forecaster)
/// and <c>data_sha256</c> (SHA-256 of the tensor data region, hex).
/// </summary>
/// <remarks>
/// <para>Format 2 (written now) describes any forecaster: recurrent networks with their window layout, normalisation
/// and fitted covariate encodings, baselines, ensembles and conformal wrappers. Format 1 files (the first release:
/// a <c>config</c> entry, plain networks only) are still read.</para>
/// <para>Writes are atomic (temporary file, then rename). Reads validate the header, every tensor's name, dtype, shape,
/// offsets and values (finite), the checksum and every configuration field against its limits before allocating, and
/// throw <see cref="InvalidDataException"/> naming the file and the problem; no other exception type escapes a load
/// but <see cref="FileNotFoundException"/> for a missing path.</para>
/// </remarks>
public static class ModelFile
{
    /// <summary>Value of the <c>format</c> metadata entry.</summary>
    public const string Format = "seqforecast-model";

    /// <summary>The format version this library writes and the newest it reads.</summary>
    public const int FormatVersion = 2;

    internal static void Write(Stream stream, ModelNode node, IReadOnlyList<NamedTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(node);
        var metadata = new Dictionary<string, string>
        {
            ["format"] = Format,
            ["format_version"] = FormatVersion.ToString(CultureInfo.InvariantCulture),
            ["model"] = JsonSerializer.Serialize(node, ModelJsonContext.Default.ModelNode),
            ["data_sha256"] = SafeTensors.DataSha256(tensors),
        };
        SafeTensors.Write(stream, tensors, metadata);
    }

    /// <summary>Reads and checks the container; returns the forecaster description and its tensors.</summary>
    internal static (ModelNode Node, TensorSet Tensors) Read(Stream stream, string name)
    {
        var content = SafeTensors.Read(stream, name);
        var metadata = content.Metadata;
        if (!metadata.TryGetValue("format", out var format) || format != Format)
            throw new InvalidDataException($"model file '{name}' is not a SeqForecast model: metadata 'format' is {(format is null ? "missing" : $"'{format}'")}, expected '{Format}'");
        if (!metadata.TryGetValue("format_version", out var versionText) || !int.TryParse(versionText, NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
            throw new InvalidDataException($"model file '{name}' has no valid 'format_version' (got '{versionText}')");
        if (version > FormatVersion)
            throw new InvalidDataException($"model file '{name}' has format version {version}; this SeqForecast reads up to version {FormatVersion}: upgrade SeqForecast");
        var tensors = new TensorSet(content.Tensors, name);
        if (version == 1) return (Legacy(metadata, name), tensors);

        if (!metadata.TryGetValue("data_sha256", out var checksum))
            throw new InvalidDataException($"model file '{name}' has no 'data_sha256' checksum");
        if (!string.Equals(checksum, content.DataSha256, StringComparison.Ordinal))
            throw new InvalidDataException($"model file '{name}' is corrupt: its tensor data has SHA-256 {content.DataSha256}, but the file records {checksum} (the data was altered, shifted or truncated)");
        if (!metadata.TryGetValue("model", out var modelText))
            throw new InvalidDataException($"model file '{name}' has no 'model' metadata");
        try
        {
            var node = JsonSerializer.Deserialize(modelText, ModelJsonContext.Default.ModelNode)
                ?? throw new InvalidDataException($"model file '{name}' has an empty 'model' entry");
            return (node, tensors);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"model file '{name}' has an invalid 'model' entry: {ex.Message}", ex);
        }
    }

    /// <summary>Reads a format-1 file: a plain network (no covariates, no calendar) with an optional scaler.</summary>
    private static RnnNode Legacy(IReadOnlyDictionary<string, string> metadata, string name)
    {
        if (!metadata.TryGetValue("config", out var configText))
            throw new InvalidDataException($"model file '{name}' has no 'config' metadata");
        LegacyConfig config;
        try
        {
            config = JsonSerializer.Deserialize(configText, ModelJsonContext.Default.LegacyConfig)
                ?? throw new InvalidDataException($"model file '{name}' has an empty 'config'");
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"model file '{name}' has an invalid 'config': {ex.Message}", ex);
        }
        if (config.Network is null) throw new InvalidDataException($"model file '{name}' has an invalid 'config': the network is missing");
        if (config.Targets is not { Count: > 0 }) throw new InvalidDataException($"model file '{name}' has an invalid 'config': the targets are missing");
        if (config.Features is { Count: > 0 } || config.Calendar != Windows.CalendarFeatures.None)
            throw new InvalidDataException($"model file '{name}' is a format-1 model with extra features or calendar inputs, whose input layout this version no longer builds; retrain it");
        return new RnnNode
        {
            Name = config.Network.Cell.ToString().ToLowerInvariant(),
            Network = config.Network,
            Window = new WindowDto { Lookback = config.Lookback, Horizon = config.Horizon, Stride = config.Stride, Targets = config.Targets },
            ShortSeries = Windows.ShortSeriesPolicy.Error,
            MinimumHistory = Math.Max(1, config.Lookback),
            Scaler = config.Scaler,
            NonNegative = config.NonNegative,
            TrainedOn = config.TrainedOn ?? "",
        };
    }
}

/// <summary>The tensors of a model file, taken by name as the description asks for them.</summary>
internal sealed class TensorSet
{
    private readonly Dictionary<string, NamedTensor> _byName;
    private readonly string _source;

    public TensorSet(IReadOnlyList<NamedTensor> tensors, string source)
    {
        _source = source;
        _byName = new Dictionary<string, NamedTensor>(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!_byName.TryAdd(t.Name, t)) throw new InvalidDataException($"model file '{source}' has tensor '{t.Name}' twice");
    }

    /// <summary>Takes the parameters of <paramref name="layout"/> under <paramref name="prefix"/>, checking names, shapes and values.</summary>
    public float[] Take(ParameterLayout layout, string prefix)
    {
        var parameters = new float[layout.TotalLength];
        foreach (var info in layout.Parameters)
        {
            string name = prefix + info.Name;
            if (!_byName.Remove(name, out var tensor))
                throw new InvalidDataException($"model file '{_source}' lacks tensor '{name}' that its configuration needs");
            if (!tensor.Shape.SequenceEqual(info.Shape))
                throw new InvalidDataException($"model file '{_source}' tensor '{name}' has shape [{string.Join(", ", tensor.Shape)}]; the configuration needs [{string.Join(", ", info.Shape)}]");
            for (int i = 0; i < tensor.Data.Length; i++)
                if (!float.IsFinite(tensor.Data[i]))
                    throw new InvalidDataException($"model file '{_source}' tensor '{name}' holds {tensor.Data[i]} at element {i}; weights must be finite");
            tensor.Data.CopyTo(parameters, info.Offset);
        }
        return parameters;
    }

    /// <summary>Throws when a tensor was not taken.</summary>
    public void EnsureAllUsed()
    {
        if (_byName.Count > 0)
            throw new InvalidDataException($"model file '{_source}' has tensors its configuration does not use: {string.Join(", ", _byName.Keys.Take(10))}");
    }
}
