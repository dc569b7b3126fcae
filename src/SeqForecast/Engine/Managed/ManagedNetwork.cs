using SeqForecast.Engine.Kernels;
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
/// <para>A batch is cut into fixed micro-batches of <see cref="MicroBatch"/> windows. Each runs the whole forward and
/// backward pass on one thread, with its own buffers, and the micro-batches' gradients are added in order. The
/// arithmetic therefore depends on the micro-batch cut only, not on the number of threads: results are bit-identical
/// for any thread count. Buffers grow to the largest batch and sequence seen and are reused, so a steady training loop
/// allocates nothing. One instance is not thread-safe.</para>
/// </remarks>
public sealed class ManagedNetwork : IDisposable
{
    /// <summary>Windows per micro-batch (one thread's share of a batch).</summary>
    public const int MicroBatch = 32;

    private readonly WorkerPool _pool;
    private readonly List<Replica> _replicas = [];
    private readonly ChunkWork _work;
    private readonly float[] _parameters;
    private readonly float[] _gradients;
    private readonly ulong _dropoutSeed;
    private long _step;
    private int _batch, _timeSteps, _chunks;
    private bool _hasTrainingForward;

    /// <summary>Creates a network with PyTorch-style initial weights (see <see cref="ParameterInitializer"/>).</summary>
    /// <param name="options">Shape. Validated here.</param>
    /// <param name="seed">Seed of the initial weights and of the dropout masks.</param>
    /// <param name="threads">Threads for micro-batches; 0 uses every core. Results do not depend on it.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or <paramref name="threads"/> is negative.</exception>
    public ManagedNetwork(NetworkOptions options, ulong seed = 0, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Options = options;
        Layout = ParameterLayout.For(options);
        _pool = new WorkerPool(threads == 0 ? Environment.ProcessorCount : threads);
        _work = new ChunkWork(this);
        _parameters = new float[Layout.TotalLength];
        _gradients = new float[Layout.TotalLength];
        ParameterInitializer.Initialize(options, seed, _parameters);
        _dropoutSeed = DeterministicRandom.DeriveSeed(seed, 0xD50);
        Threads = _pool.ThreadCount;
    }

    /// <summary>The network's shape.</summary>
    public NetworkOptions Options { get; }

    /// <summary>Names, shapes and offsets of the parameters.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>Threads the micro-batches run on.</summary>
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
    public void MarkParametersChanged()
    {
        foreach (var replica in _replicas) replica.WeightsChanged = true;
    }

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Array.Clear(_gradients);

    /// <summary>Runs the network on a batch.</summary>
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
        int features = Options.InputSize;
        if (inputs.Length < batch * timeSteps * features)
            throw new ArgumentException($"inputs has {inputs.Length} floats; batch {batch} × time {timeSteps} × features {features} needs {batch * timeSteps * features}", nameof(inputs));
        if (outputs.Length < batch * Options.OutputSize)
            throw new ArgumentException($"outputs has {outputs.Length} floats; batch {batch} × outputs {Options.OutputSize} needs {batch * Options.OutputSize}", nameof(outputs));
        _batch = batch;
        _timeSteps = timeSteps;
        _chunks = (batch + MicroBatch - 1) / MicroBatch;
        while (_replicas.Count < _chunks) _replicas.Add(new Replica(Options, Layout));
        if (training) _step++;
        unsafe
        {
            fixed (float* x = inputs)
            fixed (float* y = outputs)
                Run(x, y, backward: false, training);
        }
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
        if (dOutputs.Length < _batch * Options.OutputSize)
            throw new ArgumentException($"dOutputs has {dOutputs.Length} floats; batch {_batch} × outputs {Options.OutputSize} needs {_batch * Options.OutputSize}", nameof(dOutputs));
        unsafe
        {
            fixed (float* d = dOutputs)
                Run(d, null, backward: true, training: true);
        }
        // Micro-batch gradients are added in micro-batch order, whichever thread computed them.
        for (int c = 0; c < _chunks; c++)
            System.Numerics.Tensors.TensorPrimitives.Add(_gradients, _replicas[c].Gradients, _gradients);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _pool.Dispose();
        foreach (var replica in _replicas) replica.Dispose();
    }

    private unsafe void Run(float* first, float* second, bool backward, bool training)
    {
        _work.Set(first, second, backward, training);
        if (_chunks == 1 || _pool.ThreadCount == 1) ((IParallelWork)_work).Execute(0, 1);
        else _pool.Run(_work);
    }

    private unsafe void RunChunk(int chunk, float* first, float* second, bool backward, bool training)
    {
        int start = chunk * MicroBatch;
        int size = Math.Min(MicroBatch, _batch - start);
        var replica = _replicas[chunk];
        int outputs = Options.OutputSize;
        if (backward)
        {
            replica.Backward(new ReadOnlySpan<float>(first + (long)start * outputs, size * outputs), _parameters);
            return;
        }
        int inputLength = _timeSteps * Options.InputSize;
        var chunkInputs = new ReadOnlySpan<float>(first + (long)start * inputLength, size * inputLength);
        var chunkOutputs = new Span<float>(second + (long)start * outputs, size * outputs);
        ulong dropoutSeed = DeterministicRandom.DeriveSeed(_dropoutSeed, ((ulong)_step << 20) | (uint)chunk);
        replica.Forward(chunkInputs, size, _timeSteps, chunkOutputs, training, _parameters, dropoutSeed);
    }

    private sealed unsafe class ChunkWork(ManagedNetwork network) : IParallelWork
    {
        private float* _first, _second;
        private bool _backward, _training;

        public void Set(float* first, float* second, bool backward, bool training)
        {
            _first = first;
            _second = second;
            _backward = backward;
            _training = training;
        }

        void IParallelWork.Execute(int part, int parts)
        {
            for (int c = part; c < network._chunks; c += parts)
                network.RunChunk(c, _first, _second, _backward, _training);
        }
    }

    /// <summary>One micro-batch's layers and buffers; its GEMMs run on the thread that runs it.</summary>
    private sealed class Replica : IDisposable
    {
        private readonly NetworkOptions _options;
        private readonly ComputeContext _context = new(1);
        private readonly RecurrentLayer[] _layers;
        private readonly DropoutLayer?[] _dropouts;
        private readonly DenseLayer _head;
        private readonly DeterministicRandom _random = new(0);
        private AlignedBuffer _input = AlignedBuffer.Empty;        // [T, F, b] feature-major copy of the micro-batch
        private AlignedBuffer _dSequenceA = AlignedBuffer.Empty;   // [T, H, b]
        private AlignedBuffer _dSequenceB = AlignedBuffer.Empty;   // [T, H, b]
        private AlignedBuffer _dLast = AlignedBuffer.Empty;        // [H, b]
        private int _batch, _timeSteps;

        public Replica(NetworkOptions options, ParameterLayout layout)
        {
            _options = options;
            Gradients = new float[layout.TotalLength];
            _layers = new RecurrentLayer[options.Layers];
            _dropouts = new DropoutLayer?[options.Layers];
            for (int l = 0; l < options.Layers; l++)
            {
                int input = l == 0 ? options.InputSize : options.HiddenSize;
                _layers[l] = options.Cell == CellType.Lstm
                    ? new LstmLayer(_context, l, input, options.HiddenSize, layout)
                    : new GruLayer(_context, l, input, options.HiddenSize, layout);
                if (options.Dropout > 0 && l < options.Layers - 1) _dropouts[l] = new DropoutLayer(options.Dropout);
            }
            _head = new DenseLayer(_context, options.HiddenSize, options.OutputSize, layout);
        }

        public bool WeightsChanged { get; set; } = true;

        /// <summary>This micro-batch's gradients, written (not accumulated) by each backward pass.</summary>
        public float[] Gradients { get; }

        public void Forward(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs, bool training, ReadOnlySpan<float> parameters, ulong dropoutSeed)
        {
            int features = _options.InputSize, hidden = _options.HiddenSize;
            _batch = batch;
            _timeSteps = timeSteps;
            Buffers.Ensure(ref _input, (long)timeSteps * features * batch);
            for (int b = 0; b < batch; b++)
                for (int t = 0; t < timeSteps; t++)
                    for (int f = 0; f < features; f++)
                        _input[(t * features + f) * batch + b] = inputs[(b * timeSteps + t) * features + f];
            if (training) _random.Reseed(dropoutSeed);

            ReadOnlySpan<float> layerInput = _input.AsSpan(0, timeSteps * features * batch);
            int sequence = timeSteps * hidden * batch;
            for (int l = 0; l < _layers.Length; l++)
            {
                _layers[l].Forward(layerInput, parameters, timeSteps, batch, WeightsChanged);
                layerInput = _layers[l].Output;
                if (training && _dropouts[l] is { } dropout)
                {
                    dropout.Forward(layerInput, _random);
                    layerInput = dropout.Output(sequence);
                }
            }
            var last = _layers[^1].Output.Slice((timeSteps - 1) * hidden * batch, hidden * batch);
            _head.Forward(last, parameters, batch, WeightsChanged, outputs);
            WeightsChanged = false;
        }

        public void Backward(ReadOnlySpan<float> dOutputs, ReadOnlySpan<float> parameters)
        {
            int batch = _batch, t = _timeSteps, hidden = _options.HiddenSize, features = _options.InputSize;
            int step = hidden * batch, sequence = t * step;
            Buffers.Ensure(ref _dSequenceA, sequence);
            Buffers.Ensure(ref _dSequenceB, sequence);
            Buffers.Ensure(ref _dLast, step);
            Array.Clear(Gradients);

            _head.Backward(_layers[^1].Output.Slice((t - 1) * step, step), dOutputs, Gradients, _dLast.AsSpan(0, step));
            var dOutput = _dSequenceA.AsSpan(0, sequence);
            dOutput[..((t - 1) * step)].Clear();
            _dLast.AsSpan(0, step).CopyTo(dOutput[((t - 1) * step)..]);
            var dInput = _dSequenceB.AsSpan(0, sequence);
            for (int l = _layers.Length - 1; l >= 0; l--)
            {
                ReadOnlySpan<float> input = l == 0 ? _input.AsSpan(0, t * features * batch)
                    : _dropouts[l - 1] is { } dropout ? dropout.Output(sequence) : _layers[l - 1].Output;
                var dIn = l == 0 ? Span<float>.Empty : dInput;
                _layers[l].Backward(input, dOutput, dIn, parameters, Gradients);
                if (l == 0) break;
                _dropouts[l - 1]?.Backward(dIn);
                var swap = dOutput;
                dOutput = dIn;
                dInput = swap;
            }
        }

        public void Dispose() => _context.Dispose();
    }
}
