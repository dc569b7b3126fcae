using SeqForecast.Engine;
using SeqForecast.Engine.Managed;
using SeqForecast.Scaling;
using SeqForecast.Training;
using SeqForecast.Windows;

namespace SeqForecast.Forecasting;

/// <summary>Everything a recurrent forecaster needs: windows, network shape, scaling, training and backend.</summary>
/// <param name="Window">Lookback, horizon, stride, targets, extra features and calendar inputs.</param>
public sealed record RnnForecasterOptions(WindowSpec Window)
{
    /// <summary>LSTM (default) or GRU.</summary>
    public CellType Cell { get; init; } = CellType.Lstm;

    /// <summary>Units per layer. Range: ≥ 1. Default 64.</summary>
    public int HiddenSize { get; init; } = 64;

    /// <summary>Stacked layers. Range: ≥ 1. Default 2.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>Dropout between layers in training. Range: [0, 1). Default 0.</summary>
    public double Dropout { get; init; }

    /// <summary>Scaler fitted on the training part; null disables scaling. Default: min-max to [0, 1] per series.</summary>
    public IScaler? Scaler { get; init; } = new MinMaxScaler();

    /// <summary>
    /// Clamp forecasts at zero after inverse scaling (quantities that cannot be negative, such as unit sales).
    /// Default false: forecasts are returned as the network produces them.
    /// </summary>
    public bool NonNegative { get; init; }

    /// <summary>Training loop settings (epochs, batch size, optimizer, early stopping, seed, …).</summary>
    public TrainerOptions Training { get; init; } = new();

    /// <summary>Compute backend. Default: the managed engine on every core.</summary>
    public IBackend Backend { get; init; } = ManagedBackend.Default;

    /// <summary>The network shape for series shaped like the training data.</summary>
    public NetworkOptions NetworkFor(int inputFeatures, int targets) =>
        new(Cell, inputFeatures, HiddenSize, Layers, Window.Horizon * targets) { Dropout = Dropout };

    /// <summary>Checks every range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    /// <exception cref="ArgumentException">The window spec lists a column twice.</exception>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Window);
        ArgumentNullException.ThrowIfNull(Training);
        ArgumentNullException.ThrowIfNull(Backend);
        Window.Validate();
        NetworkFor(1, 1).Validate();
        Training.Validate();
    }
}
