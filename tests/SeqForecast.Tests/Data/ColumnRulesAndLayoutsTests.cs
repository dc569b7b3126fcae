using SeqForecast.Data;
using SeqForecast.Forecasting;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Data;

/// <summary>Per-column cleaning rules, the M4 one-row-per-series reader, delimiters, records, hourly series and legitimate negatives.</summary>
public class ColumnRulesAndLayoutsTests
{
    [Test]
    public void Sales_SumsQuantityButNeverPrice()
    {
        var csv = "sku,date,qty,price\nA,2024-01-01,2,9.99\nA,2024-01-01,3,9.99\nA,2024-01-03,1,10.49\n";
        var loaded = SeriesCsv.ReadLong(new StringReader(csv), "s.csv", new LongCsvFormat { IdColumn = "sku" }, SeriesCleaningOptions.Sales with { Frequency = Frequency.Daily });
        var s = loaded.Series[0];
        Assert.Multiple(() =>
        {
            Assert.That(s.Column("qty").ToArray(), Is.EqualTo(new[] { 5.0, 0, 1 }), "the duplicated day sums quantities; the missing day sold nothing");
            Assert.That(s.Column("price").ToArray(), Is.EqualTo(new[] { 9.99, 9.99, 10.49 }), "the duplicated day keeps 9.99 (averaged, not 19.98); the missing day carries the price");
            Assert.That(loaded.Report.DuplicatesMerged, Is.EqualTo(1));
        });
    }

    [Test]
    public void ColumnRule_FlagTakesTheMaxAndCarriesForward()
    {
        var csv = "sku,date,qty,promo\nA,2024-01-01,2,0\nA,2024-01-01,3,1\nA,2024-01-03,1,0\n";
        var cleaning = (SeriesCleaningOptions.Sales with { Frequency = Frequency.Daily }).WithColumn("promo", ColumnCleaning.Flag);
        var s = SeriesCsv.ReadLong(new StringReader(csv), "s.csv", new LongCsvFormat { IdColumn = "sku" }, cleaning).Series[0];
        Assert.That(s.Column("promo").ToArray(), Is.EqualTo(new[] { 1.0, 1, 0 }));
    }

    [Test]
    public void ColumnRule_ErrorNamesTheColumn()
    {
        var csv = "sku,date,qty,price\nA,2024-01-01,2,9.99\nA,2024-01-03,1,10.49\n";
        var cleaning = (SeriesCleaningOptions.Sales with { Frequency = Frequency.Daily }).WithColumn("price", new ColumnCleaning { Gaps = GapPolicy.Error });
        var ex = Assert.Throws<ArgumentException>(() => SeriesCsv.ReadLong(new StringReader(csv), "s.csv", new LongCsvFormat { IdColumn = "sku" }, cleaning));
        Assert.That(ex!.Message, Does.Contain("for column 'price' to fill them"));
    }

    [Test]
    public void Ragged_ReadsTheM4Layout()
    {
        var text = "\"V1\",\"V2\",\"V3\",\"V4\"\n\"W1\",\"1.5\",\"2\",\"3\"\n\"W2\",\"7\",\"8\",\"\"\n";
        var loaded = SeriesCsv.ReadRagged(new StringReader(text), "m4.csv", new RaggedCsvFormat());
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Series.Select(s => s.Id), Is.EqualTo(new[] { "W1", "W2" }));
            Assert.That(loaded.Series[0].Column(0).ToArray(), Is.EqualTo(new[] { 1.5, 2, 3 }));
            Assert.That(loaded.Series[1].Length, Is.EqualTo(2), "a row ends at its first empty field");
            Assert.That(loaded.Series[0].HasTimestamps, Is.False);
        });
    }

    [Test]
    public void Ragged_BadValueNamesLineAndField()
    {
        var ex = Assert.Throws<CsvDataException>(() => SeriesCsv.ReadRagged(new StringReader("V1,V2\nW1,abc\n"), "m4.csv", new RaggedCsvFormat()));
        Assert.That(ex!.Message, Does.Contain("line 2, column 'field 2': 'abc' is not a finite number"));
    }

    [Test]
    public void Delimiter_ReadsSemicolonFiles()
    {
        var csv = "sku;date;qty\nA;2024-01-01;2\nA;2024-01-02;3\n";
        var s = SeriesCsv.ReadLong(new StringReader(csv), "eu.csv", new LongCsvFormat { IdColumn = "sku", Delimiter = ";" }, SeriesCleaningOptions.Sales).Series[0];
        Assert.That(s.Column(0).ToArray(), Is.EqualTo(new[] { 2.0, 3 }));
    }

    private sealed record Order(string Sku, DateTime Day, int Quantity, double Price);

    [Test]
    public void Records_BuildSeriesInOneCall()
    {
        var day = new DateTime(2024, 1, 1);
        Order[] orders = [new("A", day, 2, 9.99), new("B", day, 1, 5), new("A", day, 1, 9.99), new("A", day.AddDays(1), 4, 8.99)];
        var loaded = SeriesRecords.Assemble(orders, o => o.Sku, o => o.Day, [("qty", o => o.Quantity), ("price", o => o.Price)], SeriesCleaningOptions.Sales);
        var plain = SeriesRecords.Assemble(orders.Select(o => new SeriesRecord(o.Sku, o.Day, o.Quantity)), "qty", SeriesCleaningOptions.Sales with { Frequency = Frequency.Daily });
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Series.Select(s => s.Id), Is.EqualTo(new[] { "A", "B" }));
            Assert.That(loaded.Series[0].Column("qty").ToArray(), Is.EqualTo(new[] { 3.0, 4 }));
            Assert.That(loaded.Series[0].Column("price").ToArray(), Is.EqualTo(new[] { 9.99, 8.99 }));
            Assert.That(plain.Series[0].ColumnNames, Is.EqualTo(new[] { "qty" }));
        });
    }

    [Test]
    public void Hourly_SeriesKeepTheirHoursAndForecastTimestamps()
    {
        var start = new DateTime(2024, 3, 1, 0, 0, 0);
        var rows = Enumerable.Range(0, 24 * 10).Select(h => $"meter,{start.AddHours(h):yyyy-MM-dd HH:mm:ss},{10 + 5 * Math.Sin(2 * Math.PI * h / 24):F3}");
        var loaded = SeriesCsv.ReadLong(new StringReader("id,date,kw\n" + string.Join("\n", rows)), "h.csv", new LongCsvFormat(), SeriesCleaningOptions.Strict);
        var series = loaded.Series[0];
        var options = new RnnForecasterOptions(new WindowSpec(24, 6) { Calendar = CalendarFeatures.HourOfDay | CalendarFeatures.DayOfWeek })
        {
            HiddenSize = 8, Layers = 1, Training = new TrainerOptions { Epochs = 1 },
        };
        using var model = new RnnForecaster(options).Fit([series]);
        var forecast = model.Predict(series);
        Assert.Multiple(() =>
        {
            Assert.That(FrequencyExtensions.Infer(series.Timestamps.ToArray(), "meter"), Is.EqualTo(Frequency.Hourly));
            Assert.That(forecast.Timestamps, Is.EqualTo(Enumerable.Range(1, 6).Select(h => series.Timestamps[^1].AddHours(h))));
            Assert.That(model.Info.FeatureNames, Does.Contain("hour_of_day_sin"));
        });
    }

    [TestCase("2024-01-01 00:15:00", "2024-01-01 00:30:00", Frequency.QuarterHourly)]
    [TestCase("2024-01-01", "2024-04-01", Frequency.Quarterly)]
    [TestCase("2020-01-01", "2021-01-01", Frequency.Yearly)]
    public void Infer_FinerAndCoarserFrequencies(string a, string b, Frequency expected) =>
        Assert.That(FrequencyExtensions.Infer([DateTime.Parse(a, System.Globalization.CultureInfo.InvariantCulture), DateTime.Parse(b, System.Globalization.CultureInfo.InvariantCulture)], "s"), Is.EqualTo(expected));

    [Test]
    public void Measurements_AcceptNegativeValues()
    {
        var csv = "id,date,celsius\nX,2024-01-01,-3.5\nX,2024-01-02,-1\n";
        var s = SeriesCsv.ReadLong(new StringReader(csv), "t.csv", new LongCsvFormat(), SeriesCleaningOptions.Measurements).Series[0];
        Assert.That(s.Column(0).ToArray(), Is.EqualTo(new[] { -3.5, -1 }));
    }

    [Test]
    public void Wide_WithoutDatesErrorsNameRowsNotMadeUpDates()
    {
        var ex = Assert.Throws<ArgumentException>(() => SeriesCsv.ReadWide(new StringReader("a,b\n1,2\n-3,4\n"), "w.csv", new WideCsvFormat { DateColumn = null }, SeriesCleaningOptions.Strict));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("is -3 at data row 2"));
            Assert.That(ex.Message, Does.Not.Contain("1970"));
        });
    }

    [Test]
    public void Gaps_AnAbsurdDateIsAnErrorNotMillionsOfDays()
    {
        var csv = "id,date,qty\nA,2024-01-01,1\nA,2924-01-01,2\n";
        var ex = Assert.Throws<ArgumentException>(() => SeriesCsv.ReadLong(new StringReader(csv), "typo.csv", new LongCsvFormat(), SeriesCleaningOptions.Sales with { Frequency = Frequency.Daily }));
        Assert.That(ex!.Message, Does.Contain("has no row from 2024-01-01 to 2924-01-01").And.Contain("more than MaxGapPeriods (10,000)"));
    }
}
