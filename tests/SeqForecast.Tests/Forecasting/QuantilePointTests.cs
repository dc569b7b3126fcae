using SeqForecast.Forecasting;

namespace SeqForecast.Tests.Forecasting;

public class QuantilePointTests
{
    private static readonly double[] Five = [0.1, 0.25, 0.5, 0.75, 0.9];

    [Test]
    public void Draw_InterpolatesBetweenLevelsAndIsFlatBeyondThem()
    {
        var draws = new double[4];
        QuantilePoint.Draw([0.1, 0.5, 0.9], [1, 2, 4], round: false, draws);
        // u = 0.125, 0.375, 0.625, 0.875: (u − 0.1)/0.4 of the way from 1 to 2, then from 2 to 4.
        Assert.That(draws, Is.EqualTo(new[] { 1.0625, 1.6875, 2.625, 3.875 }).Within(1e-12));

        var tails = new double[10];
        QuantilePoint.Draw([0.3, 0.7], [5, 6], round: false, tails);
        Assert.Multiple(() =>
        {
            Assert.That(tails[0], Is.EqualTo(5), "u = 0.05 lies below the lowest level");
            Assert.That(tails[9], Is.EqualTo(6), "u = 0.95 lies above the highest level");
        });
    }

    [Test]
    public void Mean_OfSymmetricQuantilesIsTheMedianAndOfARightSkewOneIsAboveIt()
    {
        var draws = new double[QuantilePoint.Draws];
        Assert.Multiple(() =>
        {
            Assert.That(QuantilePoint.Point(PointForecast.Mean, [0.1, 0.5, 0.9], [1, 2, 3], false, draws), Is.EqualTo(2).Within(1e-12));
            Assert.That(QuantilePoint.Point(PointForecast.Mean, [0.1, 0.5, 0.9], [1, 2, 10], false, draws), Is.GreaterThan(2.5));
        });
    }

    [Test]
    public void MinimumSmape_IsZeroWhenSellingNothingIsAtLeastEvenOdds()
    {
        // P(y = 0) ≥ 0.5: forecasting 0 costs 200·P(y > 0) ≤ 100, any f > 0 costs at least 200·P(y = 0) ≥ 100.
        var draws = new double[QuantilePoint.Draws];
        Assert.Multiple(() =>
        {
            Assert.That(QuantilePoint.Point(PointForecast.MinimumSmape, Five, [0, 0, 0, 4, 8], true, draws), Is.EqualTo(0));
            Assert.That(QuantilePoint.Point(PointForecast.MinimumSmape, Five, [0, 0, 0, 0.2, 8], false, draws), Is.EqualTo(0));
        });
    }

    [Test]
    public void MinimumSmape_MatchesABruteForceSearchOverAFineGrid()
    {
        var random = new Random(11);
        var draws = new double[QuantilePoint.Draws];
        for (int trial = 0; trial < 200; trial++)
        {
            var values = Enumerable.Range(0, Five.Length).Select(_ => random.NextDouble() < 0.3 ? 0 : random.NextDouble() * 20).Order().ToArray();
            double chosen = QuantilePoint.Point(PointForecast.MinimumSmape, Five, values, false, draws);
            double chosenCost = QuantilePoint.Cost(draws, chosen);
            double gridBest = Enumerable.Range(0, 20_001).Select(i => QuantilePoint.Cost(draws, i * 0.001)).Min();
            Assert.That(chosenCost, Is.LessThanOrEqualTo(gridBest + 0.25), $"trial {trial}: quantiles {string.Join(", ", values)} gave {chosen}");
            foreach (var d in draws) Assert.That(chosenCost, Is.LessThanOrEqualTo(QuantilePoint.Cost(draws, d) + 1e-12), "no draw may do better");
        }
    }

    [Test]
    public void MinimumSmape_ForAPositiveDistributionLiesAboveTheMedian()
    {
        // sMAPE punishes an under-forecast more than an over-forecast of the same size.
        var draws = new double[QuantilePoint.Draws];
        double point = QuantilePoint.Point(PointForecast.MinimumSmape, [0.1, 0.5, 0.9], [10, 20, 30], false, draws);
        Assert.That(point, Is.GreaterThan(20).And.LessThan(30));
    }

    [Test]
    public void MinimumSmape_WithRoundingOnlyPicksWholeNumbers()
    {
        var draws = new double[QuantilePoint.Draws];
        var random = new Random(5);
        for (int trial = 0; trial < 50; trial++)
        {
            var values = Enumerable.Range(0, Five.Length).Select(_ => Math.Round(random.NextDouble() * 9)).Order().ToArray();
            double point = QuantilePoint.Point(PointForecast.MinimumSmape, Five, values, true, draws);
            double best = Enumerable.Range(0, 10).Select(i => QuantilePoint.Cost(draws, i)).Min();
            Assert.Multiple(() =>
            {
                Assert.That(point, Is.EqualTo(Math.Round(point)));
                Assert.That(QuantilePoint.Cost(draws, point), Is.EqualTo(best).Within(1e-9), $"quantiles {string.Join(", ", values)}: the best whole number");
            });
        }
    }
}
