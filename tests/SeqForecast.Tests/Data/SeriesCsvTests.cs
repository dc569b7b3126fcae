using SeqForecast.Data;

namespace SeqForecast.Tests.Data;

public class SeriesCsvTests
{
    private static readonly LongCsvFormat RetailFormat = new() { IdColumn = "item", DateColumn = "ds" };

    private static SeriesLoadResult Long(string text, SeriesCleaningOptions? cleaning = null)
        => SeriesCsv.ReadLong(new StringReader(text), "sales.csv", RetailFormat, cleaning ?? SeriesCleaningOptions.Sales);

    [Test]
    public void ReadLong_GroupsSeriesAndFillsGapsWithZero()
    {
        var result = Long("item,ds,y\nA,2021-01-01,5\nB,2021-01-01,1\nA,2021-01-03,7\nB,2021-01-02,2\n");
        Assert.Multiple(() =>
        {
            Assert.That(result.Series.Select(s => s.Id), Is.EqualTo(new[] { "A", "B" }));
            Assert.That(result.Series[0].Column("y").ToArray(), Is.EqualTo(new[] { 5.0, 0, 7 }));
            Assert.That(result.Series[1].Column("y").ToArray(), Is.EqualTo(new[] { 1.0, 2 }));
            Assert.That(result.Report.GapsFilled, Is.EqualTo(1));
        });
    }

    [Test]
    public void ReadLong_ReadsSeveralValueColumns()
    {
        var result = Long("item,ds,y,price\nA,2021-01-01,5,2.5\nA,2021-01-02,6,2.25\n");
        Assert.That(result.Series[0].Column("price").ToArray(), Is.EqualTo(new[] { 2.5, 2.25 }));
    }

    [Test]
    public void ReadLong_EmptyFieldIsMissingValue()
    {
        var ex = Assert.Throws<ArgumentException>(() => Long("item,ds,y\nA,2021-01-01,5\nA,2021-01-02,\n"));
        Assert.That(ex!.Message, Does.StartWith("file 'sales.csv': series 'A' column 'y' is NaN at 2021-01-02"));
    }

    [Test]
    public void ReadLong_BadDateReportsFileLineAndColumn()
    {
        var ex = Assert.Throws<CsvDataException>(() => Long("item,ds,y\nA,2021-01-01,5\nA,2021-13-01,5\n"));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Line, Is.EqualTo(3));
            Assert.That(ex.Column, Is.EqualTo("ds"));
            Assert.That(ex.Message, Does.StartWith("file 'sales.csv', line 3, column 'ds': '2021-13-01' is not a date"));
        });
    }

    [Test]
    public void ReadLong_BadNumberReportsFileLineAndColumn()
    {
        var ex = Assert.Throws<CsvDataException>(() => Long("item,ds,y\nA,2021-01-01,5\nA,2021-01-02,five\n"));
        Assert.That(ex!.Message, Does.StartWith("file 'sales.csv', line 3, column 'y': 'five' is not a number"));
    }

    [Test]
    public void ReadLong_WrongFieldCountReportsLine()
    {
        var ex = Assert.Throws<CsvDataException>(() => Long("item,ds,y\nA,2021-01-01,5\nA,2021-01-02\n"));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Line, Is.EqualTo(3));
            Assert.That(ex.Message, Does.Contain("the row has 2 fields but the header has 3"));
        });
    }

    [Test]
    public void ReadLong_MissingColumnNamesIt()
    {
        var ex = Assert.Throws<CsvDataException>(() => Long("sku,ds,y\nA,2021-01-01,5\n"));
        Assert.That(ex!.Message, Does.Contain("column 'item': the header has no such column; it has: sku, ds, y"));
    }

    [Test]
    public void ReadLong_EmptyFileIsAnError()
    {
        Assert.Throws<CsvDataException>(() => Long(""));
        var ex = Assert.Throws<CsvDataException>(() => Long("item,ds,y\n"));
        Assert.That(ex!.Message, Does.Contain("no data rows"));
    }

    [Test]
    public void ReadLong_MissingFileThrowsFileNotFound()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => SeriesCsv.ReadLong("/no/such/file.csv", RetailFormat, SeriesCleaningOptions.Sales));
        Assert.That(ex!.Message, Does.Contain("/no/such/file.csv"));
    }

    [Test]
    public void ReadWide_ReadsQuotedHeaderCrlfAndMonths()
    {
        var result = SeriesCsv.ReadWide(TestPaths.Data("airline-passengers.csv"), new WideCsvFormat { DateColumn = "Month" }, SeriesCleaningOptions.Strict);
        var series = result.Series.Single();
        Assert.Multiple(() =>
        {
            Assert.That(series.Id, Is.EqualTo("Passengers"));
            Assert.That(series.Length, Is.EqualTo(144));
            Assert.That(series.Column(0)[0], Is.EqualTo(112.0));
            Assert.That(series.Timestamps[143], Is.EqualTo(new DateTime(1960, 12, 1)));
        });
    }

    [Test]
    public void ReadWide_OneSeriesPerColumn()
    {
        var result = SeriesCsv.ReadWide(new StringReader("date,a,b\n2021-01-01,1,10\n2021-01-02,2,20\n"), "w.csv", new WideCsvFormat(), SeriesCleaningOptions.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(result.Series.Select(s => s.Id), Is.EqualTo(new[] { "a", "b" }));
            Assert.That(result.Series[1].Column("value").ToArray(), Is.EqualTo(new[] { 10.0, 20 }));
        });
    }

    [Test]
    public void ReadWide_WithoutDateColumnHasNoTimestamps()
    {
        var result = SeriesCsv.ReadWide(new StringReader("a\n1\n2\n3\n"), "w.csv", new WideCsvFormat { DateColumn = null }, SeriesCleaningOptions.Strict);
        Assert.Multiple(() =>
        {
            Assert.That(result.Series[0].HasTimestamps, Is.False);
            Assert.That(result.Series[0].Column(0).ToArray(), Is.EqualTo(new[] { 1.0, 2, 3 }));
        });
    }

    [Test]
    public void ReadLong_ReadsTheRetailFileWithSalesPolicies()
    {
        var path = Path.Combine(TestPaths.RepositoryRoot, "samples", "SalesForecast", "data", "uci_online_retail_top30_daily.csv");
        var result = SeriesCsv.ReadLong(path, RetailFormat, SeriesCleaningOptions.Sales);
        Assert.Multiple(() =>
        {
            Assert.That(result.Series, Has.Count.EqualTo(30));
            Assert.That(result.Report.GapsFilled, Is.GreaterThan(0));
            Assert.That(result.Series.All(s => s.Timestamps[^1] <= new DateTime(2011, 12, 9)), Is.True);
        });
    }
}
