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
/// A compute backend: it builds networks and runs them. The managed engine (<c>ManagedBackend</c>) is built in;
/// others (libtorch on CPU or CUDA) live in separate packages. Forecasters and trainers only see this interface.
/// </summary>
public interface IBackend
{
    /// <summary>Short name for reports, for example "managed" or "libtorch-cuda:0".</summary>
    string Name { get; }

    /// <summary>Creates a network of the given shape with seeded initial weights, ready to train.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    INetworkSession CreateSession(NetworkOptions network, TrainingSetup training, ulong seed);
}

/// <summary>
/// One network on one backend with its optimizer state. Batches are float spans: inputs <c>[batch, time, features]</c>,
/// targets and outputs <c>[batch, OutputSize]</c>. Parameters move in <see cref="Layout"/> order (PyTorch names and shapes).
/// </summary>
public interface INetworkSession : IDisposable
{
    /// <summary>The network's shape.</summary>
    NetworkOptions Network { get; }

    /// <summary>Parameter names, shapes and offsets.</summary>
    ParameterLayout Layout { get; }

    /// <summary>Learning rate of the next steps.</summary>
    double LearningRate { get; set; }

    /// <summary>
    /// One optimizer step: forward in training mode, loss, backward, optional clipping, optimizer update.
    /// Returns the batch's mean loss before the update.
    /// </summary>
    double TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps);

    /// <summary>Mean loss of a batch in inference mode (no dropout, no update).</summary>
    double EvaluateLoss(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps);

    /// <summary>Inference: writes <c>[batch, OutputSize]</c> outputs.</summary>
    void Predict(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs);

    /// <summary>Copies all parameters, in <see cref="Layout"/> order, into <paramref name="destination"/>.</summary>
    void CopyParametersTo(Span<float> destination);

    /// <summary>Replaces all parameters from <paramref name="source"/> (in <see cref="Layout"/> order).</summary>
    void LoadParameters(ReadOnlySpan<float> source);
}
