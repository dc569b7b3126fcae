using SeqForecast.Randomness;

namespace SeqForecast.Tests.Randomness;

public class DeterministicRandomTests
{
    [Test]
    public void SameSeed_SameStream()
    {
        var a = new DeterministicRandom(42);
        var b = new DeterministicRandom(42);
        Assert.That(Enumerable.Range(0, 100).Select(_ => a.NextUInt64()), Is.EqualTo(Enumerable.Range(0, 100).Select(_ => b.NextUInt64())));
    }

    [Test]
    public void NextDouble_IsInUnitIntervalWithMeanNearHalf()
    {
        var rng = new DeterministicRandom(1);
        var values = Enumerable.Range(0, 100_000).Select(_ => rng.NextDouble()).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(values, Is.All.InRange(0.0, 1.0).And.All.LessThan(1.0));
            Assert.That(values.Average(), Is.EqualTo(0.5).Within(0.01));
        });
    }

    [Test]
    public void NextInt_CoversRangeUniformly()
    {
        var rng = new DeterministicRandom(3);
        var counts = new int[7];
        for (int i = 0; i < 70_000; i++) counts[rng.NextInt(7)]++;
        Assert.That(counts, Is.All.InRange(9_500, 10_500));
    }

    [Test]
    public void Shuffle_IsAPermutation()
    {
        var values = Enumerable.Range(0, 50).ToArray();
        new DeterministicRandom(5).Shuffle(values.AsSpan());
        Assert.Multiple(() =>
        {
            Assert.That(values, Is.EquivalentTo(Enumerable.Range(0, 50)));
            Assert.That(values, Is.Not.EqualTo(Enumerable.Range(0, 50)));
        });
    }
}
