using SeqForecast.Tests.Engine.Managed;
using SeqForecast.Training;

namespace SeqForecast.Tests.Training;

public class LossFunctionsTests
{
    [TestCase(LossKind.Mse)]
    [TestCase(LossKind.Mae)]
    [TestCase(LossKind.Huber)]
    public void Gradient_MatchesFiniteDifferences(LossKind kind)
    {
        var options = new LossOptions(kind) { HuberDelta = 0.5 };
        var predictions = GradientCheck.Random(40, 1, 2);
        var targets = GradientCheck.Random(40, 2, 2);
        var gradient = new float[40];
        LossFunctions.Compute(options, predictions, targets, gradient);
        GradientCheck.AssertMatches(predictions, gradient, () => LossFunctions.Compute(options, predictions, targets, Span<float>.Empty), kind.ToString());
    }

    [Test]
    public void Compute_MatchesHandValues()
    {
        float[] p = [1, 2, 5], y = [1, 0, 3];
        Assert.Multiple(() =>
        {
            Assert.That(LossFunctions.Compute(new LossOptions(LossKind.Mse), p, y, Span<float>.Empty), Is.EqualTo(8.0 / 3).Within(1e-12));
            Assert.That(LossFunctions.Compute(new LossOptions(LossKind.Mae), p, y, Span<float>.Empty), Is.EqualTo(4.0 / 3).Within(1e-12));
            Assert.That(LossFunctions.Compute(new LossOptions(LossKind.Huber), p, y, Span<float>.Empty), Is.EqualTo((0 + 1.5 + 1.5) / 3).Within(1e-12));
        });
    }

    [Test]
    public void Compute_RejectsMismatchedLengths()
    {
        Assert.Throws<ArgumentException>(() => LossFunctions.Compute(new LossOptions(), new float[3], new float[2], Span<float>.Empty));
    }

    [Test]
    public void Huber_RejectsNonPositiveDelta()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LossOptions(LossKind.Huber) { HuberDelta = 0 }.Validate());
    }

    [Test]
    public void ClipByGlobalNorm_ScalesOnlyAboveTheLimit()
    {
        float[] small = [0.3f, 0.4f];
        float[] large = [3f, 4f];
        double smallNorm = GradientClipping.ClipByGlobalNorm(small, 1.0);
        double largeNorm = GradientClipping.ClipByGlobalNorm(large, 1.0);
        Assert.Multiple(() =>
        {
            Assert.That(smallNorm, Is.EqualTo(0.5).Within(1e-7));
            Assert.That(small, Is.EqualTo(new[] { 0.3f, 0.4f }));
            Assert.That(largeNorm, Is.EqualTo(5.0).Within(1e-6));
            Assert.That(large, Is.EqualTo(new[] { 0.6f, 0.8f }).Within(1e-6));
        });
    }
}
