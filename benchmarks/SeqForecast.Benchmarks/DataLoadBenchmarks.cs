using System.Globalization;
using BenchmarkDotNet.Attributes;
using SeqForecast.Data;

namespace SeqForecast.Benchmarks;

/// <summary>
/// Loading one million rows of a long sales table (1,000 series × 1,000 days; id, date, qty, price) into cleaned series:
/// from CSV through <see cref="SeriesCsv"/> and from Parquet through <see cref="SeriesParquet"/>. Both files hold the
/// same rows and both reads return the same series (checked in setup).
/// </summary>
[MemoryDiagnoser]
public class DataLoadBenchmarks
{
    private const int Series = 1000, Days = 1000;
    private string _folder = "";
    private string _csv = "", _parquet = "";
    private readonly LongCsvFormat _csvFormat = new() { IdColumn = "id", DateColumn = "date" };
    private readonly LongTableFormat _tableFormat = new() { IdColumn = "id", DateColumn = "date" };
    private readonly SeriesCleaningOptions _cleaning = SeriesCleaningOptions.Sales.WithColumn("price", ColumnCleaning.Price);

    [GlobalSetup]
    public void Setup()
    {
        _folder = Path.Combine(Path.GetTempPath(), $"seqforecast-load-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_folder);
        _csv = Path.Combine(_folder, "sales.csv");
        _parquet = Path.Combine(_folder, "sales.parquet");
        var start = new DateTime(2022, 1, 1);
        var random = new Random(3);
        var series = new TimeSeries[Series];
        using (var writer = new StreamWriter(_csv))
        {
            writer.WriteLine("id,date,qty,price");
            for (int s = 0; s < Series; s++)
            {
                var qty = new double[Days];
                var price = new double[Days];
                for (int d = 0; d < Days; d++)
                {
                    qty[d] = random.Next(0, 60);
                    price[d] = Math.Round(5 + 20 * random.NextDouble(), 2);
                    writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sku{s:D4},{start.AddDays(d):yyyy-MM-dd},{qty[d]},{price[d]}"));
                }
                series[s] = new TimeSeries($"sku{s:D4}", ["qty", "price"], [qty, price], Enumerable.Range(0, Days).Select(d => start.AddDays(d)).ToArray());
            }
        }
        SeriesParquet.WriteLong(_parquet, series);
        var fromCsv = Csv();
        var fromParquet = Parquet();
        if (fromCsv != Series * Days || fromParquet != Series * Days)
            throw new InvalidOperationException($"expected {Series * Days} points, CSV gave {fromCsv} and Parquet {fromParquet}");
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark(Baseline = true, Description = "CSV, 1M rows")]
    public int Csv() => SeriesCsv.ReadLong(_csv, _csvFormat, _cleaning).Series.Sum(s => s.Length);

    [Benchmark(Description = "Parquet, 1M rows")]
    public int Parquet() => SeriesParquet.ReadLong(_parquet, _tableFormat, _cleaning).Series.Sum(s => s.Length);
}
