using SeqForecast.Engine.Managed;
using SeqForecast.Training;

namespace SeqForecast.Tests.Engine.Managed;

public class ParameterWorkTests
{
    private static readonly int Length = 3 * ParameterWork.MinimumSlice + 7;

    public static IEnumerable<OptimizerOptions> Optimizers()
    {
        yield return new AdamOptions { LearningRate = 0.01 };
        yield return new AdamOptions { LearningRate = 0.01, WeightDecay = 0.1 };
        yield return new AdamWOptions { LearningRate = 0.01 };
        yield return new SgdOptions { LearningRate = 0.05, Momentum = 0.9, Dampening = 0.1 };
        yield return new SgdOptions { LearningRate = 0.05, Momentum = 0.9, Nesterov = true };
    }

    [TestCaseSource(nameof(Optimizers))]
    public void Update_SlicesGiveTheSameBitsAsOneStep(OptimizerOptions options)
    {
        // Three steps of the whole span against three steps cut into uneven slices, updated last slice first.
        var whole = GradientCheck.Random(Length, 41);
        var sliced = (float[])whole.Clone();
        var one = options.Create(Length);
        var cut = options.Create(Length);
        int[] bounds = [0, 5, 1000, Length - 3, Length];
        for (int step = 0; step < 3; step++)
        {
            var gradients = GradientCheck.Random(Length, (ulong)(50 + step));
            one.Step(whole, gradients, options.LearningRate);
            cut.BeginStep(options.LearningRate);
            for (int s = bounds.Length - 2; s >= 0; s--)
                cut.Update(sliced.AsSpan(bounds[s], bounds[s + 1] - bounds[s]), gradients.AsSpan(bounds[s], bounds[s + 1] - bounds[s]), bounds[s]);
        }
        Assert.That(sliced, Is.EqualTo(whole));
    }

    [TestCaseSource(nameof(Optimizers))]
    public void Step_OnTheWorkerPoolGivesTheSameBitsAsOneThread(OptimizerOptions options)
    {
        var serial = GradientCheck.Random(Length, 42);
        var parallel = (float[])serial.Clone();
        var one = options.Create(Length);
        var many = options.Create(Length);
        var work = new ParameterWork();
        for (int step = 0; step < 3; step++)
        {
            var gradients = GradientCheck.Random(Length, (ulong)(60 + step));
            one.Step(serial, gradients, options.LearningRate);
            work.Step(many, parallel, gradients, options.LearningRate, threads: 4);
        }
        Assert.That(parallel, Is.EqualTo(serial));
    }

    [Test]
    public void Sum_AddsSourcesInOrderWithTheSameBitsAsOneThread()
    {
        var sources = Enumerable.Range(0, 5).Select(s => GradientCheck.Random(Length, (ulong)(70 + s))).ToList();
        var serial = GradientCheck.Random(Length, 80);
        var parallel = (float[])serial.Clone();
        foreach (var source in sources.Take(4))
            for (int i = 0; i < Length; i++) serial[i] += source[i];
        new ParameterWork().Sum(parallel, sources, count: 4, threads: 4);
        Assert.That(parallel, Is.EqualTo(serial));
    }

    [Test]
    public void Step_RejectsGradientsOfAnotherLength()
    {
        var options = new AdamOptions();
        var ex = Assert.Throws<ArgumentException>(() => new ParameterWork().Step(options.Create(4), new float[4], new float[3], 0.1, 2));
        Assert.That(ex!.Message, Does.Contain("gradients has 3 floats; parameters has 4"));
    }
}
