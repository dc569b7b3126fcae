using SeqForecast.Data;
using SeqForecast.Windows;

namespace SeqForecast.Tests.Windows;

public class WindowDatasetTests
{
    private static TimeSeries Ramp(string id, int length, double offset = 0, DateTime? start = null)
    {
        var t0 = start ?? new DateTime(2021, 1, 4);
        return new TimeSeries(id, ["y", "price"],
            [Enumerable.Range(0, length).Select(i => offset + i).ToArray(), Enumerable.Range(0, length).Select(i => -(offset + i)).ToArray()],
            Enumerable.Range(0, length).Select(i => t0.AddDays(i)).ToArray());
    }

    [Test]
    public void Create_CountsWindowsPerSeriesWithStride()
    {
        var dataset = WindowDataset.Create([Ramp("a", 10), Ramp("b", 7)], new WindowSpec(3, 2) { Stride = 2 });
        Assert.Multiple(() =>
        {
            Assert.That(dataset.WindowsInSeries(0), Is.EqualTo(3)); // starts 0, 2, 4 (4 + 5 <= 10)
            Assert.That(dataset.WindowsInSeries(1), Is.EqualTo(2)); // starts 0, 2
            Assert.That(dataset.Count, Is.EqualTo(5));
            Assert.That(dataset[3], Is.EqualTo(new WindowRef(1, 0)));
            Assert.That(dataset[2], Is.EqualTo(new WindowRef(0, 4)));
        });
    }

    [Test]
    public void CopyWindow_NeverCrossesSeriesBoundary()
    {
        var dataset = WindowDataset.Create([Ramp("a", 6), Ramp("b", 6, offset: 100)], new WindowSpec(3, 2));
        var input = new float[3];
        var target = new float[2];
        for (int w = 0; w < dataset.Count; w++)
        {
            dataset.CopyWindow(w, input, target);
            var all = input.Concat(target).ToArray();
            Assert.That(all.Zip(all.Skip(1), (a, b) => b - a), Is.All.EqualTo(1f), $"window {w} is not contiguous within one series");
        }
        dataset.CopyWindow(2, input, target);
        Assert.Multiple(() =>
        {
            Assert.That(input, Is.EqualTo(new[] { 100f, 101, 102 }));
            Assert.That(target, Is.EqualTo(new[] { 103f, 104 }));
        });
    }

    [Test]
    public void FillBatch_LaysOutFeaturesTargetsFirst()
    {
        var spec = new WindowSpec(2, 1) { Targets = ["y"], Features = ["price"] };
        var dataset = WindowDataset.Create([Ramp("a", 5)], spec);
        var inputs = new float[2 * 2 * 2];
        var targets = new float[2 * 1];
        dataset.FillBatch([0, 2], inputs, targets);
        Assert.Multiple(() =>
        {
            Assert.That(dataset.InputFeatureCount, Is.EqualTo(2));
            Assert.That(inputs, Is.EqualTo(new[] { 0f, -0f, 1, -1, 2, -2, 3, -3 }));
            Assert.That(targets, Is.EqualTo(new[] { 2f, 4 }));
        });
    }

    [Test]
    public void FillBatch_AddsCalendarPairsForTheForecastStepsToo()
    {
        var spec = new WindowSpec(1, 1) { Calendar = CalendarFeatures.DayOfWeek | CalendarFeatures.Month };
        var dataset = WindowDataset.Create([Ramp("a", 3, start: new DateTime(2021, 1, 4))], spec); // a Monday in January
        var input = new float[dataset.InputLength];
        dataset.CopyWindow(0, input, new float[1]);
        double tuesday = 2 * Math.PI / 7;
        Assert.Multiple(() =>
        {
            Assert.That(dataset.TimeSteps, Is.EqualTo(2), "lookback + horizon: the calendar is known for the forecast step");
            Assert.That(dataset.FeatureNames, Is.EqualTo(new[] { "y", "observed", "day_of_week_sin", "day_of_week_cos", "month_sin", "month_cos" }));
            // Observed Monday (value 0), then the forecast Tuesday: no value, not observed, its calendar.
            Assert.That(input, Is.EqualTo(new[] { 0f, 1, 0, 1, 0, 1, 0, 0, (float)Math.Sin(tuesday), (float)Math.Cos(tuesday), 0, 1 }).Within(1e-6));
        });
    }

    [Test]
    public void Batches_ShuffleIsSeededAndCoversEveryWindowOnce()
    {
        var dataset = WindowDataset.Create([Ramp("a", 40), Ramp("b", 30)], new WindowSpec(4, 2));
        List<int> Visit(ulong seed) => dataset.Batches(8, shuffle: true, seed).SelectMany(b => b.WindowIndices.ToArray()).ToList();
        var first = Visit(1);
        Assert.Multiple(() =>
        {
            Assert.That(first, Is.EquivalentTo(Enumerable.Range(0, dataset.Count)));
            Assert.That(Visit(1), Is.EqualTo(first));
            Assert.That(Visit(2), Is.Not.EqualTo(first));
        });
    }

    [Test]
    public void Batches_LastBatchHoldsTheRemainder()
    {
        var dataset = WindowDataset.Create([Ramp("a", 14)], new WindowSpec(3, 1)); // 11 windows
        var sizes = dataset.Batches(4, shuffle: false).Select(b => b.Count).ToArray();
        Assert.That(sizes, Is.EqualTo(new[] { 4, 4, 3 }));
    }

    [Test]
    public void Create_TooShortSeriesNamesTheRule()
    {
        var ex = Assert.Throws<ArgumentException>(() => WindowDataset.Create([Ramp("SKU-7", 12)], new WindowSpec(30, 7)));
        Assert.That(ex!.Message, Does.StartWith("series 'SKU-7' has 12 points; lookback 30 + horizon 7 needs at least 37"));
    }

    [Test]
    public void Create_SeriesExactlyOneWindowLongGivesOneWindow()
    {
        var dataset = WindowDataset.Create([Ramp("a", 37)], new WindowSpec(30, 7));
        Assert.That(dataset.Count, Is.EqualTo(1));
    }

    [TestCase(0, 1, 1, "lookback (0) must be in [1, 100000]")]
    [TestCase(1, 0, 1, "horizon (0) must be in [1, 100000]")]
    [TestCase(1, 1, 0, "stride (0) must be >= 1")]
    public void Create_RejectsBadSpec(int lookback, int horizon, int stride, string message)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => WindowDataset.Create([Ramp("a", 10)], new WindowSpec(lookback, horizon) { Stride = stride }));
        Assert.That(ex!.Message, Does.Contain(message));
    }

    [Test]
    public void Create_RejectsCalendarWithoutTimestamps()
    {
        var ex = Assert.Throws<ArgumentException>(() => WindowDataset.Create([TimeSeries.FromValues("n", new double[10])], new WindowSpec(2, 1) { Calendar = CalendarFeatures.Month }));
        Assert.That(ex!.Message, Does.Contain("series 'n' has no timestamps"));
    }

    [Test]
    public void Create_RejectsMissingFeatureColumn()
    {
        Assert.Throws<ArgumentException>(() => WindowDataset.Create([Ramp("a", 10)], new WindowSpec(2, 1) { Features = ["promo"] }));
    }

    [Test]
    public void Create_RejectsColumnListedTwice()
    {
        var ex = Assert.Throws<ArgumentException>(() => WindowDataset.Create([Ramp("a", 10)], new WindowSpec(2, 1) { Targets = ["y"], Features = ["y"] }));
        Assert.That(ex!.Message, Does.Contain("column 'y' is listed twice"));
    }

    [Test]
    public void FillBatch_RejectsShortDestination()
    {
        var dataset = WindowDataset.Create([Ramp("a", 10)], new WindowSpec(3, 1));
        Assert.Throws<ArgumentException>(() => dataset.FillBatch([0, 1], new float[5], new float[2]));
    }

    [Test]
    public void CopyLatestInput_TakesTheLastLookbackSteps()
    {
        var destination = new float[3];
        WindowDataset.CopyLatestInput(Ramp("a", 10), new WindowSpec(3, 5), destination);
        Assert.That(destination, Is.EqualTo(new[] { 7f, 8, 9 }));
    }

    [Test]
    public void Indexer_RejectsOutOfRange()
    {
        var dataset = WindowDataset.Create([Ramp("a", 10)], new WindowSpec(3, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = dataset[dataset.Count]);
    }
}
