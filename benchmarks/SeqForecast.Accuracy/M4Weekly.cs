using SeqForecast.Baselines;
using SeqForecast.Data;
using SeqForecast.Forecasting;
using SeqForecast.Metrics;

namespace SeqForecast.Accuracy;

/// <summary>
/// M4 Weekly: 359 series, horizon 13, scored with M4's sMAPE, MASE (m = 1 for weekly data, as M4 did) and OWA relative
/// to Naive2's published 9.161 / 2.777.
/// </summary>
internal sealed class M4Weekly
{
    public const int Horizon = 13;
    public const double Naive2Smape = 9.161, Naive2Mase = 2.777;

    public M4Weekly(string folder)
    {
        Train = SeriesCsv.ReadRagged(Path.Combine(folder, "m4_weekly_train.csv"), new RaggedCsvFormat()).Series;
        var test = SeriesCsv.ReadRagged(Path.Combine(folder, "m4_weekly_test.csv"), new RaggedCsvFormat()).Series;
        var byId = test.ToDictionary(s => s.Id);
        Test = Train.Select(s => byId[s.Id]).ToArray();
        if (Test.Any(t => t.Length != Horizon)) throw new InvalidDataException("every M4 Weekly test row holds 13 values");
    }

    public IReadOnlyList<TimeSeries> Train { get; }

    public IReadOnlyList<TimeSeries> Test { get; }

    /// <summary>sMAPE, MASE and OWA of forecasts of the test rows.</summary>
    public Scores Score(IReadOnlyList<double[]> forecasts)
    {
        double smape = 0, mase = 0;
        for (int s = 0; s < Train.Count; s++)
        {
            var actual = Test[s].Column(0);
            smape += ForecastMetrics.Smape(actual, forecasts[s]);
            mase += ForecastMetrics.Mase(actual, forecasts[s], Train[s].Column(0), 1);
        }
        smape /= Train.Count;
        mase /= Train.Count;
        return new Scores(smape, mase, 0.5 * (smape / Naive2Smape + mase / Naive2Mase));
    }

    public Scores Score(IFittedForecaster model) =>
        Score(model.Predict(Train, new PredictOptions { Horizon = Horizon }).Select(p => p.Values[0]).ToArray());

    /// <summary>The validation score of a configuration: trained without the last 13 points of each training series, scored on them.</summary>
    public static Scores Validate(IForecaster forecaster, IReadOnlyList<TimeSeries> train)
    {
        var inner = train.Select(s => s.Slice(0, s.Length - Horizon)).ToArray();
        using var model = forecaster.Fit(inner);
        if (Environment.GetEnvironmentVariable("SEQFORECAST_HISTORY") is { Length: > 0 } && model is FittedRnnForecaster { Training: { } training })
            foreach (var e in training.History)
                Console.WriteLine(FormattableString.Invariant($"  epoch {e.Epoch,3}  train {e.TrainLoss,8:F4}  validation {e.ValidationLoss,8:F4}{(e.IsBest ? "  best" : "")}"));
        var forecasts = model.Predict(inner, new PredictOptions { Horizon = Horizon });
        double smape = 0, mase = 0;
        for (int s = 0; s < train.Count; s++)
        {
            var actual = train[s].Column(0)[^Horizon..];
            smape += ForecastMetrics.Smape(actual, forecasts[s].Values[0]);
            mase += ForecastMetrics.Mase(actual, forecasts[s].Values[0], inner[s].Column(0), 1);
        }
        smape /= train.Count;
        mase /= train.Count;
        return new Scores(smape, mase, 0.5 * (smape / Naive2Smape + mase / Naive2Mase));
    }

    public static IReadOnlyList<(string Name, IForecaster Forecaster)> Baselines() =>
    [
        ("Naive", new BaselineForecaster(new NaiveModel(), Horizon)),
        ("Seasonal naive (52)", new BaselineForecaster(new SeasonalNaiveModel(52), Horizon)),
        ("Drift", new BaselineForecaster(new DriftModel(), Horizon)),
        ("AR(p ≤ 26, AIC)", new BaselineForecaster(new AutoRegressiveModel(new AutoRegressiveOptions(26) { ShrinkMaxLag = true }), Horizon)),
    ];
}

/// <summary>M4-style point scores.</summary>
internal readonly record struct Scores(double Smape, double Mase, double Owa);
