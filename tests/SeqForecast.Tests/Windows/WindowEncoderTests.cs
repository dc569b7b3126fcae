using SeqForecast.Data;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Windows;

/// <summary>The input layout and the normalisation arithmetic of the encoder shared by datasets, training and prediction.</summary>
public class WindowEncoderTests
{
    private static readonly DateTime Monday = new(2024, 1, 1);

    private static TimeSeries Series(string id, double[] y, double[]? promo = null, IReadOnlyDictionary<string, StaticValue>? statics = null)
    {
        var names = promo is null ? new[] { "y" } : ["y", "promo"];
        var columns = promo is null ? new[] { y } : [y, promo];
        return new TimeSeries(id, names, columns, Enumerable.Range(0, y.Length).Select(d => Monday.AddDays(d)).ToArray(), statics);
    }

    private static WindowEncoder Encoder(WindowSpec spec, IReadOnlyList<TimeSeries> train, EncoderSettings? settings = null) =>
        new(spec, spec.TargetNames(train[0]), settings ?? EncoderSettings.Raw, WindowEncoder.FitState(spec, train, standardize: false));

    private static (float[] Input, float[] Target, float[] Scale, float[] Offset) Encode(WindowEncoder encoder, TimeSeries series, int origin)
    {
        var input = new float[encoder.InputLength];
        var target = new float[encoder.TargetLength];
        var scale = new float[encoder.TargetLength];
        var offset = new float[encoder.TargetLength];
        encoder.Encode(encoder.Frame(series, null), origin, input, target, scale, offset);
        return (input, target, scale, offset);
    }

    [Test]
    public void Encode_FutureCovariateReachesTheForecastSteps()
    {
        var series = Series("a", [1, 2, 3, 4, 5], promo: [0, 0, 0, 1, 0]);
        var encoder = Encoder(new WindowSpec(2, 2) { FutureCovariates = ["promo"] }, [series]);
        var (input, target, _, _) = Encode(encoder, series, origin: 2);
        Assert.Multiple(() =>
        {
            Assert.That(encoder.FeatureNames(), Is.EqualTo(new[] { "y", "observed", "promo" }));
            // steps: two observed (y, 1, promo), then the two forecast steps (0, 0, promo of days 3 and 4)
            Assert.That(input, Is.EqualTo(new float[] { 1, 1, 0, 2, 1, 0, 0, 0, 0, 0, 0, 1 }));
            Assert.That(target, Is.EqualTo(new float[] { 3, 4 }));
        });
    }

    [Test]
    public void Encode_StaticCategoriesAreOneHotOnEveryStep()
    {
        var a = Series("a", [1, 2, 3], statics: new Dictionary<string, StaticValue> { ["store"] = "north" });
        var b = Series("b", [1, 2, 3], statics: new Dictionary<string, StaticValue> { ["store"] = "south" });
        var encoder = Encoder(new WindowSpec(2, 1) { StaticCovariates = ["store"] }, [a, b]);
        var (input, _, _, _) = Encode(encoder, b, origin: 2);
        Assert.Multiple(() =>
        {
            Assert.That(encoder.FeatureNames(), Is.EqualTo(new[] { "y", "store=north", "store=south" }));
            Assert.That(input, Is.EqualTo(new float[] { 1, 0, 1, 2, 0, 1 }));
        });
    }

    [Test]
    public void Frame_UnknownCategoryIsAnErrorOrZerosByPolicy()
    {
        var a = Series("a", [1, 2, 3], statics: new Dictionary<string, StaticValue> { ["store"] = "north" });
        var spec = new WindowSpec(2, 1) { StaticCovariates = ["store"] };
        var newStore = Series("c", [1, 2, 3], statics: new Dictionary<string, StaticValue> { ["store"] = "east" });
        var strict = Encoder(spec, [a]);
        var ex = Assert.Throws<ArgumentException>(() => strict.Frame(newStore, null));
        Assert.That(ex!.Message, Does.Contain("static attribute 'store' is 'east', a category the model did not see in training (known: north)"));
        var lenient = Encoder(spec, [a], EncoderSettings.Raw with { UnknownCategories = UnknownCategoryPolicy.Zeros });
        var (input, _, _, _) = Encode(lenient, newStore, origin: 2);
        Assert.That(input, Is.EqualTo(new float[] { 1, 0, 2, 0 }));
    }

    [Test]
    public void Encode_SeasonalLagReachesBeyondTheLookback()
    {
        var series = Series("a", [10, 11, 12, 13, 14, 15, 16, 17]);
        var encoder = Encoder(new WindowSpec(2, 1) { SeasonalLags = [4] }, [series]);
        var (input, _, _, _) = Encode(encoder, series, origin: 6);
        // inputs at t = 4, 5; lag 4 gives y(0) = 10 and y(1) = 11
        Assert.That(input, Is.EqualTo(new float[] { 14, 10, 15, 11 }));
    }

    [Test]
    public void Encode_InstanceNormalisationUsesOnlyTheLookback()
    {
        var series = Series("a", [100, 1, 3, 5, 1000]);
        var settings = EncoderSettings.Raw with { Instance = InstanceNormalization.MeanStd };
        var encoder = Encoder(new WindowSpec(3, 1), [series], settings);
        var (input, target, scale, offset) = Encode(encoder, series, origin: 4);
        double mean = 3, std = Math.Sqrt(8.0 / 3);
        Assert.Multiple(() =>
        {
            Assert.That(input, Is.EqualTo(new[] { (float)(-2 / std), 0f, (float)(2 / std) }).Within(1e-6));
            Assert.That(target[0], Is.EqualTo((float)((1000 - mean) / std)).Within(1e-4));
            Assert.That(target[0] * scale[0] + offset[0], Is.EqualTo(1000).Within(1e-3), "decoding returns original units");
        });
    }

    [Test]
    public void Encode_ResidualTargetsAreTheCorrectionToSeasonalNaive()
    {
        var series = Series("a", [1, 2, 3, 4, 1.5, 2.5]);
        var settings = EncoderSettings.Raw with { Residual = ResidualBaseline.Seasonal(2) };
        var encoder = Encoder(new WindowSpec(2, 2), [series], settings);
        var (_, target, scale, offset) = Encode(encoder, series, origin: 4);
        Assert.Multiple(() =>
        {
            // seasonal naive from origin 4 with m = 2: y(2) = 3, y(3) = 4
            Assert.That(offset, Is.EqualTo(new float[] { 3, 4 }));
            Assert.That(target, Is.EqualTo(new float[] { -1.5f, -1.5f }));
            Assert.That(scale, Is.EqualTo(new float[] { 1, 1 }));
        });
    }

    [Test]
    public void Encode_PaddedWindowMarksMissingHistoryUnobserved()
    {
        var series = Series("a", [5, 6, 7]);
        var settings = EncoderSettings.Raw with { ShortSeries = ShortSeriesPolicy.Pad, MinimumHistory = 1 };
        var encoder = Encoder(new WindowSpec(4, 1), [series], settings);
        var (input, target, _, _) = Encode(encoder, series, origin: 2);
        Assert.Multiple(() =>
        {
            Assert.That(encoder.MinimumHistory, Is.EqualTo(1));
            Assert.That(input, Is.EqualTo(new float[] { 0, 0, 0, 0, 5, 1, 6, 1 }));
            Assert.That(target, Is.EqualTo(new float[] { 7 }));
        });
    }

    [Test]
    public void Encode_CalendarAndHolidaysCoverForecastSteps()
    {
        var series = Series("a", [1, 2, 3, 4]);
        var holidays = new HolidayCalendar("test", [Monday.AddDays(3)]);
        var encoder = Encoder(new WindowSpec(1, 1) { Calendar = CalendarFeatures.DayOfWeek, Holidays = holidays }, [series]);
        var (input, _, _, _) = Encode(encoder, series, origin: 3); // forecast day 3 (Thursday), a holiday
        double thursday = 2 * Math.PI * 3 / 7;
        Assert.Multiple(() =>
        {
            Assert.That(encoder.FeatureNames(), Is.EqualTo(new[] { "y", "observed", "day_of_week_sin", "day_of_week_cos", "holiday" }));
            Assert.That(input[5..], Is.EqualTo(new[] { 0f, 0, (float)Math.Sin(thursday), (float)Math.Cos(thursday), 1 }).Within(1e-6));
            Assert.That(input[4], Is.Zero, "Wednesday is no holiday");
        });
    }

    [Test]
    public void Frame_NonFiniteValueNamesSeriesColumnAndPosition()
    {
        var series = Series("SKU-1", [1, double.NaN, 3]);
        var encoder = Encoder(new WindowSpec(2, 1), [Series("SKU-1", [1, 2, 3])]);
        var ex = Assert.Throws<ArgumentException>(() => encoder.Frame(series, null));
        Assert.That(ex!.Message, Does.StartWith("series 'SKU-1' column 'y' is NaN at 2024-01-02 (index 1)"));
    }
}
