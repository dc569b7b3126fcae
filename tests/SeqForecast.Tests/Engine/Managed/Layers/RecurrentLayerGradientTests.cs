using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Engine.Managed.Layers;

namespace SeqForecast.Tests.Engine.Managed.Layers;

/// <summary>Finite-difference checks of the LSTM and GRU layers alone: parameters and inputs.</summary>
public class RecurrentLayerGradientTests
{
    [TestCase(CellType.Lstm, 1, 4, 3, 5)]
    [TestCase(CellType.Lstm, 3, 7, 2, 4)]
    [TestCase(CellType.Gru, 1, 4, 3, 5)]
    [TestCase(CellType.Gru, 3, 7, 2, 4)]
    public void Backward_MatchesFiniteDifferences(CellType cell, int inputSize, int hidden, int batch, int timeSteps)
    {
        var options = new NetworkOptions(cell, inputSize, hidden, 1, 1);
        var layout = ParameterLayout.For(options);
        var context = new ComputeContext(1);
        RecurrentLayer layer = cell == CellType.Lstm ? new LstmLayer(context, 0, inputSize, hidden, layout) : new GruLayer(context, 0, inputSize, hidden, layout);
        var parameters = GradientCheck.Random(layout.TotalLength, 1, 0.5f);
        var input = GradientCheck.Random(timeSteps * inputSize * batch, 2);     // [T, in, B]
        var weights = GradientCheck.Random(timeSteps * hidden * batch, 3);      // loss = Σ weights ⊙ output

        double Loss()
        {
            layer.Forward(input, parameters, timeSteps, batch, weightsChanged: true);
            return GradientCheck.Dot(layer.Output, weights);
        }

        Loss();
        var gradients = new float[layout.TotalLength];
        var dInput = new float[input.Length];
        layer.Backward(input, weights, dInput, parameters, gradients);
        GradientCheck.AssertMatches(parameters, gradients, Loss, "parameters");
        GradientCheck.AssertMatches(input, dInput, Loss, "input");
    }

    [Test]
    public void Backward_AccumulatesIntoGradients()
    {
        var options = new NetworkOptions(CellType.Lstm, 2, 3, 1, 1);
        var layout = ParameterLayout.For(options);
        var context = new ComputeContext(1);
        var layer = new LstmLayer(context, 0, 2, 3, layout);
        var parameters = GradientCheck.Random(layout.TotalLength, 4, 0.5f);
        var input = GradientCheck.Random(3 * 2 * 2, 5);
        var dOutput = GradientCheck.Random(3 * 3 * 2, 6);
        layer.Forward(input, parameters, 3, 2, true);
        var once = new float[layout.TotalLength];
        layer.Backward(input, dOutput, Span<float>.Empty, parameters, once);
        var twice = (float[])once.Clone();
        layer.Backward(input, dOutput, Span<float>.Empty, parameters, twice);
        Assert.That(twice, Is.EqualTo(once.Select(g => 2 * g)).Within(1e-6));
    }
}
