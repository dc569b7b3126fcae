using System.Diagnostics;
using System.Globalization;
using System.Text;
using SeqForecast.Baselines;
using SeqForecast.Data;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Metrics;
using SeqForecast.Serialization;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Forecasting;

/// <summary>Settings of <see cref="AutoForecaster"/>.</summary>
/// <param name="Horizon">Steps to forecast. Range: ≥ 1.</param>
public sealed record AutoForecasterOptions(int Horizon)
{
    /// <summary>Season length m of the data (7 for daily data with a weekly cycle, 52 for weekly, 24 for hourly; 1: none). Lookbacks are multiples of max(m, horizon). Default 1.</summary>
    public int SeasonLength { get; init; } = 1;

    /// <summary>
    /// Season of the MASE used to score candidates (M4 scores weekly data with 1). Null (default): <see cref="SeasonLength"/>.
    /// </summary>
    public int? MaseSeason { get; init; }

    /// <summary>What candidates are ranked by on the validation windows: MASE (default), sMAPE, or their M4-style mean relative to naive ("OWA", <see cref="AutoMetric.Owa"/>).</summary>
    public AutoMetric Metric { get; init; } = AutoMetric.Mase;

    /// <summary>Most recurrent configurations tried, in the order of <see cref="AutoForecaster.Candidates"/>; a budget that does not depend on the machine. Range: ≥ 0. Default 6.</summary>
    public int MaxCandidates { get; init; } = 6;

    /// <summary>
    /// Stop trying recurrent configurations once this much time has passed (the baselines always run). Null (default):
    /// no time limit. A time budget makes the choice depend on the machine's speed.
    /// </summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>Include naive, seasonal naive, drift and AR(p) as candidates. Default true.</summary>
    public bool IncludeBaselines { get; init; } = true;

    /// <summary>Also try the median of the best <see cref="EnsembleSize"/> candidates. Default true.</summary>
    public bool TryEnsemble { get; init; } = true;

    /// <summary>Members of the tried ensemble. Range: ≥ 2. Default 3.</summary>
    public int EnsembleSize { get; init; } = 3;

    /// <summary>
    /// The options every recurrent candidate starts from (covariates, targets, backend, non-negativity, seed, epochs,
    /// windows per epoch); the search varies cell, lookback, normalisation and loss. Null: the library defaults.
    /// </summary>
    public RnnForecasterOptions? Template { get; init; }

    /// <summary>Refit the winner on all the data (training + validation) for the epochs it needed. Default true.</summary>
    public bool RefitWinner { get; init; } = true;

    /// <summary>
    /// Points at the end of each series that score the candidates (and early-stop them): forecasts from origins
    /// <c>n − ValidationLength</c>, every <see cref="ValidationStride"/> points, while a whole horizon fits. Null
    /// (default): the horizon (one origin per series). A single long series wants more, for example 2,880 hours.
    /// </summary>
    public int? ValidationLength { get; init; }

    /// <summary>Points between validation origins; null (default): the horizon.</summary>
    public int? ValidationStride { get; init; }

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(Horizon);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(SeasonLength);
        if (MaseSeason is < 1) throw new ArgumentOutOfRangeException(nameof(MaseSeason), MaseSeason, $"MASE season ({MaseSeason}) must be >= 1");
        ArgumentOutOfRangeException.ThrowIfNegative(MaxCandidates);
        if (EnsembleSize < 2) throw new ArgumentOutOfRangeException(nameof(EnsembleSize), EnsembleSize, $"ensemble size ({EnsembleSize}) must be >= 2");
        if (TimeBudget is { } budget && budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TimeBudget), budget, "the time budget must be positive");
        if (!Enum.IsDefined(Metric)) throw new ArgumentOutOfRangeException(nameof(Metric), Metric, "metric must be Mase, Smape or Owa");
        if (ValidationLength is { } v && v < Horizon) throw new ArgumentOutOfRangeException(nameof(ValidationLength), v, $"validation length ({v}) must be at least the horizon ({Horizon})");
        if (ValidationStride is < 1) throw new ArgumentOutOfRangeException(nameof(ValidationStride), ValidationStride, $"validation stride ({ValidationStride}) must be >= 1");
        Template?.Validate();
    }
}

/// <summary>How <see cref="AutoForecaster"/> ranks candidates.</summary>
public enum AutoMetric
{
    /// <summary>MASE of the validation forecasts.</summary>
    Mase,
    /// <summary>M4 sMAPE of the validation forecasts.</summary>
    Smape,
    /// <summary>½·(sMAPE / sMAPE of naive + MASE / MASE of naive), M4's OWA with the naive forecast of the same validation windows as reference.</summary>
    Owa,
}

/// <summary>One candidate the auto forecaster scored.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Description">Its configuration.</param>
/// <param name="Score">Validation score (lower is better).</param>
/// <param name="Mase">Validation MASE.</param>
/// <param name="Smape">Validation sMAPE.</param>
/// <param name="Epochs">Best epoch of a recurrent candidate (0 for the others).</param>
/// <param name="Seconds">Time it took.</param>
public sealed record AutoCandidate(string Name, string Description, double Score, double Mase, double Smape, int Epochs, double Seconds);

/// <summary>What the auto forecaster tried and chose.</summary>
/// <param name="Candidates">Every candidate, in the order tried.</param>
/// <param name="Winner">The chosen candidate.</param>
/// <param name="Metric">What ranked them.</param>
/// <param name="ValidationLength">Points held out per series for scoring.</param>
public sealed record AutoReport(IReadOnlyList<AutoCandidate> Candidates, AutoCandidate Winner, AutoMetric Metric, int ValidationLength)
{
    /// <summary>A readable summary, one candidate per line (saved in the model file).</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"auto: {Candidates.Count} candidates ranked by validation {Metric} over the last {ValidationLength} points; winner {Winner.Name}\n");
        foreach (var c in Candidates)
            text.Append(CultureInfo.InvariantCulture, $"  {(c == Winner ? "*" : " ")} {c.Name,-28} {Metric} {c.Score:F4}  MASE {c.Mase:F4}  sMAPE {c.Smape:F3}  {c.Seconds:F0} s  {c.Description}\n");
        return text.ToString();
    }
}

/// <summary>
/// Searches a small space of forecasters on validation windows only (the last horizon of each series): recurrent
/// configurations (cell, lookback in multiples of the season, normalisation, loss), the baselines, and the median
/// ensemble of the best ones, within a candidate or time budget. The winner is refitted on all the data and returned
/// with its <see cref="AutoReport"/>, which its model file keeps.
/// </summary>
public sealed class AutoForecaster : IForecaster
{
    /// <summary>Creates the forecaster.</summary>
    public AutoForecaster(AutoForecasterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The options.</summary>
    public AutoForecasterOptions Options { get; }

    /// <inheritdoc />
    public string Name => "auto";

    /// <summary>
    /// The recurrent configurations tried, in order, for series of median length <paramref name="typicalLength"/>:
    /// lookbacks max(h, m/2) and max(2h, m) (left out when the data is too short), the seasonal lag m as an input when
    /// m &gt; 1, last-value or mean/std normalisation, the loss aligned with the ranking metric (scaled MAE for MASE,
    /// sMAPE for sMAPE, both for OWA), GRU and LSTM. The order puts first what won on M4 Weekly validation data:
    /// GRU, the shorter lookback with the seasonal lag, last-value normalisation.
    /// </summary>
    public IReadOnlyList<(string Name, RnnForecasterOptions Options)> Candidates(int typicalLength)
    {
        int h = Options.Horizon, m = Options.SeasonLength;
        var template = Options.Template ?? new RnnForecasterOptions(new WindowSpec(Math.Max(2 * h, m), h));
        var lookbacks = new[] { Math.Max(h, m / 2), Math.Max(2 * h, m) }.Where(l => l + 2 * h <= Math.Max(typicalLength, 3 * h)).Distinct().ToArray();
        if (lookbacks.Length == 0) lookbacks = [h];
        var losses = Options.Metric switch
        {
            AutoMetric.Mase => new[] { LossKind.ScaledMae },
            AutoMetric.Smape => [LossKind.Smape],
            _ => [LossKind.ScaledMae, LossKind.Smape],
        };
        IReadOnlyList<int> lags = m > 1 ? [m] : [];
        RnnForecasterOptions Make(CellType cell, int lookback, InstanceNormalization normalization, LossKind loss, bool residual = false) => template with
        {
            Cell = cell,
            Residual = residual ? ResidualBaseline.Seasonal(m) : template.Residual,
            Window = template.Window with { Lookback = lookback, Horizon = h, SeasonalLags = template.Window.SeasonalLags.Count > 0 ? template.Window.SeasonalLags : lags },
            MinimumHistory = template.MinimumHistory is { } minimum ? Math.Min(minimum, lookback) : null,
            Normalization = normalization,
            Scaler = null,
            SeasonLength = Options.MaseSeason ?? Options.SeasonLength,
            RefitOnFullData = false,
            ValidationLength = Options.ValidationLength ?? h,
            Training = template.Training with { Loss = new LossOptions(loss), Monitor = loss == LossKind.Smape ? ValidationMonitor.Smape : ValidationMonitor.Mase },
        };
        string Name(CellType cell, int lookback, string normalization, LossKind loss) =>
            $"{cell.ToString().ToLowerInvariant()}-L{lookback}-{normalization}{(losses.Length > 1 ? "-" + (loss == LossKind.Smape ? "smape" : "smae") : "")}";
        var result = new List<(string, RnnForecasterOptions)>();
        void Add(CellType cell, int lookback, string normName, InstanceNormalization normalization, LossKind loss, bool residual = false)
        {
            var name = Name(cell, lookback, normName, loss) + (residual ? $"-res{m}" : "");
            if (result.All(r => r.Item1 != name)) result.Add((name, Make(cell, lookback, normalization, loss, residual)));
        }
        // The residual to seasonal naive, where a season fits in the horizon (daily data with a weekly cycle, hourly with a daily one).
        bool seasonalResidual = m > 1 && m <= h;
        int shortLookback = lookbacks[0], longLookback = lookbacks[^1];
        // Non-negative quantities (sales counts) first try mean scaling, which keeps zero at zero for days that sell nothing.
        if (template.NonNegative)
        {
            Add(CellType.Lstm, longLookback, "mean", InstanceNormalization.MeanScaling, losses[0]);
            Add(CellType.Gru, longLookback, "mean", InstanceNormalization.MeanScaling, losses[0]);
        }
        foreach (var loss in losses) Add(CellType.Gru, shortLookback, "lv", InstanceNormalization.LastValueDifference, loss);
        foreach (var loss in losses) Add(CellType.Lstm, shortLookback, "lv", InstanceNormalization.LastValueDifference, loss);
        Add(CellType.Gru, longLookback, "lv", InstanceNormalization.LastValueDifference, losses[0]);
        if (seasonalResidual)
        {
            Add(CellType.Lstm, longLookback, "lv", InstanceNormalization.LastValueDifference, losses[0], residual: true);
            Add(CellType.Gru, longLookback, "lv", InstanceNormalization.LastValueDifference, losses[0], residual: true);
        }
        Add(CellType.Gru, shortLookback, "ms", InstanceNormalization.MeanStd, losses[0]);
        Add(CellType.Lstm, longLookback, "lv", InstanceNormalization.LastValueDifference, losses[0]);
        Add(CellType.Lstm, shortLookback, "ms", InstanceNormalization.MeanStd, losses[0]);
        foreach (var loss in losses.Skip(1))
        {
            Add(CellType.Gru, longLookback, "lv", InstanceNormalization.LastValueDifference, loss);
            Add(CellType.Lstm, longLookback, "lv", InstanceNormalization.LastValueDifference, loss);
        }
        return result;
    }

    IFittedForecaster IForecaster.Fit(IReadOnlyList<TimeSeries> series, FitOptions? options) => Fit(series, options);

    /// <summary>Scores every candidate on the last horizon of each series and returns the refitted winner.</summary>
    /// <exception cref="ArgumentException">The series are too short to hold out a validation horizon.</exception>
    public FittedAuto Fit(IReadOnlyList<TimeSeries> series, FitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (series.Count == 0) throw new ArgumentException("series is empty", nameof(series));
        options ??= new FitOptions();
        var token = options.CancellationToken;
        token.ThrowIfCancellationRequested();
        int h = Options.Horizon, m = Options.MaseSeason ?? Options.SeasonLength;
        int validation = Options.ValidationLength ?? h, stride = Options.ValidationStride ?? h;
        foreach (var s in series)
            if (s.Length <= validation + m + 1)
                throw new ArgumentException($"series '{s.Id}' has {s.Length} points; holding out {validation} validation points needs more than {validation + m + 1}", nameof(series));
        var clock = Stopwatch.StartNew();
        // Validation forecasts: every series from every origin n − validation, + stride, … while a whole horizon fits.
        var windows = series.SelectMany(s => Enumerable.Range(0, (validation - h) / stride + 1).Select(k => (Series: s, Origin: s.Length - validation + k * stride))).ToArray();
        var histories = windows.Select(w => w.Series.Slice(0, w.Origin)).ToArray();
        var future = windows.Select(w => w.Series.Slice(w.Origin, h)).ToArray();
        string target = (Options.Template?.Window.Targets is { Count: > 0 } t) ? t[0] : series[0].ColumnNames[0];
        var actuals = future.Select(f => f.Column(target).ToArray()).ToArray();
        var inSample = histories.Select(s => s.Column(target).ToArray()).ToArray();
        var naive = histories.Select(s => Enumerable.Repeat(s.Column(target)[^1], h).ToArray()).ToArray();
        var (naiveMase, naiveSmape) = Scores(naive, actuals, inSample, m);
        var trainParts = series.Select(s => s.Slice(0, s.Length - validation)).ToArray();

        // Counts (every training value a whole number) may be better forecast in whole numbers: each recurrent candidate is
        // also scored with its forecasts rounded, and keeps the rounding when that scores better.
        bool counts = trainParts.All(s => IsWholeNumbers(s.Column(target)));
        var scored = new List<(AutoCandidate Candidate, double[][] Forecasts, Func<IForecaster> Make, RnnForecasterOptions? Rnn)>();
        double Score(double[][] forecasts)
        {
            var (mase, smape) = Scores(forecasts, actuals, inSample, m);
            return Options.Metric switch
            {
                AutoMetric.Mase => mase,
                AutoMetric.Smape => smape,
                _ => 0.5 * (smape / naiveSmape + mase / naiveMase),
            };
        }
        void Add(string name, string description, double[][] forecasts, int epochs, double seconds, Func<IForecaster> make, RnnForecasterOptions? rnn)
        {
            var (mase, smape) = Scores(forecasts, actuals, inSample, m);
            scored.Add((new AutoCandidate(name, description, Score(forecasts), mase, smape, epochs, seconds), forecasts, make, rnn));
        }

        if (Options.IncludeBaselines)
            foreach (var (name, make) in Baselines(h, target, histories.Min(s => s.Length)))
            {
                var watch = Stopwatch.StartNew();
                var baseline = make();
                try
                {
                    var forecasts = baseline.Fit(trainParts).Predict(histories, new PredictOptions { Horizon = h }).Select(p => p.Values[0]).ToArray();
                    Add(name, baseline.Name, forecasts, 0, watch.Elapsed.TotalSeconds, make, null);
                }
                catch (ArgumentException)
                {
                    // A baseline that cannot forecast some series (too short for its season) is not a candidate.
                }
            }

        int typical = series.Select(s => s.Length).Order().ElementAt(series.Count / 2);
        foreach (var (name, rnn) in Candidates(typical).Take(Options.MaxCandidates))
        {
            if (Options.TimeBudget is { } budget && clock.Elapsed >= budget) break;
            token.ThrowIfCancellationRequested();
            var watch = Stopwatch.StartNew();
            using var fitted = new RnnForecaster(rnn).Fit(series, options with { ValidationLength = validation });
            var forecasts = fitted.Predict(histories, new PredictOptions { Horizon = h, Future = future }).Select(p => p.Values[0]).ToArray();
            int epochs = fitted.Training?.BestEpoch ?? 0;
            Add(name, Describe(rnn), forecasts, epochs, watch.Elapsed.TotalSeconds, () => new RnnForecaster(rnn), rnn);
            if (counts && !rnn.RoundForecasts)
            {
                var rounded = rnn with { RoundForecasts = true };
                var roundedForecasts = forecasts.Select(f => f.Select(v => Math.Round(v, MidpointRounding.AwayFromZero)).ToArray()).ToArray();
                var (plain, withRounding) = (scored[^1].Candidate.Score, Score(roundedForecasts));
                if (withRounding < plain)
                {
                    scored.RemoveAt(scored.Count - 1);
                    Add(name + "-round", Describe(rounded) + ", forecasts rounded", roundedForecasts, epochs, watch.Elapsed.TotalSeconds, () => new RnnForecaster(rounded), rounded);
                }
            }
        }

        if (Options.TryEnsemble && scored.Count >= Options.EnsembleSize)
        {
            var best = scored.OrderBy(c => c.Candidate.Score).Take(Options.EnsembleSize).ToArray();
            var combined = new double[windows.Length][];
            for (int s = 0; s < windows.Length; s++)
            {
                combined[s] = new double[h];
                for (int step = 0; step < h; step++)
                    combined[s][step] = Median(best.Select(b => b.Forecasts[s][step]).ToArray());
            }
            var members = best.ToArray();
            Add($"median({string.Join(", ", members.Select(b => b.Candidate.Name))})", "median of the best candidates", combined, 0, 0,
                () => new EnsembleForecaster(members.Select(b => Final(b.Make, b.Rnn, b.Candidate.Epochs)).ToArray()), null);
        }

        var winner = scored.OrderBy(c => c.Candidate.Score).First();
        var report = new AutoReport(scored.Select(c => c.Candidate).ToArray(), winner.Candidate, Options.Metric, validation);
        token.ThrowIfCancellationRequested();
        var final = winner.Rnn is not null ? Final(winner.Make, winner.Rnn, winner.Candidate.Epochs) : winner.Make();
        var model = final.Fit(series, options with { ValidationLength = Options.RefitWinner ? 0 : validation });
        return new FittedAuto(model, report);
    }

    /// <summary>A recurrent candidate as the final model: refitted on all the data for its best epoch count (or as tried).</summary>
    private IForecaster Final(Func<IForecaster> make, RnnForecasterOptions? rnn, int epochs)
    {
        if (rnn is null || !Options.RefitWinner || epochs < 1) return make();
        return new RnnForecaster(rnn with
        {
            ValidationLength = 0,
            Training = rnn.Training with { Epochs = epochs, EarlyStopping = null, Monitor = ValidationMonitor.Loss, Schedule = null },
        });
    }

    private IEnumerable<(string Name, Func<IForecaster> Make)> Baselines(int h, string target, int shortest)
    {
        yield return ("naive", () => new BaselineForecaster(new NaiveModel(), h, target));
        if (Options.SeasonLength > 1 && shortest >= Options.SeasonLength)
            yield return ($"seasonal-naive({Options.SeasonLength})", () => new BaselineForecaster(new SeasonalNaiveModel(Options.SeasonLength), h, target));
        yield return ("drift", () => new BaselineForecaster(new DriftModel(), h, target));
        // At most one season or two horizons, and at most 30: order selection costs O(n·p³) per series, and long lags on
        // short histories give explosive fits.
        int maxLag = Math.Clamp(Math.Min(2 * h, Math.Max(Options.SeasonLength, h)), 1, 30);
        yield return ($"ar(p<={maxLag})", () => new BaselineForecaster(new AutoRegressiveModel(new AutoRegressiveOptions(maxLag) { ShrinkMaxLag = true }), h, target));
    }

    private static string Describe(RnnForecasterOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"{o.Cell} {o.Layers}x{o.HiddenSize}, lookback {o.Window.Lookback}, normalisation {(o.Normalization is { } n ? $"{n.Center}/{n.Scale}" : "none")}{(o.Residual is { } r ? $", residual to {r.Kind}({r.SeasonLength})" : "")}, loss {o.Training.Loss.Kind}, lr {o.Training.Optimizer.LearningRate}, {o.Training.WindowsPerEpoch?.ToString(CultureInfo.InvariantCulture) ?? "all"} windows/epoch, {o.Training.Sampling}");

    private static (double Mase, double Smape) Scores(double[][] forecasts, double[][] actuals, double[][] inSample, int season)
    {
        double mase = 0, smape = 0;
        int defined = 0;
        for (int s = 0; s < forecasts.Length; s++)
        {
            smape += ForecastMetrics.Smape(actuals[s], forecasts[s]);
            try
            {
                mase += ForecastMetrics.Mase(actuals[s], forecasts[s], inSample[s], season);
                defined++;
            }
            catch (ArgumentException)
            {
                // Undefined MASE (constant history): left out of the mean, as the metric reports do.
            }
        }
        return (defined == 0 ? double.NaN : mase / defined, smape / forecasts.Length);
    }

    private static bool IsWholeNumbers(ReadOnlySpan<double> values)
    {
        foreach (var v in values) if (v != Math.Round(v)) return false;
        return true;
    }

    private static double Median(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
    }
}

/// <summary>The auto forecaster's refitted winner with the report of the search (kept in its model file).</summary>
public sealed class FittedAuto : IFittedForecaster, IModelNode
{
    internal FittedAuto(IFittedForecaster winner, AutoReport? report, string? reportText = null)
    {
        Winner = winner;
        Report = report;
        ReportText = reportText ?? report?.ToString() ?? "";
    }

    /// <summary>The chosen forecaster, refitted.</summary>
    public IFittedForecaster Winner { get; }

    /// <summary>The search report; null for a loaded model (see <see cref="ReportText"/>).</summary>
    public AutoReport? Report { get; }

    /// <summary>The search report as text (also after loading).</summary>
    public string ReportText { get; }

    /// <inheritdoc />
    public string Name => $"auto({Winner.Name})";

    /// <inheritdoc />
    public int Horizon => Winner.Horizon;

    /// <inheritdoc />
    public IReadOnlyList<double> QuantileLevels => Winner.QuantileLevels;

    /// <inheritdoc />
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<TimeSeries> history, PredictOptions? options = null) => Winner.Predict(history, options);

    /// <inheritdoc />
    public void Save(Stream stream)
    {
        var (node, tensors) = ((IModelNode)this).ToNode("");
        ModelFile.Write(stream, node, tensors);
    }

    /// <inheritdoc />
    public void Dispose() => Winner.Dispose();

    (ModelNode Node, IReadOnlyList<NamedTensor> Tensors) IModelNode.ToNode(string prefix)
    {
        if (Winner is not IModelNode writer) throw new NotSupportedException($"the winner '{Winner.Name}' cannot be saved in a model file");
        var (node, tensors) = writer.ToNode(prefix);
        return (node with { Selection = ReportText }, tensors);
    }
}
