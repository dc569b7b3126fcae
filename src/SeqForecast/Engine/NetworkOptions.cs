namespace SeqForecast.Engine;

/// <summary>Recurrent cell type.</summary>
public enum CellType
{
    /// <summary>LSTM with PyTorch's gate order i, f, g, o.</summary>
    Lstm,
    /// <summary>GRU with PyTorch's gate order r, z, n and n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)).</summary>
    Gru,
}

/// <summary>
/// Shape of a stacked recurrent network with a dense head: <see cref="Layers"/> cells of <see cref="HiddenSize"/>
/// units read <see cref="InputSize"/> features per step, and a linear head maps the last hidden state to
/// <see cref="OutputSize"/> values (horizon × targets, direct multi-step).
/// </summary>
/// <param name="Cell">LSTM or GRU.</param>
/// <param name="InputSize">Features per time step. Range: ≥ 1.</param>
/// <param name="HiddenSize">Units per layer. Range: ≥ 1.</param>
/// <param name="Layers">Stacked layers. Range: ≥ 1.</param>
/// <param name="OutputSize">Head outputs. Range: ≥ 1.</param>
public sealed record NetworkOptions(CellType Cell, int InputSize, int HiddenSize, int Layers, int OutputSize)
{
    /// <summary>
    /// Dropout probability between stacked layers, as torch.nn.LSTM's <c>dropout</c>: inverted dropout on the output of
    /// every layer but the last, in training only. Range: [0, 1). Default 0.
    /// </summary>
    public double Dropout { get; init; }

    /// <summary>Largest weight tensor accepted: 2^28 floats (1 GiB).</summary>
    public const long MaxTensorElements = 1L << 28;

    /// <summary>Most stacked layers accepted.</summary>
    public const int MaxLayers = 64;

    /// <summary>Gates per cell: 4 for LSTM, 3 for GRU.</summary>
    public int GateCount => Cell == CellType.Lstm ? 4 : 3;

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A size is below 1 or too large, dropout is outside [0, 1), or dropout is set for a 1-layer network.</exception>
    public void Validate()
    {
        if (!Enum.IsDefined(Cell)) throw new ArgumentOutOfRangeException(nameof(Cell), Cell, "cell must be Lstm or Gru");
        if (InputSize < 1) throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, $"input size ({InputSize}) must be >= 1");
        if (HiddenSize < 1) throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, $"hidden size ({HiddenSize}) must be >= 1");
        if (Layers < 1) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, $"layers ({Layers}) must be >= 1");
        if (OutputSize < 1) throw new ArgumentOutOfRangeException(nameof(OutputSize), OutputSize, $"output size ({OutputSize}) must be >= 1");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, $"dropout ({Dropout}) must be in [0, 1)");
        if (Dropout > 0 && Layers == 1)
            throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, $"dropout ({Dropout}) acts between stacked layers and a network of 1 layer has none; use Layers >= 2 or Dropout = 0");
        if ((long)GateCount * HiddenSize * Math.Max(InputSize, HiddenSize) > MaxTensorElements || (long)OutputSize * HiddenSize > MaxTensorElements)
            throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, $"a network of input size {InputSize}, hidden size {HiddenSize} and output size {OutputSize} has a weight tensor above {MaxTensorElements} elements");
        if (Layers > MaxLayers) throw new ArgumentOutOfRangeException(nameof(Layers), Layers, $"layers ({Layers}) must be <= {MaxLayers}");
    }
}
