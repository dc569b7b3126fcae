using SeqForecast.Engine.Managed.Layers;
using SeqForecast.Randomness;

namespace SeqForecast.Engine.Managed;

/// <summary>
/// A stacked LSTM or GRU with dropout between layers and a linear head, computed in managed code with SIMD kernels.
/// It knows shapes and numbers only; data pipelines, scaling and training loops live elsewhere.
/// </summary>
/// <remarks>
/// <para>Parameters live in one contiguous float buffer in <see cref="Layout"/> order (PyTorch's state_dict names and
/// shapes), gradients in a second buffer of the same layout. <see cref="Backward"/> adds to the gradients
/// (<c>+=</c>); <see cref="ZeroGradients"/> clears them.</para>
/// <para>Buffers grow to the largest batch and sequence seen and are reused, so a steady training loop allocates nothing.
/// One instance is not thread-safe.</para>
/// </remarks>
public sealed class ManagedNetwork : IDisposable
{
    private readonly ComputeContext _context;
    private readonly RecurrentLayer[] _layers;
    private readonly DropoutLayer?[] _dropouts;
    private readonly DenseLayer _head;
    private readonly DeterministicRandom _dropoutRandom;
    private readonly float[] _parameters;
    private readonly float[] _gradients;
    private float[] _input = [];        // [T, F, B] feature-major copy of the batch
    private float[] _dSequenceA = [];   // [T, H, B]
    private float[] _dSequenceB = [];   // [T, H, B]
    private float[] _dLast = [];        // [H, B]
    private bool _weightsChanged = true;
    private int _batch, _timeSteps;
    private bool _hasTrainingForward;

    /// <summary>Creates a network with PyTorch-style initial weights: every parameter drawn from U(−1/√H, 1/√H).</summary>
    /// <param name="options">Shape. Validated here.</param>
    /// <param name="seed">Seed of the initial weights and of the dropout masks.</param>
    /// <param name="threads">Threads for the matrix kernels; 0 uses every core. Results do not depend on it.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or <paramref name="threads"/> is negative.</exception>
    public ManagedNetwork(NetworkOptions options, ulong seed = 0, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Options = options;
        Layout = ParameterLayout.For(options);
        _context = new ComputeContext(threads == 0 ? Environment.ProcessorCount : threads);
        _parameters = new float[Layout.TotalLength];
        _gradients = new float[Layout.TotalLength];
        _layers = new RecurrentLayer[options.Layers];
        _dropouts = new DropoutLayer?[options.Layers];
        for (int l = 0; l < options.Layers; l++)
        {
            int input = l == 0 ? options.InputSize : options.HiddenSize;
            _layers[l] = options.Cell == CellType.Lstm
                ? new LstmLayer(_context, l, input, options.HiddenSize, Layout)
                : new GruLayer(_context, l, input, options.HiddenSize, Layout);
            if (options.Dropout > 0 && l < options.Layers - 1) _dropouts[l] = new DropoutLayer(options.Dropout);
        }
        _head = new DenseLayer(_context, options.HiddenSize, options.OutputSize, Layout);
        ParameterInitializer.Initialize(options, seed, _parameters);
        _dropoutRandom = new DeterministicRandom(DeterministicRandom.DeriveSeed(seed, 0xD50));
        Threads = _context.Pool.ThreadCount;
    }

    /// <summary>The network's shape.</summary>
    public NetworkOptions Options { get; }

    /// <summary>Names, shapes and offsets of the parameters.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>Threads the kernels run on.</summary>
    public int Threads { get; }

    /// <summary>All parameters, in <see cref="Layout"/> order.</summary>
    public ReadOnlySpan<float> Parameters => _parameters;

    /// <summary>All gradients, in <see cref="Layout"/> order.</summary>
    public ReadOnlySpan<float> Gradients => _gradients;

    internal Span<float> MutableParameters => _parameters;

    internal Span<float> MutableGradients => _gradients;

    /// <summary>Replaces every parameter.</summary>
    /// <exception cref="ArgumentException">The length is not <see cref="ParameterLayout.TotalLength"/>.</exception>
    public void SetParameters(ReadOnlySpan<float> values)
    {
        if (values.Length != _parameters.Length)
            throw new ArgumentException($"values has {values.Length} floats; the network has {_parameters.Length} parameters", nameof(values));
        values.CopyTo(_parameters);
        MarkParametersChanged();
    }

    /// <summary>Replaces one named parameter (for example <c>rnn.weight_hh_l1</c>).</summary>
    /// <exception cref="ArgumentException">No such name, or the length does not match its shape.</exception>
    public void SetParameter(string name, ReadOnlySpan<float> values)
    {
        var info = Layout[name];
        if (values.Length != info.Length)
            throw new ArgumentException($"parameter '{name}' has shape [{string.Join(", ", info.Shape)}] = {info.Length} floats; got {values.Length}", nameof(values));
        values.CopyTo(_parameters.AsSpan(info.Offset, info.Length));
        MarkParametersChanged();
    }

    /// <summary>A copy of one named parameter.</summary>
    public float[] GetParameter(string name)
    {
        var info = Layout[name];
        return _parameters.AsSpan(info.Offset, info.Length).ToArray();
    }

    /// <summary>Tells the network its parameters changed in place (after an optimizer step), so packed weights are rebuilt.</summary>
    public void MarkParametersChanged() => _weightsChanged = true;

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Array.Clear(_gradients);

    /// <summary>
    /// Runs the network on a batch.
    /// </summary>
    /// <param name="inputs">Inputs <c>[batch, timeSteps, InputSize]</c>, row-major (as <c>WindowBatch.Inputs</c>).</param>
    /// <param name="batch">Windows in the batch. Range: ≥ 1.</param>
    /// <param name="timeSteps">Steps per window. Range: ≥ 1.</param>
    /// <param name="outputs">Outputs <c>[batch, OutputSize]</c>.</param>
    /// <param name="training">Apply dropout and keep what <see cref="Backward"/> needs.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public void Forward(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs, bool training)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeSteps);
        int features = Options.InputSize, hidden = Options.HiddenSize;
        if (inputs.Length < batch * timeSteps * features)
            throw new ArgumentException($"inputs has {inputs.Length} floats; batch {batch} × time {timeSteps} × features {features} needs {batch * timeSteps * features}", nameof(inputs));
        if (outputs.Length < batch * Options.OutputSize)
            throw new ArgumentException($"outputs has {outputs.Length} floats; batch {batch} × outputs {Options.OutputSize} needs {batch * Options.OutputSize}", nameof(outputs));

        _batch = batch;
        _timeSteps = timeSteps;
        Buffers.Ensure(ref _input, (long)timeSteps * features * batch);
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < timeSteps; t++)
                for (int f = 0; f < features; f++)
                    _input[(t * features + f) * batch + b] = inputs[(b * timeSteps + t) * features + f];

        ReadOnlySpan<float> layerInput = _input.AsSpan(0, timeSteps * features * batch);
        int sequence = timeSteps * hidden * batch;
        for (int l = 0; l < _layers.Length; l++)
        {
            _layers[l].Forward(layerInput, _parameters, timeSteps, batch, _weightsChanged);
            layerInput = _layers[l].Output;
            if (training && _dropouts[l] is { } dropout)
            {
                dropout.Forward(layerInput, _dropoutRandom);
                layerInput = dropout.Output(sequence);
            }
        }
        var last = _layers[^1].Output.Slice((timeSteps - 1) * hidden * batch, hidden * batch);
        _head.Forward(last, _parameters, batch, _weightsChanged, outputs);
        _weightsChanged = false;
        _hasTrainingForward = training;
    }

    /// <summary>
    /// Backpropagates <paramref name="dOutputs"/> <c>[batch, OutputSize]</c> (the loss gradient) through the last
    /// training forward pass and adds every parameter's gradient to <see cref="Gradients"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The last forward pass was not a training pass.</exception>
    public void Backward(ReadOnlySpan<float> dOutputs)
    {
        if (!_hasTrainingForward)
            throw new InvalidOperationException("Backward needs a preceding Forward with training: true; call Forward(..., training: true) first");
        int batch = _batch, t = _timeSteps, hidden = Options.HiddenSize, features = Options.InputSize;
        if (dOutputs.Length < batch * Options.OutputSize)
            throw new ArgumentException($"dOutputs has {dOutputs.Length} floats; batch {batch} × outputs {Options.OutputSize} needs {batch * Options.OutputSize}", nameof(dOutputs));
        int step = hidden * batch, sequence = t * step;
        Buffers.Ensure(ref _dSequenceA, sequence);
        Buffers.Ensure(ref _dSequenceB, sequence);
        Buffers.Ensure(ref _dLast, step);

        var lastLayerOutput = _layers[^1].Output;
        _head.Backward(lastLayerOutput.Slice((t - 1) * step, step), dOutputs, _gradients, _dLast.AsSpan(0, step));
        var dOutput = _dSequenceA.AsSpan(0, sequence);
        dOutput[..((t - 1) * step)].Clear();
        _dLast.AsSpan(0, step).CopyTo(dOutput[((t - 1) * step)..]);
        var dInput = _dSequenceB.AsSpan(0, sequence);
        for (int l = _layers.Length - 1; l >= 0; l--)
        {
            ReadOnlySpan<float> input = l == 0 ? _input.AsSpan(0, t * features * batch)
                : _dropouts[l - 1] is { } dropout ? dropout.Output(sequence) : _layers[l - 1].Output;
            var dIn = l == 0 ? Span<float>.Empty : dInput;
            _layers[l].Backward(input, dOutput, dIn, _parameters, _gradients);
            if (l == 0) break;
            _dropouts[l - 1]?.Backward(dIn);
            var swap = dOutput;
            dOutput = dIn;
            dInput = swap;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _context.Dispose();
}
