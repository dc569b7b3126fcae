using SeqForecast.Engine;

namespace SeqForecast.LibTorch;

/// <summary>
/// One libtorch model with its optimizer. A training step is one native call (forward, loss, backward, clipping,
/// optimizer step). Dispose frees the native model.
/// </summary>
public sealed unsafe class LibTorchSession : INetworkSession
{
    private readonly ModelHandle _handle;
    private double _learningRate;

    internal LibTorchSession(ModelHandle handle, NetworkOptions network, double learningRate)
    {
        _handle = handle;
        Network = network;
        Layout = ParameterLayout.For(network);
        _learningRate = learningRate;
    }

    /// <inheritdoc />
    public NetworkOptions Network { get; }

    /// <inheritdoc />
    public ParameterLayout Layout { get; }

    /// <inheritdoc />
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!(value > 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, $"learning rate ({value}) must be finite and > 0");
            NativeMethods.Check(NativeMethods.sf_set_learning_rate(_handle, value), "set learning rate");
            _learningRate = value;
        }
    }

    /// <inheritdoc />
    public double TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps) => Loss(inputs, targets, batch, timeSteps, train: true);

    /// <inheritdoc />
    public double EvaluateLoss(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps) => Loss(inputs, targets, batch, timeSteps, train: false);

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs)
    {
        CheckBatch(inputs, batch, timeSteps);
        if (outputs.Length < batch * Network.OutputSize)
            throw new ArgumentException($"outputs has {outputs.Length} floats; batch {batch} × outputs {Network.OutputSize} needs {batch * Network.OutputSize}", nameof(outputs));
        fixed (float* x = inputs)
        fixed (float* y = outputs)
            NativeMethods.Check(NativeMethods.sf_predict(_handle, x, batch, timeSteps, y), "predict");
    }

    /// <inheritdoc />
    public void CopyParametersTo(Span<float> destination)
    {
        if (destination.Length < Layout.TotalLength)
            throw new ArgumentException($"destination has {destination.Length} floats; the network has {Layout.TotalLength} parameters", nameof(destination));
        fixed (float* d = destination)
            foreach (var p in Layout.Parameters)
                NativeMethods.Check(NativeMethods.sf_get_parameter(_handle, p.Name, d + p.Offset, p.Length), $"get parameter '{p.Name}'");
    }

    /// <inheritdoc />
    public void LoadParameters(ReadOnlySpan<float> source)
    {
        if (source.Length != Layout.TotalLength)
            throw new ArgumentException($"source has {source.Length} floats; the network has {Layout.TotalLength} parameters", nameof(source));
        fixed (float* s = source)
            foreach (var p in Layout.Parameters)
                NativeMethods.Check(NativeMethods.sf_set_parameter(_handle, p.Name, s + p.Offset, p.Length), $"set parameter '{p.Name}'");
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();

    /// <summary>One native call: a fused training step, or an inference-mode loss.</summary>
    private double Loss(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, bool train)
    {
        CheckBatch(inputs, batch, timeSteps);
        CheckTargets(targets, batch);
        fixed (float* x = inputs)
        fixed (float* y = targets)
        {
            double loss;
            int status = train
                ? NativeMethods.sf_train_step(_handle, x, y, batch, timeSteps, out loss)
                : NativeMethods.sf_evaluate(_handle, x, y, batch, timeSteps, out loss);
            NativeMethods.Check(status, train ? "train step" : "evaluate");
            return loss;
        }
    }

    private void CheckBatch(ReadOnlySpan<float> inputs, int batch, int timeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeSteps);
        long needed = (long)batch * timeSteps * Network.InputSize;
        if (inputs.Length < needed)
            throw new ArgumentException($"inputs has {inputs.Length} floats; batch {batch} × time {timeSteps} × features {Network.InputSize} needs {needed}", nameof(inputs));
    }

    private void CheckTargets(ReadOnlySpan<float> targets, int batch)
    {
        if (targets.Length < batch * Network.OutputSize)
            throw new ArgumentException($"targets has {targets.Length} floats; batch {batch} × outputs {Network.OutputSize} needs {batch * Network.OutputSize}", nameof(targets));
    }
}
