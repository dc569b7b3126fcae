namespace SeqForecast.Tests.Engine.Managed;

/// <summary>
/// Central finite differences in float32. With perturbation ε = 1e-2 on values of order 0.1–1, the truncation error
/// is O(ε²) ≈ 1e-4 and the float32 rounding of the loss (summed in double from float outputs, relative error ~1e-7)
/// contributes ~1e-7·|L|/(2ε) ≈ 1e-5; hence the tolerance |fd − analytic| ≤ 1e-3 + 1e-2·|analytic|.
/// </summary>
internal static class GradientCheck
{
    public const float Epsilon = 1e-2f;

    public static void AssertMatches(float[] values, ReadOnlySpan<float> analytic, Func<double> loss, string what, int stride = 1)
    {
        var expected = analytic.ToArray();
        for (int i = 0; i < values.Length; i += stride)
        {
            float saved = values[i];
            values[i] = saved + Epsilon;
            double plus = loss();
            values[i] = saved - Epsilon;
            double minus = loss();
            values[i] = saved;
            double numeric = (plus - minus) / (2 * Epsilon);
            Assert.That(expected[i], Is.EqualTo(numeric).Within(1e-3 + 1e-2 * Math.Abs(numeric)), $"{what}[{i}]");
        }
    }

    public static float[] Random(int length, ulong seed, float scale = 1f)
    {
        var rng = new SeqForecast.Randomness.DeterministicRandom(seed);
        return Enumerable.Range(0, length).Select(_ => (rng.NextSingle() * 2 - 1) * scale).ToArray();
    }

    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }
}
