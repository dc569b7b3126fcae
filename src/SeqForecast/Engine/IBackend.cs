using SeqForecast.Training;

namespace SeqForecast.Engine;

/// <summary>How a session trains: loss, optimizer and gradient clipping.</summary>
/// <param name="Loss">Training loss.</param>
/// <param name="Optimizer">Optimizer and its settings.</param>
public sealed record TrainingSetup(LossOptions Loss, OptimizerOptions Optimizer)
{
    /// <summary>Clip gradients to this global L2 norm before each optimizer step; null disables clipping. Range: &gt; 0.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Checks the ranges.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Loss);
        ArgumentNullException.ThrowIfNull(Optimizer);
        Loss.Validate();
        Optimizer.Validate();
        if (GradientClipNorm is { } clip && !(clip > 0 && double.IsFinite(clip)))
            throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), clip, $"gradient clip norm ({clip}) must be finite and > 0");
    }
}

/// <summary>
/// What a loss may need about each window beyond its targets: how to turn normalised values back into original units
/// (<c>original = value·Scale + Offset</c>, one pair per target value) and one weight per window (the
/// <see cref="LossKind.ScaledMae"/> loss uses one over the series' in-sample naive MAE). The default value is empty:
/// losses that need a context then work on the values as given.
/// </summary>
public readonly ref struct LossContext
{
    /// <summary>Creates a context.</summary>
    /// <param name="scale">[batch, K]: multiplier from normalised to original units.</param>
    /// <param name="offset">[batch, K]: offset from normalised to original units.</param>
    /// <param name="weight">[batch]: per-window weight.</param>
    public LossContext(ReadOnlySpan<float> scale, ReadOnlySpan<float> offset, ReadOnlySpan<float> weight)
    {
        Scale = scale;
        Offset = offset;
        Weight = weight;
    }

    /// <summary>[batch, K]: multiplier from normalised to original units.</summary>
    public ReadOnlySpan<float> Scale { get; }

    /// <summary>[batch, K]: offset from normalised to original units.</summary>
    public ReadOnlySpan<float> Offset { get; }

    /// <summary>[batch]: per-window weight.</summary>
    public ReadOnlySpan<float> Weight { get; }

    /// <summary>True for the default (no context).</summary>
    public bool IsEmpty => Weight.IsEmpty;
}

/// <summary>
/// A compute backend: it builds networks and runs them. The managed engine (<c>ManagedBackend</c>) is built in;
/// others (libtorch on CPU or CUDA) live in separate packages. Forecasters and trainers only see this interface.
/// </summary>
public interface IBackend
{
    /// <summary>Short name for reports, for example "managed" or "libtorch-cuda:0".</summary>
    string Name { get; }

    /// <summary>Creates a network of the given shape with seeded initial weights, ready to train.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="ArgumentException">The loss does not fit the network (outputs not a multiple of the quantile count).</exception>
    INetworkSession CreateSession(NetworkOptions network, TrainingSetup training, ulong seed);
}

/// <summary>
/// One network on one backend with its optimizer. Batches are float spans: inputs <c>[batch, time, features]</c>,
/// outputs <c>[batch, OutputSize]</c> and targets <c>[batch, OutputSize / Q]</c>, where Q is the loss's
/// <see cref="LossOptions.OutputsPerValue"/> (quantile levels). Parameters move in <see cref="Layout"/> order (PyTorch
/// names and shapes).
/// </summary>
/// <remarks>
/// Thread safety: <see cref="Predict"/> and <see cref="CopyParametersTo"/> may be called from any number of threads at
/// once and give the same bits as serial calls. <see cref="TrainStep"/>, <see cref="EvaluateLoss"/>,
/// <see cref="LoadParameters"/> and setting <see cref="LearningRate"/> take the session exclusively: calls made while
/// they run wait for them, so a prediction sees the weights before or after a training step, never a mixture.
/// </remarks>
public interface INetworkSession : IDisposable
{
    /// <summary>The network's shape.</summary>
    NetworkOptions Network { get; }

    /// <summary>Parameter names, shapes and offsets.</summary>
    ParameterLayout Layout { get; }

    /// <summary>Loss, optimizer and clipping the session trains with.</summary>
    TrainingSetup Training { get; }

    /// <summary>Learning rate of the next steps.</summary>
    double LearningRate { get; set; }

    /// <summary>
    /// One optimizer step: forward in training mode, loss, backward, optional clipping, optimizer update.
    /// Returns the batch's mean loss before the update.
    /// </summary>
    double TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, LossContext context = default);

    /// <summary>Mean loss of a batch in inference mode (no dropout, no update).</summary>
    double EvaluateLoss(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, LossContext context = default);

    /// <summary>Inference: writes <c>[batch, OutputSize]</c> outputs. Thread-safe.</summary>
    void Predict(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs);

    /// <summary>Copies all parameters, in <see cref="Layout"/> order, into <paramref name="destination"/>. Thread-safe.</summary>
    void CopyParametersTo(Span<float> destination);

    /// <summary>Replaces all parameters from <paramref name="source"/> (in <see cref="Layout"/> order).</summary>
    void LoadParameters(ReadOnlySpan<float> source);
}

/// <summary>Checks shared by the backends' sessions.</summary>
internal static class SessionChecks
{
    /// <summary>Throws when the loss's outputs per value do not divide the network's outputs.</summary>
    public static void LossFits(NetworkOptions network, TrainingSetup training)
    {
        int perValue = training.Loss.OutputsPerValue;
        if (network.OutputSize % perValue != 0)
            throw new ArgumentException($"the network has {network.OutputSize} outputs; the {training.Loss.Kind} loss with {perValue} quantile levels needs a multiple of {perValue}", nameof(training));
    }

    public static void Inputs(NetworkOptions network, ReadOnlySpan<float> inputs, int batch, int timeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeSteps);
        long needed = (long)batch * timeSteps * network.InputSize;
        if (inputs.Length < needed)
            throw new ArgumentException($"inputs has {inputs.Length} floats; batch {batch} × time {timeSteps} × features {network.InputSize} needs {needed}", nameof(inputs));
    }

    /// <summary>The first batch × OutputSize / Q floats of <paramref name="targets"/>.</summary>
    public static ReadOnlySpan<float> Targets(NetworkOptions network, TrainingSetup training, ReadOnlySpan<float> targets, int batch)
    {
        long length = (long)batch * (network.OutputSize / training.Loss.OutputsPerValue);
        if (targets.Length < length)
            throw new ArgumentException($"targets has {targets.Length} floats; batch {batch} × {network.OutputSize / training.Loss.OutputsPerValue} target values needs {length}", nameof(targets));
        return targets[..(int)length];
    }

    public static void Outputs(NetworkOptions network, Span<float> outputs, int batch)
    {
        if (outputs.Length < (long)batch * network.OutputSize)
            throw new ArgumentException($"outputs has {outputs.Length} floats; batch {batch} × outputs {network.OutputSize} needs {(long)batch * network.OutputSize}", nameof(outputs));
    }
}
