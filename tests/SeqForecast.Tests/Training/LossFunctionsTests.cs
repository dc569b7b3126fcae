using System.Text.Json;
using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Tests.Engine.Managed;
using SeqForecast.Training;

namespace SeqForecast.Tests.Training;

/// <summary>
/// Losses: hand values, finite differences, and golden values from PyTorch 1.13 (Fixtures/make_loss_fixtures.py) for
/// the pinball, sMAPE-like and scaled-MAE losses and for one LSTM trained with the pinball loss. Tolerances as
/// PyTorchParityTests: float32 on both sides with different summation orders.
/// </summary>
public class LossFunctionsTests
{
    public sealed record LossCase(string Kind, double[]? Levels, float[] Predictions, float[] Targets, float[]? Scale, float[]? Offset, float[]? Weight, double Loss, float[] Gradient)
    {
        public override string ToString() => Kind;

        public LossOptions Options => Kind switch
        {
            "pinball" => LossOptions.Pinball(Levels!),
            "smape" => new LossOptions(LossKind.Smape),
            _ => new LossOptions(LossKind.ScaledMae),
        };
    }

    public sealed record NetworkCase(int InputSize, int HiddenSize, int Layers, int Horizon, int Batch, int TimeSteps, double[] Levels,
        Dictionary<string, float[]> Parameters, float[] Input, float[] Target, float[] Output, double Loss, Dictionary<string, float[]> Gradients);

    private sealed record Fixtures(LossCase[] Losses, NetworkCase Network);

    private static readonly Fixtures All = JsonSerializer.Deserialize<Fixtures>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "loss_fixtures.json")),
        new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    public static IEnumerable<LossCase> LossCases() => All.Losses;

    private static LossContext Context(LossCase c) => c.Scale is null ? default : new LossContext(c.Scale, c.Offset!, c.Weight!);

    [TestCaseSource(nameof(LossCases))]
    public void Compute_MatchesPyTorchLossAndGradient(LossCase c)
    {
        var gradient = new float[c.Predictions.Length];
        double loss = LossFunctions.Compute(c.Options, c.Predictions, c.Targets, Context(c), gradient);
        Assert.Multiple(() =>
        {
            Assert.That(loss, Is.EqualTo(c.Loss).Within(1e-6 + 1e-5 * Math.Abs(c.Loss)));
            for (int i = 0; i < gradient.Length; i++)
                Assert.That(gradient[i], Is.EqualTo(c.Gradient[i]).Within(1e-6 + 1e-4 * Math.Abs(c.Gradient[i])), $"gradient[{i}]");
        });
    }

    [TestCaseSource(nameof(LossCases))]
    public void Compute_GradientMatchesFiniteDifferences(LossCase c)
    {
        var predictions = (float[])c.Predictions.Clone();
        var gradient = new float[predictions.Length];
        var options = c.Options;
        LossFunctions.Compute(options, predictions, c.Targets, Context(c), gradient);
        GradientCheck.AssertMatches(predictions, gradient, () => LossFunctions.Compute(options, predictions, c.Targets, Context(c), Span<float>.Empty), c.Kind);
    }

    [Test]
    public void Pinball_LstmGradientsMatchPyTorch()
    {
        var c = All.Network;
        var loss = LossOptions.Pinball(c.Levels);
        var network = new ManagedNetwork(new NetworkOptions(CellType.Lstm, c.InputSize, c.HiddenSize, c.Layers, c.Horizon * c.Levels.Length), seed: 3, threads: 1);
        foreach (var (name, values) in c.Parameters) network.SetParameter(name, values);
        var outputs = new float[c.Output.Length];
        var dOutputs = new float[outputs.Length];
        network.Forward(c.Input, c.Batch, c.TimeSteps, outputs, training: true);
        double value = LossFunctions.Compute(loss, outputs, c.Target, default, dOutputs);
        network.ZeroGradients();
        network.Backward(dOutputs);
        Assert.Multiple(() =>
        {
            Assert.That(value, Is.EqualTo(c.Loss).Within(2e-6 + 1e-5 * Math.Abs(c.Loss)), "loss");
            foreach (var (name, expected) in c.Gradients)
            {
                var info = network.Layout[name];
                var actual = network.Gradients.Slice(info.Offset, info.Length).ToArray();
                for (int i = 0; i < expected.Length; i++)
                    Assert.That(actual[i], Is.EqualTo(expected[i]).Within(1e-5 + 1e-4 * Math.Abs(expected[i])), $"{name}[{i}]");
            }
        });
    }

    [Test]
    public void Pinball_HandValuesAndCrossingFreeMedian()
    {
        // One target 1.0; quantile forecasts 0, 1, 3 at levels 0.1, 0.5, 0.9: terms 0.1·1, 0, 0.1·2.
        float[] p = [0, 1, 3], y = [1];
        var gradient = new float[3];
        double loss = LossFunctions.Compute(LossOptions.Pinball(0.1, 0.5, 0.9), p, y, default, gradient);
        Assert.Multiple(() =>
        {
            Assert.That(loss, Is.EqualTo((0.1 + 0 + 0.2) / 3).Within(1e-7));
            Assert.That(gradient, Is.EqualTo(new[] { -0.1f / 3, 0, 0.1f / 3 }).Within(1e-7), "at u = 0 the gradient is (0.5 − τ)/n = 0 for the median");
        });
    }

    [Test]
    public void Pinball_RejectsBadLevels()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentException>(() => new LossOptions(LossKind.Pinball).Validate(), "no levels");
            Assert.Throws<ArgumentOutOfRangeException>(() => LossOptions.Pinball(0.1, 1.0).Validate(), "level 1");
            Assert.Throws<ArgumentException>(() => LossOptions.Pinball(0.5, 0.1).Validate(), "not increasing");
            Assert.Throws<ArgumentException>(() => (new LossOptions(LossKind.Mse) with { Quantiles = [0.5] }).Validate(), "levels on MSE");
        });
    }

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
