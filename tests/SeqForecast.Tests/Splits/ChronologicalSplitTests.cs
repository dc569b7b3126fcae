using SeqForecast.Data;
using SeqForecast.Splits;

namespace SeqForecast.Tests.Splits;

public class ChronologicalSplitTests
{
    private static TimeSeries Ramp(string id, int length) => TimeSeries.FromValues(id, Enumerable.Range(0, length).Select(i => (double)i).ToArray());

    [Test]
    public void Split_HoldsOutTheEndWithContext()
    {
        var split = ChronologicalSplit.Split([Ramp("a", 20)], validationLength: 4, testLength: 3, contextLength: 2);
        Assert.Multiple(() =>
        {
            Assert.That(split.Train[0].Column(0).ToArray(), Is.EqualTo(Enumerable.Range(0, 13).Select(i => (double)i)));
            Assert.That(split.Validation[0].Column(0).ToArray(), Is.EqualTo(new[] { 11.0, 12, 13, 14, 15, 16 }));
            Assert.That(split.Test[0].Column(0).ToArray(), Is.EqualTo(new[] { 15.0, 16, 17, 18, 19 }));
        });
    }

    [Test]
    public void Split_EachSeriesSplitAtItsOwnEnd()
    {
        var split = ChronologicalSplit.Split([Ramp("a", 10), Ramp("b", 6)], 0, 2, 0);
        Assert.Multiple(() =>
        {
            Assert.That(split.Train.Select(s => s.Length), Is.EqualTo(new[] { 8, 4 }));
            Assert.That(split.Test.Select(s => s.Column(0)[0]), Is.EqualTo(new[] { 8.0, 4 }));
            Assert.That(split.Validation, Is.Empty);
        });
    }

    [Test]
    public void Split_ThrowsWhenTooLittleTrainingRemains()
    {
        var ex = Assert.Throws<ArgumentException>(() => ChronologicalSplit.Split([Ramp("SKU-1", 10)], 4, 4, 5));
        Assert.That(ex!.Message, Does.Contain("series 'SKU-1' has 10 points; validation 4 + test 4 leave 2 for training, and at least 5 are needed"));
    }

    [TestCase(-1, 0, 0)]
    [TestCase(0, -1, 0)]
    [TestCase(0, 0, -1)]
    public void Split_RejectsNegativeLengths(int validation, int test, int context)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChronologicalSplit.Split([Ramp("a", 10)], validation, test, context));
    }

    [Test]
    public void SplitByFraction_RoundsOnTheShortestSeries()
    {
        var split = ChronologicalSplit.SplitByFraction([Ramp("a", 100)], 0.1, 0.2, 0);
        Assert.That((split.ValidationLength, split.TestLength), Is.EqualTo((10, 20)));
    }

    [TestCase(1.0, 0.0)]
    [TestCase(0.5, 0.5)]
    [TestCase(double.NaN, 0.1)]
    public void SplitByFraction_RejectsBadFractions(double validation, double test)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChronologicalSplit.SplitByFraction([Ramp("a", 100)], validation, test, 0));
    }
}
