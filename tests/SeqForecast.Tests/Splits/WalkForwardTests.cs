using SeqForecast.Data;
using SeqForecast.Splits;

namespace SeqForecast.Tests.Splits;

public class WalkForwardTests
{
    [Test]
    public void Folds_ExpandingStartsAtZero()
    {
        var folds = WalkForward.Folds(20, new BacktestOptions(10, 3) { Step = 4 });
        Assert.That(folds.Select(f => (f.TrainStart, f.Origin)), Is.EqualTo(new[] { (0, 10), (0, 14) }));
    }

    [Test]
    public void Folds_SlidingKeepsTrainLength()
    {
        var folds = WalkForward.Folds(20, new BacktestOptions(10, 2) { Window = BacktestWindow.Sliding });
        Assert.Multiple(() =>
        {
            Assert.That(folds, Has.Count.EqualTo(5));
            Assert.That(folds.All(f => f.Origin - f.TrainStart == 10), Is.True);
            Assert.That(folds[^1].Origin + folds[^1].Horizon, Is.EqualTo(20));
        });
    }

    [Test]
    public void Fold_SlicesTrainAndTest()
    {
        var series = TimeSeries.FromValues("a", Enumerable.Range(0, 12).Select(i => (double)i).ToArray());
        var fold = WalkForward.Folds(12, new BacktestOptions(8, 2))[1];
        Assert.Multiple(() =>
        {
            Assert.That(fold.Train(series).Length, Is.EqualTo(10));
            Assert.That(fold.Test(series).Column(0).ToArray(), Is.EqualTo(new[] { 10.0, 11 }));
        });
    }

    [Test]
    public void Folds_ThrowsForShortSeries()
    {
        var ex = Assert.Throws<ArgumentException>(() => WalkForward.Folds(5, new BacktestOptions(4, 2)));
        Assert.That(ex!.Message, Does.Contain("initial train length 4 + horizon 2 needs at least 6"));
    }

    [Test]
    public void Folds_RejectsZeroStep()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => WalkForward.Folds(50, new BacktestOptions(4, 2) { Step = 0 }));
    }
}
