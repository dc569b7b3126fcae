using SeqForecast.Engine.Kernels;
using SeqForecast.Randomness;

namespace SeqForecast.Tests.Engine.Kernels;

/// <summary>
/// The fused step kernels against a double-precision reference, for every length a 16-wide SIMD loop and its scalar
/// tail can hit. Tolerance 2e-6 absolute + 2e-6 relative: a few float32 ulp, from the polynomial exp and the divisions.
/// </summary>
public class ActivationsTests
{
    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static float[] Random(int length, ulong seed, float scale)
    {
        var rng = new DeterministicRandom(seed);
        return Enumerable.Range(0, length).Select(_ => (rng.NextSingle() * 2 - 1) * scale).ToArray();
    }

    private static void Close(float actual, double expected, string what) =>
        Assert.That(actual, Is.EqualTo(expected).Within(2e-6 + 2e-6 * Math.Abs(expected)), what);

    public static IEnumerable<int> Lengths() => Enumerable.Range(1, 70);

    [TestCaseSource(nameof(Lengths))]
    public void LstmCell_MatchesDoubleReference(int n)
    {
        // Pre-activations span saturation (|x| up to 12) and the small-argument tanh branch.
        var gates = Random(4 * n, (ulong)n, 12);
        for (int j = 0; j < n; j += 3) gates[2 * n + j] *= 1e-3f;
        var previous = Random(n, 1000 + (ulong)n, 2);
        var original = (float[])gates.Clone();
        var cell = new float[n];
        var tanhCell = new float[n];
        var hidden = new float[n];
        Activations.LstmCell(gates, n, previous, cell, tanhCell, hidden);
        for (int j = 0; j < n; j++)
        {
            double i = Sigmoid(original[j]), f = Sigmoid(original[n + j]), g = Math.Tanh(original[2 * n + j]), o = Sigmoid(original[3 * n + j]);
            double c = f * previous[j] + i * g;
            Close(gates[j], i, $"i[{j}]");
            Close(gates[2 * n + j], g, $"g[{j}]");
            Close(cell[j], c, $"c[{j}]");
            Close(tanhCell[j], Math.Tanh(cell[j]), $"tanh(c)[{j}]");
            Close(hidden[j], o * Math.Tanh(cell[j]), $"h[{j}]");
        }
    }

    [TestCaseSource(nameof(Lengths))]
    public void GruCell_MatchesDoubleReference(int n)
    {
        var gates = Random(3 * n, 2000 + (ulong)n, 8);
        var projection = Random(3 * n, 3000 + (ulong)n, 8);
        var previous = Random(n, 4000 + (ulong)n, 1);
        var original = (float[])gates.Clone();
        var hiddenNew = new float[n];
        var hidden = new float[n];
        Activations.GruCell(gates, projection, n, previous, hiddenNew, hidden);
        for (int j = 0; j < n; j++)
        {
            double r = Sigmoid(original[j] + projection[j]), z = Sigmoid(original[n + j] + projection[n + j]);
            double candidate = Math.Tanh(original[2 * n + j] + r * projection[2 * n + j]);
            Close(gates[j], r, $"r[{j}]");
            Close(gates[n + j], z, $"z[{j}]");
            Close(gates[2 * n + j], candidate, $"n[{j}]");
            Assert.That(hiddenNew[j], Is.EqualTo(projection[2 * n + j]), $"hn[{j}]");
            Close(hidden[j], candidate + z * (previous[j] - candidate), $"h[{j}]");
        }
    }

    /// <summary>
    /// Whole calls take values two vector blocks at a time where they can, one block at a time after that, and the
    /// tail in a padded block; a call for one value alone takes the padded block. All must give the same bits.
    /// </summary>
    [TestCase(33)]
    [TestCase(64)]
    [TestCase(70)]
    public void Cells_GiveTheSameBitsWhereverAValueSits(int n)
    {
        var gates = Random(4 * n, 5000 + (ulong)n, 6);
        var previous = Random(n, 6000 + (ulong)n, 2);
        var whole = (float[])gates.Clone();
        float[] cell = new float[n], tanhCell = new float[n], hidden = new float[n];
        Activations.LstmCell(whole, n, previous, cell, tanhCell, hidden);
        var alone = (float[])gates.Clone();
        float[] cellAlone = new float[n], tanhAlone = new float[n], hiddenAlone = new float[n];
        for (int j = 0; j < n; j++) Activations.LstmCell(alone, n, j, j + 1, previous, cellAlone, tanhAlone, hiddenAlone);
        Assert.That(alone, Is.EqualTo(whole), "LSTM gates");
        Assert.That(cellAlone, Is.EqualTo(cell), "LSTM c");
        Assert.That(tanhAlone, Is.EqualTo(tanhCell), "LSTM tanh(c)");
        Assert.That(hiddenAlone, Is.EqualTo(hidden), "LSTM h");

        var gruGates = Random(3 * n, 7000 + (ulong)n, 6);
        var projection = Random(3 * n, 8000 + (ulong)n, 6);
        var gruWhole = (float[])gruGates.Clone();
        float[] hiddenNew = new float[n], gruHidden = new float[n];
        Activations.GruCell(gruWhole, projection, n, previous, hiddenNew, gruHidden);
        var gruAlone = (float[])gruGates.Clone();
        float[] hiddenNewAlone = new float[n], gruHiddenAlone = new float[n];
        for (int j = 0; j < n; j++) Activations.GruCell(gruAlone, projection, n, j, j + 1, previous, hiddenNewAlone, gruHiddenAlone);
        Assert.That(gruAlone, Is.EqualTo(gruWhole), "GRU gates");
        Assert.That(hiddenNewAlone, Is.EqualTo(hiddenNew), "GRU hn");
        Assert.That(gruHiddenAlone, Is.EqualTo(gruHidden), "GRU h");
    }

    [TestCase(16)]
    [TestCase(21)]
    [TestCase(69)]
    public void Cells_PropagateNaN(int n)
    {
        // A NaN pre-activation must reach the hidden state (the trainer's divergence check depends on it), in the
        // vector body and in the tail.
        foreach (int at in new[] { 0, n - 1 })
        {
            var gates = new float[4 * n];
            gates[2 * n + at] = float.NaN;
            var hidden = new float[n];
            Activations.LstmCell(gates, n, new float[n], new float[n], new float[n], hidden);
            Assert.That(float.IsNaN(hidden[at]), $"LSTM h[{at}]");

            var gruGates = new float[3 * n];
            gruGates[at] = float.NaN;
            var gruHidden = new float[n];
            Activations.GruCell(gruGates, new float[3 * n], n, new float[n], new float[n], gruHidden);
            Assert.That(float.IsNaN(gruHidden[at]), $"GRU h[{at}]");
        }
    }
}
