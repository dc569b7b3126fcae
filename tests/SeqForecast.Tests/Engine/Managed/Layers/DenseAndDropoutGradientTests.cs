using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Engine.Managed.Layers;
using SeqForecast.Randomness;

namespace SeqForecast.Tests.Engine.Managed.Layers;

public class DenseAndDropoutGradientTests
{
    [TestCase(5, 3, 4)]
    [TestCase(17, 35, 1)]
    public void Dense_BackwardMatchesFiniteDifferences(int hidden, int outputs, int batch)
    {
        var layout = ParameterLayout.For(new NetworkOptions(CellType.Lstm, 1, hidden, 1, outputs));
        var context = new ComputeContext(1);
        var head = new DenseLayer(context, hidden, outputs, layout);
        var parameters = GradientCheck.Random(layout.TotalLength, 7);
        var input = GradientCheck.Random(hidden * batch, 8);          // [H, B]
        var weights = GradientCheck.Random(batch * outputs, 9);       // [B, O]
        var result = new float[batch * outputs];

        double Loss()
        {
            head.Forward(input, parameters, batch, weightsChanged: true, result);
            return GradientCheck.Dot(result, weights);
        }

        Loss();
        var gradients = new float[layout.TotalLength];
        var dInput = new float[input.Length];
        head.Backward(input, weights, gradients, dInput);
        var headOnly = layout["head.weight"].Offset;
        GradientCheck.AssertMatches(parameters, gradients, Loss, "head", stride: 1);
        GradientCheck.AssertMatches(input, dInput, Loss, "input");
        Assert.That(gradients.AsSpan(0, headOnly).ToArray(), Is.All.EqualTo(0f), "the head touches only its own parameters");
    }

    [Test]
    public void Dropout_BackwardMatchesFiniteDifferencesForAFixedMask()
    {
        var dropout = new DropoutLayer(0.3);
        var input = GradientCheck.Random(60, 10);
        var weights = GradientCheck.Random(60, 11);

        double Loss()
        {
            dropout.Forward(input, new DeterministicRandom(5));
            return GradientCheck.Dot(dropout.Output(60), weights);
        }

        Loss();
        var gradient = (float[])weights.Clone();
        dropout.Backward(gradient);
        GradientCheck.AssertMatches(input, gradient, Loss, "input");
    }

    [Test]
    public void Dropout_ZeroesAboutPAndScalesTheRest()
    {
        var dropout = new DropoutLayer(0.25);
        var input = Enumerable.Repeat(1f, 100_000).ToArray();
        dropout.Forward(input, new DeterministicRandom(1));
        var output = dropout.Output(input.Length).ToArray();
        double zeroFraction = output.Count(v => v == 0) / (double)output.Length;
        Assert.Multiple(() =>
        {
            Assert.That(zeroFraction, Is.EqualTo(0.25).Within(0.01));
            Assert.That(output.Where(v => v != 0), Is.All.EqualTo(1f / 0.75f).Within(1e-6));
            Assert.That(output.Average(), Is.EqualTo(1.0).Within(0.02), "inverted dropout keeps the mean");
        });
    }
}
