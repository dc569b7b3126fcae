using System.Data;
using Microsoft.Data.Analysis;
using PublicApiGenerator;
using SeqForecast.Baselines;
using SeqForecast.Forecasting;

namespace SeqForecast.Data.Tests;

/// <summary>DataFrame, ADO.NET and Parquet sources give the same series as the CSV reader, and forecasts come back as frames.</summary>
public class SeriesInteropTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "seqforecast-data-tests", Guid.NewGuid().ToString("N")));

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private static readonly DateTime Start = new(2024, 1, 1);

    private static IReadOnlyList<TimeSeries> Sales() => Enumerable.Range(0, 3).Select(i => new TimeSeries($"sku-{i}", ["qty", "price"],
        [Enumerable.Range(0, 20).Select(t => (double)((t * (i + 3)) % 7)).ToArray(), Enumerable.Range(0, 20).Select(t => 9.99 + i).ToArray()],
        Enumerable.Range(0, 20).Select(t => Start.AddDays(t)).ToArray())).ToArray();

    private static void AssertSameSeries(IReadOnlyList<TimeSeries> actual, IReadOnlyList<TimeSeries> expected)
    {
        Assert.That(actual.Select(s => s.Id), Is.EqualTo(expected.Select(s => s.Id)));
        for (int s = 0; s < expected.Count; s++)
        {
            Assert.That(actual[s].ColumnNames, Is.EqualTo(expected[s].ColumnNames));
            Assert.That(actual[s].Timestamps.ToArray(), Is.EqualTo(expected[s].Timestamps.ToArray()));
            for (int c = 0; c < expected[s].ColumnNames.Count; c++)
                Assert.That(actual[s].Column(c).ToArray(), Is.EqualTo(expected[s].Column(c).ToArray()), $"{expected[s].Id} column {c}");
        }
    }

    [Test]
    public void DataFrame_LongRoundTripKeepsEverySeries()
    {
        var series = Sales();
        var frame = SeriesDataFrame.ToDataFrame(series);
        var back = SeriesDataFrame.FromLong(frame, new LongTableFormat { IdColumn = "id", DateColumn = "date" }, SeriesCleaningOptions.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(frame.Rows.Count, Is.EqualTo(60));
            Assert.That(frame.Columns.Select(c => c.Name), Is.EqualTo(new[] { "id", "date", "qty", "price" }));
            AssertSameSeries(back.Series, series);
        });
    }

    [Test]
    public void DataFrame_WideFrameGivesOneSeriesPerColumn()
    {
        var date = new PrimitiveDataFrameColumn<DateTime>("day", Enumerable.Range(0, 5).Select(d => Start.AddDays(d)));
        var a = new DoubleDataFrameColumn("A", [1.0, 2, 3, 4, 5]);
        var b = new DoubleDataFrameColumn("B", [5.0, 4, 3, 2, 1]);
        var loaded = SeriesDataFrame.FromWide(new DataFrame(date, a, b), "day", SeriesCleaningOptions.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Series.Select(s => s.Id), Is.EqualTo(new[] { "A", "B" }));
            Assert.That(loaded.Series[1].Column(0).ToArray(), Is.EqualTo(new[] { 5.0, 4, 3, 2, 1 }));
            Assert.That(loaded.Series[0].Timestamps[4], Is.EqualTo(Start.AddDays(4)));
        });
    }

    [Test]
    public void DataFrame_ForecastsComeBackWithStepsAndQuantiles()
    {
        var series = Sales().Select(s => s.SelectColumns(["qty"])).ToArray();
        using var model = new ConformalForecaster(new BaselineForecaster(new SeasonalNaiveModel(7), 4), new ConformalOptions(4) { Levels = [0.8], CalibrationOrigins = 2 }).Fit(series);
        var predictions = model.Predict(series);
        var frame = SeriesDataFrame.ToDataFrame(predictions);
        Assert.Multiple(() =>
        {
            Assert.That(frame.Columns.Select(c => c.Name), Is.EqualTo(new[] { "id", "date", "step", "target", "forecast", "q0.1", "q0.5", "q0.9" }));
            Assert.That(frame.Rows.Count, Is.EqualTo(3 * 4));
            Assert.That(frame["forecast"][5], Is.EqualTo(predictions[1].FirstTarget[1]));
            Assert.That(frame["date"][0], Is.EqualTo(Start.AddDays(20)));
            Assert.That((double)frame["q0.1"][0]!, Is.LessThanOrEqualTo((double)frame["forecast"][0]!));
        });
    }

    [Test]
    public void DataFrame_MissingColumnIsNamed()
    {
        var frame = SeriesDataFrame.ToDataFrame(Sales());
        var ex = Assert.Throws<ArgumentException>(() => SeriesDataFrame.FromLong(frame, new LongTableFormat { IdColumn = "sku" }, SeriesCleaningOptions.Strict));
        Assert.That(ex!.Message, Does.Contain("the frame has no column 'sku'; it has: id, date, qty, price"));
    }

    [Test]
    public void DataTable_AndDataReaderGiveTheSameSeries()
    {
        var table = new DataTable("sales");
        table.Columns.Add("sku", typeof(string));
        table.Columns.Add("day", typeof(DateTime));
        table.Columns.Add("qty", typeof(int));
        table.Columns.Add("price", typeof(decimal));
        foreach (var s in Sales())
            for (int t = 0; t < s.Length; t++) table.Rows.Add(s.Id, s.Timestamps[t], (int)s.Column(0)[t], (decimal)s.Column(1)[t]);
        var loaded = SeriesDataReader.ReadLong(table, new LongTableFormat { IdColumn = "sku", DateColumn = "day" }, SeriesCleaningOptions.Strict);
        AssertSameSeries(loaded.Series, Sales());
    }

    [Test]
    public void DataReader_BadCellNamesRowAndColumn()
    {
        var table = new DataTable();
        table.Columns.Add("id", typeof(string));
        table.Columns.Add("date", typeof(string));
        table.Columns.Add("qty", typeof(string));
        table.Rows.Add("A", "2024-01-01", "3");
        table.Rows.Add("A", "2024-01-02", "three");
        var ex = Assert.Throws<ArgumentException>(() => SeriesDataReader.ReadLong(table, new LongTableFormat(), SeriesCleaningOptions.Strict));
        Assert.That(ex!.Message, Does.Contain("row 2, column 'qty' holds 'three', not a number"));
    }

    [Test]
    public void Parquet_RoundTripKeepsEverySeries()
    {
        var path = Path.Combine(_folder, "sales.parquet");
        SeriesParquet.WriteLong(path, Sales(), rowGroupSize: 25);
        var loaded = SeriesParquet.ReadLong(path, new LongTableFormat(), SeriesCleaningOptions.Strict);
        Assert.Multiple(() =>
        {
            AssertSameSeries(loaded.Series, Sales());
            Assert.That(Directory.GetFiles(_folder).Select(Path.GetFileName), Is.EqualTo(new[] { "sales.parquet" }), "written through a temporary file");
        });
    }

    [Test]
    public void Parquet_NotAParquetFileIsInvalidData()
    {
        var path = Path.Combine(_folder, "fake.parquet");
        File.WriteAllText(path, "id,date,qty\nA,2024-01-01,3\n");
        Assert.Throws<InvalidDataException>(() => SeriesParquet.ReadLong(path, new LongTableFormat(), SeriesCleaningOptions.Strict));
    }

    [Test]
    public void Parquet_MissingColumnIsNamed()
    {
        var path = Path.Combine(_folder, "sales.parquet");
        SeriesParquet.WriteLong(path, Sales());
        var ex = Assert.Throws<ArgumentException>(() => SeriesParquet.ReadLong(path, new LongTableFormat { DateColumn = "ds" }, SeriesCleaningOptions.Strict));
        Assert.That(ex!.Message, Does.Contain("has no column 'ds'; it has: id, date, qty, price"));
    }

    [Test]
    public void Parquet_SalesCleaningAveragesPricesAndSumsQuantities()
    {
        var path = Path.Combine(_folder, "dup.parquet");
        var rows = new TimeSeries("a", ["qty", "price"], [[2.0, 3], [9.99, 9.99]], [Start, Start.AddDays(2)]);
        SeriesParquet.WriteLong(path, [rows]);
        var loaded = SeriesParquet.ReadLong(path, new LongTableFormat(), SeriesCleaningOptions.Sales with { Frequency = Frequency.Daily });
        Assert.Multiple(() =>
        {
            Assert.That(loaded.Series[0].Column("qty").ToArray(), Is.EqualTo(new[] { 2.0, 0, 3 }), "a missing day sells nothing");
            Assert.That(loaded.Series[0].Column("price").ToArray(), Is.EqualTo(new[] { 9.99, 9.99, 9.99 }), "the price carries over the missing day");
        });
    }

    [Test]
    public void PublicApi_MatchesTheBaseline()
    {
        var baseline = Path.Combine(Repository(), "src", "SeqForecast.Data", "PublicAPI.txt");
        var api = typeof(SeriesParquet).Assembly.GeneratePublicApi(new ApiGeneratorOptions { ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Reflection.AssemblyMetadataAttribute"] }).ReplaceLineEndings("\n");
        if (Environment.GetEnvironmentVariable("SEQFORECAST_UPDATE_API") == "1") File.WriteAllText(baseline, api);
        Assert.That(api, Is.EqualTo(File.ReadAllText(baseline).ReplaceLineEndings("\n")), "rerun with SEQFORECAST_UPDATE_API=1 after an intended API change");
    }

    private static string Repository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SeqForecast.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("repository root not found");
    }
}
