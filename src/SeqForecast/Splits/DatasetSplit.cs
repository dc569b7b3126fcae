using SeqForecast.Data;

namespace SeqForecast.Splits;

/// <summary>
/// Chronological train/validation/test parts of many series. Produced only by <see cref="ChronologicalSplit"/>, and
/// the only thing a scaler can be fitted on, so that fitting reads the training part and nothing else.
/// </summary>
/// <remarks>
/// The validation and test parts start <see cref="ContextLength"/> points early: that context lets the first
/// validation (or test) window see a full lookback, while every target of those windows lies in the held-out part.
/// </remarks>
public sealed class DatasetSplit
{
    internal DatasetSplit(IReadOnlyList<TimeSeries> train, IReadOnlyList<TimeSeries> validation, IReadOnlyList<TimeSeries> test, int validationLength, int testLength, int contextLength)
    {
        Train = train;
        Validation = validation;
        Test = test;
        ValidationLength = validationLength;
        TestLength = testLength;
        ContextLength = contextLength;
    }

    /// <summary>Training parts, one per series, oldest points.</summary>
    public IReadOnlyList<TimeSeries> Train { get; }

    /// <summary>Validation parts (context + held-out points); empty when the validation length is 0.</summary>
    public IReadOnlyList<TimeSeries> Validation { get; }

    /// <summary>Test parts (context + held-out points); empty when the test length is 0.</summary>
    public IReadOnlyList<TimeSeries> Test { get; }

    /// <summary>Held-out validation points per series.</summary>
    public int ValidationLength { get; }

    /// <summary>Held-out test points per series.</summary>
    public int TestLength { get; }

    /// <summary>Points of history prepended to each validation and test part.</summary>
    public int ContextLength { get; }

    /// <summary>Returns a split with the same lengths whose parts are mapped by <paramref name="map"/> (used by scalers).</summary>
    public DatasetSplit Map(Func<TimeSeries, TimeSeries> map)
    {
        ArgumentNullException.ThrowIfNull(map);
        return new DatasetSplit(Train.Select(map).ToArray(), Validation.Select(map).ToArray(), Test.Select(map).ToArray(), ValidationLength, TestLength, ContextLength);
    }
}

/// <summary>Splits series chronologically into train, validation and test parts, per series.</summary>
public static class ChronologicalSplit
{
    /// <summary>
    /// Holds out the last <paramref name="testLength"/> points of each series for test and the
    /// <paramref name="validationLength"/> points before them for validation; the rest is training data.
    /// </summary>
    /// <param name="series">Series to split.</param>
    /// <param name="validationLength">Validation points per series. Range: ≥ 0.</param>
    /// <param name="testLength">Test points per series. Range: ≥ 0.</param>
    /// <param name="contextLength">History prepended to validation and test parts (usually the lookback). Range: ≥ 0.</param>
    /// <exception cref="ArgumentOutOfRangeException">A length is negative.</exception>
    /// <exception cref="ArgumentException">A series leaves fewer training points than max(1, context).</exception>
    public static DatasetSplit Split(IReadOnlyList<TimeSeries> series, int validationLength, int testLength, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfNegative(validationLength);
        ArgumentOutOfRangeException.ThrowIfNegative(testLength);
        ArgumentOutOfRangeException.ThrowIfNegative(contextLength);
        if (series.Count == 0)
            throw new ArgumentException("series is empty; a split needs at least one series", nameof(series));
        var train = new List<TimeSeries>();
        var validation = new List<TimeSeries>();
        var test = new List<TimeSeries>();
        foreach (var s in series)
        {
            int trainLength = s.Length - validationLength - testLength;
            int needed = Math.Max(1, contextLength);
            if (trainLength < needed)
                throw new ArgumentException($"series '{s.Id}' has {s.Length} points; validation {validationLength} + test {testLength} leave {trainLength} for training, and at least {needed} are needed (context {contextLength})", nameof(series));
            train.Add(s.Slice(0, trainLength));
            if (validationLength > 0)
                validation.Add(s.Slice(trainLength - contextLength, contextLength + validationLength));
            if (testLength > 0)
                test.Add(s.Slice(trainLength + validationLength - contextLength, contextLength + testLength));
        }
        return new DatasetSplit(train, validation, test, validationLength, testLength, contextLength);
    }

    /// <summary>
    /// Like <see cref="Split"/>, with lengths given as fractions of each series (rounded to the nearest point).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A fraction is outside [0, 1), or they sum to 1 or more.</exception>
    public static DatasetSplit SplitByFraction(IReadOnlyList<TimeSeries> series, double validationFraction, double testFraction, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (!(validationFraction >= 0 && validationFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "validation fraction must be in [0, 1)");
        if (!(testFraction >= 0 && testFraction < 1) || validationFraction + testFraction >= 1)
            throw new ArgumentOutOfRangeException(nameof(testFraction), testFraction, $"test fraction must be in [0, 1) and validation {validationFraction} + test {testFraction} must be < 1");
        int shortest = series.Count == 0 ? 0 : series.Min(s => s.Length);
        return Split(series, (int)Math.Round(shortest * validationFraction), (int)Math.Round(shortest * testFraction), contextLength);
    }
}
