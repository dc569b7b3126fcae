using SeqForecast.Engine.Managed;
using SeqForecast.Randomness;

namespace SeqForecast.Tests.Engine.Managed;

/// <summary>
/// The fused backward step kernels against the chain rule written out in double precision, for every length the
/// 16-wide loop and its scalar tail can hit. Relative tolerance 1e-5: a handful of float32 roundings per value.
/// </summary>
public class ElementwiseTests
{
    private static float[] Random(int length, ulong seed, float low, float high)
    {
        var rng = new DeterministicRandom(seed);
        return Enumerable.Range(0, length).Select(_ => low + rng.NextSingle() * (high - low)).ToArray();
    }

    private static void Close(float actual, double expected, string what) =>
        Assert.That(actual, Is.EqualTo(expected).Within(1e-6 + 1e-5 * Math.Abs(expected)), what);

    public static IEnumerable<int> Lengths() => Enumerable.Range(1, 40);

    [TestCaseSource(nameof(Lengths))]
    public void LstmCellBackward_MatchesTheChainRule(int n)
    {
        var gates = Random(4 * n, (ulong)n, 0.01f, 0.99f);          // i, f, o in (0, 1); g as a tanh output
        var tanhCell = Random(n, 100 + (ulong)n, -0.95f, 0.95f);
        var previousCell = Random(n, 200 + (ulong)n, -2, 2);
        var dOutput = Random(n, 300 + (ulong)n, -1, 1);
        var dHidden = Random(n, 400 + (ulong)n, -1, 1);
        var dCell = Random(n, 500 + (ulong)n, -1, 1);
        var dCellBefore = (float[])dCell.Clone();
        var dGates = new float[4 * n];
        Elementwise.LstmCellBackward(gates, tanhCell, previousCell, dOutput, dHidden, dCell, dGates, n);
        for (int j = 0; j < n; j++)
        {
            double i = gates[j], f = gates[n + j], g = gates[2 * n + j], o = gates[3 * n + j], tc = tanhCell[j];
            double dh = (double)dHidden[j] + dOutput[j];
            double dc = dCellBefore[j] + dh * o * (1 - tc * tc);
            Close(dGates[j], dc * g * i * (1 - i), $"di[{j}]");
            Close(dGates[n + j], dc * previousCell[j] * f * (1 - f), $"df[{j}]");
            Close(dGates[2 * n + j], dc * i * (1 - g * g), $"dg[{j}]");
            Close(dGates[3 * n + j], dh * tc * o * (1 - o), $"do[{j}]");
            Close(dCell[j], dc * f, $"dc_prev[{j}]");
        }
    }

    [TestCaseSource(nameof(Lengths))]
    public void GruCellBackward_MatchesTheChainRule(int n)
    {
        var gates = Random(3 * n, 600 + (ulong)n, 0.01f, 0.99f);
        var hiddenNew = Random(n, 700 + (ulong)n, -2, 2);
        var previous = Random(n, 800 + (ulong)n, -1, 1);
        var dOutput = Random(n, 900 + (ulong)n, -1, 1);
        var dHidden = Random(n, 1000 + (ulong)n, -1, 1);
        var dHiddenBefore = (float[])dHidden.Clone();
        var dInputPre = new float[3 * n];
        var dHiddenPre = new float[3 * n];
        Elementwise.GruCellBackward(gates, hiddenNew, previous, dOutput, dHidden, dInputPre, dHiddenPre, n);
        for (int j = 0; j < n; j++)
        {
            double r = gates[j], z = gates[n + j], c = gates[2 * n + j];
            double dh = (double)dHiddenBefore[j] + dOutput[j];
            double dn = dh * (1 - z) * (1 - c * c);
            double dr = dn * hiddenNew[j] * r * (1 - r);
            double dz = dh * (previous[j] - c) * z * (1 - z);
            Close(dInputPre[j], dr, $"dr[{j}]");
            Close(dInputPre[n + j], dz, $"dz[{j}]");
            Close(dInputPre[2 * n + j], dn, $"dn[{j}]");
            Close(dHiddenPre[j], dr, $"h dr[{j}]");
            Close(dHiddenPre[n + j], dz, $"h dz[{j}]");
            Close(dHiddenPre[2 * n + j], dn * r, $"h r·dn[{j}]");
            Close(dHidden[j], dh * z, $"dh direct[{j}]");
        }
    }

    [TestCase(256, 32, 30)]
    [TestCase(5, 21, 3)]
    [TestCase(3, 7, 2)]
    public void RowSums_AccumulatedOverStepsEqualTheTotal(int rows, int columns, int steps)
    {
        var accumulator = new float[rows * Elementwise.RowSumLanes];
        var expected = new double[rows];
        for (int t = 0; t < steps; t++)
        {
            var block = Random(rows * columns, 1100 + (ulong)t, -1, 1);
            Elementwise.AccumulateRowSums(block, rows, columns, accumulator);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < columns; c++) expected[r] += block[r * columns + c];
        }
        var destination = Enumerable.Repeat(0.25f, rows).ToArray();
        var second = Enumerable.Repeat(-1f, rows).ToArray();
        Elementwise.AddAccumulatedRowSums(accumulator, rows, destination, second);
        // Float sums of steps·columns values in [−1, 1]: allow 1e-6 per term.
        for (int r = 0; r < rows; r++)
        {
            Assert.That(destination[r], Is.EqualTo(0.25 + expected[r]).Within(1e-6 * steps * columns), $"row {r}");
            Assert.That(second[r], Is.EqualTo(-1 + expected[r]).Within(1e-6 * steps * columns), $"second bias, row {r}");
        }
        Assert.Throws<ArgumentException>(() => Elementwise.AccumulateRowSums(new float[rows * columns - 1], rows, columns, accumulator));
    }

    [TestCaseSource(nameof(Lengths))]
    public void CellBackward_VectorAndScalarPathsGiveTheSameBits(int n)
    {
        // One call over all n values (vector loops and a scalar tail) against one call per value (the scalar tail
        // alone): a team member's share of hidden units must get the bits a whole call gives.
        var gates = Random(4 * n, 1200 + (ulong)n, 0.01f, 0.99f);
        var tanhCell = Random(n, 1300 + (ulong)n, -0.95f, 0.95f);
        var previous = Random(n, 1400 + (ulong)n, -2, 2);
        var dOutput = Random(n, 1500 + (ulong)n, -1, 1);
        var dHidden = Random(n, 1600 + (ulong)n, -1, 1);
        var dCell = Random(n, 1700 + (ulong)n, -1, 1);
        var dCellEach = (float[])dCell.Clone();
        var dGates = new float[4 * n];
        var dGatesEach = new float[4 * n];
        Elementwise.LstmCellBackward(gates, tanhCell, previous, dOutput, dHidden, dCell, dGates, n);
        for (int j = 0; j < n; j++) Elementwise.LstmCellBackward(gates, tanhCell, previous, dOutput, dHidden, dCellEach, dGatesEach, n, j, j + 1);

        var gruGates = gates.AsSpan(0, 3 * n).ToArray();
        var gruHidden = (float[])dHidden.Clone();
        var gruHiddenEach = (float[])dHidden.Clone();
        var dInputPre = new float[3 * n];
        var dHiddenPre = new float[3 * n];
        var dInputPreEach = new float[3 * n];
        var dHiddenPreEach = new float[3 * n];
        Elementwise.GruCellBackward(gruGates, tanhCell, previous, dOutput, gruHidden, dInputPre, dHiddenPre, n);
        for (int j = 0; j < n; j++) Elementwise.GruCellBackward(gruGates, tanhCell, previous, dOutput, gruHiddenEach, dInputPreEach, dHiddenPreEach, n, j, j + 1);
        Assert.Multiple(() =>
        {
            Assert.That(dGatesEach, Is.EqualTo(dGates), "LSTM gate gradients");
            Assert.That(dCellEach, Is.EqualTo(dCell), "LSTM cell gradient");
            Assert.That(dInputPreEach, Is.EqualTo(dInputPre), "GRU x-projection gradients");
            Assert.That(dHiddenPreEach, Is.EqualTo(dHiddenPre), "GRU h-projection gradients");
            Assert.That(gruHiddenEach, Is.EqualTo(gruHidden), "GRU direct hidden gradient");
        });
    }

    [TestCase(3, 16)]
    [TestCase(2, 37)]
    [TestCase(4, 64)]
    public void AccumulateRowSums_GivesTheBitsOfLaneByLaneAddition(int rows, int columns)
    {
        // Column c of a row goes to lane c mod 16, in column order, whatever vector width adds it.
        var accumulator = Random(rows * Elementwise.RowSumLanes, 1800, -1, 1);
        var expected = (float[])accumulator.Clone();
        var block = Random(rows * columns, 1900, -1, 1);
        Elementwise.AccumulateRowSums(block, rows, columns, accumulator);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) expected[r * Elementwise.RowSumLanes + c % Elementwise.RowSumLanes] += block[r * columns + c];
        Assert.That(accumulator, Is.EqualTo(expected));
    }

    [Test]
    public void GatherColumn_AndAddToColumn_WalkOneColumnOfARowMajorMatrix()
    {
        var matrix = Random(5 * 3, 2000, -1, 1);
        var column = new float[5];
        Elementwise.GatherColumn(matrix, 3, 2, column);
        Assert.That(column, Is.EqualTo(Enumerable.Range(0, 5).Select(q => matrix[q * 3 + 2]).ToArray()));

        var values = Random(5, 2100, -1, 1);
        var sum = (float[])matrix.Clone();
        Elementwise.AddToColumn(values, sum, 3, 1);
        for (int q = 0; q < 5; q++)
            for (int c = 0; c < 3; c++)
                Assert.That(sum[q * 3 + c], Is.EqualTo(c == 1 ? matrix[q * 3 + c] + values[q] : matrix[q * 3 + c]), $"[{q}, {c}]");
    }

    [Test]
    public void GatherColumn_AndAddToColumn_RejectAColumnOrRowsOutsideTheMatrix()
    {
        var matrix = new float[5 * 3];
        var ex = Assert.Throws<ArgumentException>(() => Elementwise.GatherColumn(matrix, 3, 3, new float[5]));
        Assert.That(ex!.Message, Does.Contain("column 3 of 3"));
        Assert.Throws<ArgumentException>(() => Elementwise.GatherColumn(matrix, 3, 0, new float[6]));
        Assert.Throws<ArgumentException>(() => Elementwise.AddToColumn(new float[6], matrix, 3, 2));
        Assert.Throws<ArgumentException>(() => Elementwise.AddToColumn(new float[5], matrix, 3, -1));
    }

    [Test]
    public void Backward_RejectsShortSpans()
    {
        Assert.Throws<ArgumentException>(() => Elementwise.LstmCellBackward(new float[15], new float[4], new float[4], new float[4], new float[4], new float[4], new float[16], 4));
        Assert.Throws<ArgumentException>(() => Elementwise.GruCellBackward(new float[12], new float[4], new float[4], new float[4], new float[4], new float[12], new float[11], 4));
    }
}
