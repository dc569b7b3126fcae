using SeqForecast.Training;

namespace SeqForecast.Engine.Managed;

/// <summary>The built-in, fully managed backend: SIMD kernels on the CPU, no native dependency.</summary>
/// <param name="threads">Threads the micro-batches run on; 0 (default) uses every core. Results are bit-identical for any value.</param>
public sealed class ManagedBackend(int threads = 0) : IBackend
{
    /// <summary>The managed backend on every core.</summary>
    public static ManagedBackend Default { get; } = new();

    /// <summary>Threads requested (0: every core).</summary>
    public int Threads { get; } = threads >= 0 ? threads : throw new ArgumentOutOfRangeException(nameof(threads), threads, $"threads ({threads}) must be >= 0");

    /// <inheritdoc />
    public string Name => "managed";

    /// <inheritdoc />
    public INetworkSession CreateSession(NetworkOptions network, TrainingSetup training, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(training);
        training.Validate();
        return new ManagedSession(new ManagedNetwork(network, seed, Threads), training);
    }
}

/// <summary>A <see cref="ManagedNetwork"/> with its optimizer and loss buffers.</summary>
public sealed class ManagedSession : INetworkSession
{
    private readonly TrainingSetup _training;
    private readonly Optimizer _optimizer;
    private AlignedBuffer _outputs = AlignedBuffer.Empty;
    private AlignedBuffer _dOutputs = AlignedBuffer.Empty;

    /// <summary>Wraps <paramref name="network"/>; the session owns and disposes it.</summary>
    public ManagedSession(ManagedNetwork network, TrainingSetup training)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(training);
        training.Validate();
        Network = network;
        _training = training;
        _optimizer = training.Optimizer.Create(network.Layout.TotalLength);
        LearningRate = training.Optimizer.LearningRate;
    }

    /// <summary>The underlying network (lower-level API).</summary>
    public ManagedNetwork Network { get; }

    NetworkOptions INetworkSession.Network => Network.Options;

    /// <inheritdoc />
    public ParameterLayout Layout => Network.Layout;

    /// <inheritdoc />
    public double LearningRate { get; set; }

    /// <inheritdoc />
    public double TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps)
    {
        var outputs = Outputs(batch, ref _outputs);
        var dOutputs = Outputs(batch, ref _dOutputs);
        Network.Forward(inputs, batch, timeSteps, outputs, training: true);
        double loss = LossFunctions.Compute(_training.Loss, outputs, Targets(targets, batch), dOutputs);
        Network.ZeroGradients();
        Network.Backward(dOutputs);
        if (_training.GradientClipNorm is { } clip) GradientClipping.ClipByGlobalNorm(Network.MutableGradients, clip);
        _optimizer.Step(Network.MutableParameters, Network.Gradients, LearningRate);
        Network.MarkParametersChanged();
        return loss;
    }

    /// <inheritdoc />
    public double EvaluateLoss(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps)
    {
        var outputs = Outputs(batch, ref _outputs);
        Network.Forward(inputs, batch, timeSteps, outputs, training: false);
        return LossFunctions.Compute(_training.Loss, outputs, Targets(targets, batch), Span<float>.Empty);
    }

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs) => Network.Forward(inputs, batch, timeSteps, outputs, training: false);

    /// <inheritdoc />
    public void CopyParametersTo(Span<float> destination) => Network.Parameters.CopyTo(destination);

    /// <inheritdoc />
    public void LoadParameters(ReadOnlySpan<float> source) => Network.SetParameters(source);

    /// <inheritdoc />
    public void Dispose() => Network.Dispose();

    private Span<float> Outputs(int batch, ref AlignedBuffer buffer)
    {
        Buffers.Ensure(ref buffer, batch * Network.Options.OutputSize);
        return buffer.AsSpan(0, batch * Network.Options.OutputSize);
    }

    private ReadOnlySpan<float> Targets(ReadOnlySpan<float> targets, int batch)
    {
        int length = batch * Network.Options.OutputSize;
        if (targets.Length < length)
            throw new ArgumentException($"targets has {targets.Length} floats; batch {batch} × outputs {Network.Options.OutputSize} needs {length}", nameof(targets));
        return targets[..length];
    }
}
