using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Serialization;

namespace SeqForecast.Forecasting;

/// <summary>
/// Loads any saved forecaster (recurrent network, baseline, ensemble, conformal wrapper) from a model file; see
/// <see cref="ModelFile"/> for the layout. Saving is <see cref="IFittedForecaster.Save"/>.
/// </summary>
public static class ForecasterFile
{
    /// <summary>Most nested forecasters (ensemble members, wrapped models) a file may describe.</summary>
    public const int MaxModels = 1000;

    /// <summary>Loads the model file at <paramref name="path"/>; networks run on <paramref name="backend"/> (default: the managed engine).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid model file (the message names the file and the problem).</exception>
    public static IFittedForecaster Load(string path, IBackend? backend = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"model file '{path}' does not exist", path);
        FileStream stream;
        try
        {
            stream = File.OpenRead(path);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new InvalidDataException($"model file '{path}' cannot be read: {ex.Message}", ex);
        }
        using (stream) return Load(stream, path, backend);
    }

    /// <summary>Loads a model from <paramref name="stream"/> (read to its end).</summary>
    /// <exception cref="InvalidDataException">The content is not a valid model file.</exception>
    public static IFittedForecaster Load(Stream stream, IBackend? backend = null) => Load(stream, "stream", backend);

    private static IFittedForecaster Load(Stream stream, string name, IBackend? backend)
    {
        ArgumentNullException.ThrowIfNull(stream);
        backend ??= ManagedBackend.Default;
        ModelNode node;
        TensorSet tensors;
        try
        {
            (node, tensors) = ModelFile.Read(stream, name);
        }
        catch (IOException ex) when (ex is not FileNotFoundException)
        {
            throw new InvalidDataException($"model file '{name}' cannot be read: {ex.Message}", ex);
        }
        int count = 0;
        var model = Build(node, tensors, "", backend, name, ref count, depth: 0);
        try
        {
            tensors.EnsureAllUsed();
            return string.IsNullOrEmpty(node.Selection) ? model : new FittedAuto(model, null, node.Selection);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static IFittedForecaster Build(ModelNode? node, TensorSet tensors, string prefix, IBackend backend, string source, ref int count, int depth)
    {
        if (node is null) throw new InvalidDataException($"model file '{source}' describes a forecaster as null");
        if (++count > MaxModels || depth > 8)
            throw new InvalidDataException($"model file '{source}' nests more than {MaxModels} forecasters or more than 8 levels");
        switch (node)
        {
            case RnnNode rnn:
                return FittedRnnForecaster.FromNode(rnn, tensors, prefix, backend, source);
            case BaselineNode baseline:
                return BaselineForecaster.FromNode(baseline, source);
            case EnsembleNode ensemble:
            {
                if (ensemble.Members is not { Count: > 0 } members)
                    throw new InvalidDataException($"model file '{source}' describes an ensemble without members");
                if (!Enum.TryParse<EnsembleCombine>(ensemble.Combine, out var combine) || !Enum.IsDefined(combine))
                    throw new InvalidDataException($"model file '{source}' has an unknown ensemble combination '{ensemble.Combine}'");
                var built = new List<IFittedForecaster>();
                try
                {
                    for (int m = 0; m < members.Count; m++) built.Add(Build(members[m], tensors, $"{prefix}members.{m}.", backend, source, ref count, depth + 1));
                    return new FittedEnsemble(built, combine);
                }
                catch
                {
                    foreach (var b in built) b.Dispose();
                    throw;
                }
            }
            case ConformalNode conformal:
            {
                var inner = Build(conformal.Inner, tensors, prefix + "inner.", backend, source, ref count, depth + 1);
                try
                {
                    return FittedConformal.FromNode(conformal, inner, source);
                }
                catch
                {
                    inner.Dispose();
                    throw;
                }
            }
            default:
                throw new InvalidDataException($"model file '{source}' describes an unknown kind of forecaster");
        }
    }
}
