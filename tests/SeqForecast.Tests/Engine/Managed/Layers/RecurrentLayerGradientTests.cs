using SeqForecast.Engine;
using SeqForecast.Engine.Kernels;
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
    // Hidden sizes that are whole row blocks of the 512- and 128-bit tiles (MR = 8): the first step's product is
    // then dx_0 alone, on the narrow path (batch 2) and on the tile path (batch 32).
    [TestCase(CellType.Lstm, 3, 8, 2, 4)]
    [TestCase(CellType.Lstm, 2, 16, 32, 3)]
    [TestCase(CellType.Gru, 3, 8, 2, 4)]
    [TestCase(CellType.Gru, 2, 16, 32, 3)]
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
            layer.Forward(input, parameters, timeSteps, batch, weightsChanged: true, TeamMember.Solo);
            return GradientCheck.Dot(layer.Output, weights);
        }

        Loss();
        var gradients = new float[layout.TotalLength];
        var dInput = new float[input.Length];
        layer.Backward(input, weights, dInput, parameters, gradients, TeamMember.Solo);
        GradientCheck.AssertMatches(parameters, gradients, Loss, "parameters");
        GradientCheck.AssertMatches(input, dInput, Loss, "input");
    }

    [TestCase(CellType.Lstm)]
    [TestCase(CellType.Gru)]
    public void Replica_RunsOnItsOwnersPackedWeights_AndMayNotPackThem(CellType cell)
    {
        const int input = 3, hidden = 16, batch = 32, steps = 5;
        var options = new NetworkOptions(cell, input, hidden, 1, 1);
        var layout = ParameterLayout.For(options);
        var context = new ComputeContext(1);
        RecurrentLayer Make(RecurrentLayer? owner, int hiddenSize = hidden) => cell == CellType.Lstm
            ? new LstmLayer(context, 0, input, hiddenSize, layout, (LstmLayer?)owner)
            : new GruLayer(context, 0, input, hiddenSize, layout, (GruLayer?)owner);
        var parameters = GradientCheck.Random(layout.TotalLength, 41, 0.5f);
        var x = GradientCheck.Random(steps * input * batch, 42);
        var dOutput = GradientCheck.Random(steps * hidden * batch, 43);
        var alone = Make(null);
        var owner = Make(null);
        var replica = Make(owner);

        // The owner's weights packed in two parts, as a pass packs them across threads; the replica reads them.
        owner.PackWeightRows(parameters, 0, 2);
        owner.PackWeightRows(parameters, 1, 2);
        alone.Forward(x, parameters, steps, batch, weightsChanged: true, TeamMember.Solo);
        replica.Forward(x, parameters, steps, batch, weightsChanged: true, TeamMember.Solo, weightsPacked: true);
        var aloneGradients = new float[layout.TotalLength];
        var replicaGradients = new float[layout.TotalLength];
        var aloneDInput = new float[x.Length];
        var replicaDInput = new float[x.Length];
        alone.Backward(x, dOutput, aloneDInput, parameters, aloneGradients, TeamMember.Solo);
        replica.Backward(x, dOutput, replicaDInput, parameters, replicaGradients, TeamMember.Solo);
        Assert.Multiple(() =>
        {
            Assert.That(replica.Output.ToArray(), Is.EqualTo(alone.Output.ToArray()), "outputs");
            Assert.That(replicaGradients, Is.EqualTo(aloneGradients), "weight gradients (the backward pass's packed weights too)");
            Assert.That(replicaDInput, Is.EqualTo(aloneDInput), "input gradients");
            Assert.That(owner.OwnsWeights && !replica.OwnsWeights, Is.True);
        });
        // A replica does not pack the weights it shares: changed weights must come packed.
        Assert.Throws<InvalidOperationException>(() => replica.Forward(x, parameters, steps, batch, weightsChanged: true, TeamMember.Solo));
        Assert.Throws<InvalidOperationException>(() => replica.PackWeightRows(parameters, 0, 1));
        var ex = Assert.Throws<ArgumentException>(() => Make(owner, hidden + 8));
        Assert.That(ex!.ParamName, Is.EqualTo("weightsOwner"));
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
        layer.Forward(input, parameters, 3, 2, true, TeamMember.Solo);
        var once = new float[layout.TotalLength];
        layer.Backward(input, dOutput, Span<float>.Empty, parameters, once, TeamMember.Solo);
        var twice = (float[])once.Clone();
        layer.Backward(input, dOutput, Span<float>.Empty, parameters, twice, TeamMember.Solo);
        Assert.That(twice, Is.EqualTo(once.Select(g => 2 * g)).Within(1e-6));
    }

    [TestCase(CellType.Lstm, 1, 24, 32, 6, 2)]
    [TestCase(CellType.Lstm, 5, 24, 32, 6, 3)]
    [TestCase(CellType.Lstm, 3, 20, 16, 5, 2)]
    [TestCase(CellType.Lstm, 2, 17, 7, 4, 3)]
    [TestCase(CellType.Lstm, 2, 16, 3, 4, 2)]
    [TestCase(CellType.Gru, 1, 24, 32, 6, 2)]
    [TestCase(CellType.Gru, 5, 24, 32, 6, 3)]
    [TestCase(CellType.Gru, 3, 20, 16, 5, 2)]
    [TestCase(CellType.Gru, 2, 17, 7, 4, 4)]
    [TestCase(CellType.Gru, 2, 16, 3, 4, 2)]
    // H a multiple of every MR (4, 6, 8): one sync a step, members owning whole row blocks of units; some members of
    // the larger teams own no units, and the input sizes cut the input-gradient rows into uneven blocks.
    [TestCase(CellType.Lstm, 12, 48, 32, 40, 3)]
    [TestCase(CellType.Lstm, 1, 48, 20, 40, 4)]
    [TestCase(CellType.Lstm, 7, 24, 32, 9, 5)]
    [TestCase(CellType.Lstm, 12, 48, 32, 12, 3, false)]
    [TestCase(CellType.Gru, 12, 48, 32, 40, 3)]
    [TestCase(CellType.Gru, 1, 48, 20, 40, 4)]
    [TestCase(CellType.Gru, 7, 24, 32, 9, 5)]
    [TestCase(CellType.Gru, 12, 48, 32, 12, 3, false)]
    public void ForwardAndBackward_TeamGivesTheSameBitsAsOneThread(CellType cell, int inputSize, int hidden, int batch, int timeSteps, int teamSize, bool inputGradient = true)
    {
        // Each member computes its rows of the GEMMs and its hidden units of the cells; the outputs, the input
        // gradient and every parameter gradient must be the bits a single thread gets.
        var options = new NetworkOptions(cell, inputSize, hidden, 1, 1);
        var layout = ParameterLayout.For(options);
        var parameters = GradientCheck.Random(layout.TotalLength, 21, 0.5f);
        var input = GradientCheck.Random(timeSteps * inputSize * batch, 22);
        var dOutput = GradientCheck.Random(timeSteps * hidden * batch, 23);

        RecurrentLayer NewLayer() => cell == CellType.Lstm
            ? new LstmLayer(new ComputeContext(1), 0, inputSize, hidden, layout)
            : new GruLayer(new ComputeContext(1), 0, inputSize, hidden, layout);

        var solo = NewLayer();
        solo.Forward(input, parameters, timeSteps, batch, weightsChanged: true, TeamMember.Solo);
        var soloOutput = solo.Output.ToArray();
        var soloGradients = new float[layout.TotalLength];
        var soloDInput = new float[inputGradient ? input.Length : 0];
        solo.Backward(input, dOutput, soloDInput, parameters, soloGradients, TeamMember.Solo);

        var shared = NewLayer();
        var team = new Team(teamSize);
        var teamGradients = new float[layout.TotalLength];
        var teamDInput = new float[inputGradient ? input.Length : 0];
        float[]? teamOutput = null;
        var threads = Enumerable.Range(0, teamSize).Select(index => new Thread(() =>
        {
            var member = team.Member(index);
            shared.Forward(input, parameters, timeSteps, batch, weightsChanged: true, member);
            if (member.IsLeader) teamOutput = shared.Output.ToArray();
            member.Sync();
            shared.Backward(input, dOutput, teamDInput, parameters, teamGradients, member);
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.That(threads.All(t => t.Join(TimeSpan.FromSeconds(30))), Is.True, "every member finished");

        Assert.Multiple(() =>
        {
            Assert.That(teamOutput, Is.EqualTo(soloOutput), "output");
            Assert.That(teamDInput, Is.EqualTo(soloDInput), "input gradient");
            Assert.That(teamGradients, Is.EqualTo(soloGradients), "parameter gradients");
        });
    }
}
