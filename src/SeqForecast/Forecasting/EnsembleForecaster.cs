using SeqForecast.Data;
using SeqForecast.Serialization;
using SeqForecast.Training;

namespace SeqForecast.Forecasting;

/// <summary>How an ensemble combines its members' forecasts, step by step.</summary>
public enum EnsembleCombine
{
    /// <summary>The median of the members (robust to one bad member; the M4 winners' choice).</summary>
    Median,
    /// <summary>The mean of the members.</summary>
    Mean,
}

/// <summary>
/// An ensemble of any forecasters (networks with different seeds or lookbacks, baselines, or a mix): each member is
/// fitted on the same data, and the forecast of each step is the median or mean of the members' forecasts.
/// </summary>
public sealed class EnsembleForecaster : IForecaster
{
    /// <summary>Creates the ensemble.</summary>
    /// <param name="members">At least one forecaster.</param>
    /// <param name="combine">Median (default) or mean.</param>
    /// <exception cref="ArgumentException">No members.</exception>
    public EnsembleForecaster(IReadOnlyList<IForecaster> members, EnsembleCombine combine = EnsembleCombine.Median)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member", nameof(members));
        if (members.Any(m => m is null)) throw new ArgumentNullException(nameof(members));
        if (!Enum.IsDefined(combine)) throw new ArgumentOutOfRangeException(nameof(combine), combine, "combine must be Median or Mean");
        Members = members.ToArray();
        Combine = combine;
    }

    /// <summary>The members.</summary>
    public IReadOnlyList<IForecaster> Members { get; }

    /// <summary>Median or mean.</summary>
    public EnsembleCombine Combine { get; }

    /// <inheritdoc />
    public string Name => $"{Combine.ToString().ToLowerInvariant()}({string.Join(", ", Members.Select(m => m.Name))})";

    /// <summary>An ensemble of the same recurrent forecaster trained with each of <paramref name="seeds"/>.</summary>
    public static EnsembleForecaster OverSeeds(RnnForecasterOptions options, IEnumerable<ulong> seeds, EnsembleCombine combine = EnsembleCombine.Median)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(seeds);
        return new EnsembleForecaster(seeds.Select(seed => (IForecaster)new RnnForecaster(options with { Training = options.Training with { Seed = seed } })).ToArray(), combine);
    }

    /// <summary>An ensemble of the same recurrent forecaster with each of <paramref name="lookbacks"/> (and seeds 0, 1, … in turn).</summary>
    public static EnsembleForecaster OverLookbacks(RnnForecasterOptions options, IEnumerable<int> lookbacks, EnsembleCombine combine = EnsembleCombine.Median)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(lookbacks);
        return new EnsembleForecaster(lookbacks.Select((lookback, i) => (IForecaster)new RnnForecaster(options with
        {
            Window = options.Window with { Lookback = lookback },
            MinimumHistory = options.MinimumHistory is { } m ? Math.Min(m, lookback) : null,
            Training = options.Training with { Seed = options.Training.Seed + (ulong)i },
        })).ToArray(), combine);
    }

    /// <summary>Fits every member on <paramref name="series"/> with the same options, in order.</summary>
    /// <exception cref="TrainingCanceledException">The token fired (the members fitted so far are disposed).</exception>
    public FittedEnsemble Fit(IReadOnlyList<TimeSeries> series, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        var fitted = new List<IFittedForecaster>();
        try
        {
            foreach (var member in Members) fitted.Add(member.Fit(series, options));
            return new FittedEnsemble(fitted, Combine);
        }
        catch
        {
            foreach (var f in fitted) f.Dispose();
            throw;
        }
    }

    IFittedForecaster IForecaster.Fit(IReadOnlyList<TimeSeries> series, FitOptions? options) => Fit(series, options);
}

/// <summary>A fitted ensemble; predictions are thread-safe when every member's are.</summary>
public sealed class FittedEnsemble : IFittedForecaster, IModelNode
{
    /// <summary>Combines fitted members (the ensemble owns and disposes them).</summary>
    /// <exception cref="ArgumentException">No members.</exception>
    public FittedEnsemble(IReadOnlyList<IFittedForecaster> members, EnsembleCombine combine = EnsembleCombine.Median)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("an ensemble needs at least one member", nameof(members));
        if (!Enum.IsDefined(combine)) throw new ArgumentOutOfRangeException(nameof(combine), combine, "combine must be Median or Mean");
        Members = members.ToArray();
        Combine = combine;
        var levels = Members[0].QuantileLevels;
        QuantileLevels = Members.All(m => m.QuantileLevels.SequenceEqual(levels)) ? levels : [];
    }

    /// <summary>The fitted members.</summary>
    public IReadOnlyList<IFittedForecaster> Members { get; }

    /// <summary>Median or mean.</summary>
    public EnsembleCombine Combine { get; }

    /// <inheritdoc />
    public string Name => $"{Combine.ToString().ToLowerInvariant()}({string.Join(", ", Members.Select(m => m.Name))})";

    /// <summary>The first member's horizon (every member is asked for the same number of steps).</summary>
    public int Horizon => Members[0].Horizon;

    /// <summary>The members' quantile levels when they all share them (combined level by level), else empty.</summary>
    public IReadOnlyList<double> QuantileLevels { get; }

    /// <inheritdoc />
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<TimeSeries> history, PredictOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(history);
        options = (options ?? new PredictOptions()) with { Horizon = options?.Horizon ?? Horizon };
        var forecasts = Members.Select(m => m.Predict(history, options)).ToArray();
        var result = new Prediction[history.Count];
        var column = new double[Members.Count];
        for (int s = 0; s < history.Count; s++)
        {
            var first = forecasts[0][s];
            int targets = first.Values.Count, steps = first.Horizon;
            var values = new double[targets][];
            for (int t = 0; t < targets; t++)
            {
                values[t] = new double[steps];
                for (int h = 0; h < steps; h++)
                {
                    for (int m = 0; m < Members.Count; m++) column[m] = forecasts[m][s].Values[t][h];
                    values[t][h] = Reduce(column);
                }
            }
            var quantiles = new double[QuantileLevels.Count > 0 ? targets : 0][][];
            for (int t = 0; t < quantiles.Length; t++)
            {
                quantiles[t] = new double[QuantileLevels.Count][];
                for (int q = 0; q < QuantileLevels.Count; q++)
                {
                    quantiles[t][q] = new double[steps];
                    for (int h = 0; h < steps; h++)
                    {
                        for (int m = 0; m < Members.Count; m++) column[m] = forecasts[m][s].Quantiles[t][q][h];
                        quantiles[t][q][h] = Reduce(column);
                    }
                }
                // The median of non-crossing members can still cross by rounding; restore the order step by step.
                for (int h = 0; h < steps; h++)
                    for (int q = 1; q < QuantileLevels.Count; q++)
                        quantiles[t][q][h] = Math.Max(quantiles[t][q][h], quantiles[t][q - 1][h]);
            }
            result[s] = new Prediction(first.SeriesId, first.Timestamps, first.Targets, values) { QuantileLevels = QuantileLevels, Quantiles = quantiles };
        }
        return result;
    }

    /// <inheritdoc />
    public void Save(Stream stream)
    {
        var (node, tensors) = ((IModelNode)this).ToNode("");
        ModelFile.Write(stream, node, tensors);
    }

    /// <summary>Disposes every member.</summary>
    public void Dispose()
    {
        foreach (var member in Members) member.Dispose();
    }

    (ModelNode Node, IReadOnlyList<NamedTensor> Tensors) IModelNode.ToNode(string prefix)
    {
        var nodes = new List<ModelNode>();
        var tensors = new List<NamedTensor>();
        for (int m = 0; m < Members.Count; m++)
        {
            if (Members[m] is not IModelNode writer)
                throw new NotSupportedException($"ensemble member '{Members[m].Name}' ({Members[m].GetType().Name}) cannot be saved in a model file");
            var (node, memberTensors) = writer.ToNode($"{prefix}members.{m}.");
            nodes.Add(node);
            tensors.AddRange(memberTensors);
        }
        return (new EnsembleNode { Name = Name, Combine = Combine.ToString(), Members = nodes }, tensors);
    }

    private double Reduce(double[] values)
    {
        if (Combine == EnsembleCombine.Mean) return values.Average();
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}
