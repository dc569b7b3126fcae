using SeqForecast.Training;

namespace SeqForecast.Tests.Training;

/// <summary>The optimizers' update loops against torch.optim's float32 formulas written out one element at a time.</summary>
public class OptimizersTests
{
    [TestCase(false, 0.0)]
    [TestCase(false, 0.01)]
    [TestCase(true, 0.01)]
    public void Adam_GivesTheBitsOfTheScalarFormula_ForAnyCutOfTheSlices(bool decoupled, double weightDecay)
    {
        // 1,003 parameters: vector blocks and a scalar tail; the cuts put tails inside the span too.
        const int count = 1003;
        AdamOptions options = decoupled ? new AdamWOptions { WeightDecay = weightDecay, LearningRate = 0.01 } : new AdamOptions { WeightDecay = weightDecay, LearningRate = 0.01 };
        var optimizer = options.Create(count);
        var random = new Random(5);
        var parameters = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var expected = (float[])parameters.Clone();
        var m = new float[count];
        var v = new float[count];
        int[] cuts = [0, 1, 37, 512, 999, count];
        for (int step = 1; step <= 4; step++)
        {
            var gradients = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 0.2 - 0.1)).ToArray();
            optimizer.BeginStep(options.LearningRate);
            for (int c = 0; c + 1 < cuts.Length; c++)
                optimizer.Update(parameters.AsSpan(cuts[c], cuts[c + 1] - cuts[c]), gradients.AsSpan(cuts[c], cuts[c + 1] - cuts[c]), cuts[c]);
            ScalarAdam(options, decoupled, step, expected, gradients, m, v);
            for (int i = 0; i < count; i++)
                Assert.That(BitConverter.SingleToInt32Bits(parameters[i]), Is.EqualTo(BitConverter.SingleToInt32Bits(expected[i])), $"parameter {i} after step {step}: {parameters[i]:R} against {expected[i]:R}");
        }
    }

    /// <summary>torch.optim.Adam / AdamW (amsgrad off) in float32, one element at a time.</summary>
    private static void ScalarAdam(AdamOptions options, bool decoupled, int step, float[] parameters, float[] gradients, float[] m, float[] v)
    {
        float beta1 = (float)options.Beta1, beta2 = (float)options.Beta2;
        float oneMinusBeta1 = (float)(1 - options.Beta1), oneMinusBeta2 = (float)(1 - options.Beta2);
        float weightDecay = (float)options.WeightDecay, epsilon = (float)options.Epsilon;
        float decay = (float)(1 - options.LearningRate * options.WeightDecay);
        float stepSize = (float)(options.LearningRate / (1 - Math.Pow(options.Beta1, step)));
        float correction = (float)Math.Sqrt(1 - Math.Pow(options.Beta2, step));
        for (int i = 0; i < parameters.Length; i++)
        {
            float g = gradients[i];
            if (decoupled) parameters[i] *= decay;
            else if (weightDecay != 0) g += weightDecay * parameters[i];
            m[i] = m[i] * beta1 + oneMinusBeta1 * g;
            v[i] = v[i] * beta2 + oneMinusBeta2 * g * g;
            parameters[i] += -stepSize * (m[i] / (MathF.Sqrt(v[i]) / correction + epsilon));
        }
    }
}
