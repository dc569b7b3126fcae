using System.Collections.Concurrent;
using SeqForecast.Engine.Kernels;
using SeqForecast.Engine.Managed.Layers;
using SeqForecast.Randomness;
using SeqForecast.Training;

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
/// backward pass with its own buffers, and the micro-batches' gradients are added in order. The packed copies of the
/// recurrent weights are one set per pass, which every micro-batch reads: they are packed once per weights version,
/// across the pool, before the micro-batches start. When there are at least
/// twice as many threads as micro-batches, each micro-batch runs on a team of threads (<see cref="TeamSizeFor"/>) that
/// splits every GEMM by rows and every cell by hidden units, syncing twice a step; otherwise each runs on one thread.
/// Neither split changes any output's arithmetic, which depends on the micro-batch cut only: results are bit-identical
/// for any thread count. Buffers grow to the largest batch and sequence seen and are reused, so a steady training loop
/// allocates nothing. Threads come from the process-wide worker pool (or one given to it); a network owns none.</para>
/// <para>Thread safety: <see cref="Forward"/> with <c>training: false</c> may run on any number of threads at once
/// (each call rents its own buffers, and gets the same bits as a serial call). Every other member (training passes,
/// <see cref="Backward"/>, parameter changes) needs exclusive access: no other call may run at the same time.
/// <see cref="ManagedSession"/> enforces that with a reader-writer lock.</para>
/// </remarks>
internal sealed class ManagedNetwork
{
    /// <summary>Windows per micro-batch (one thread's share of a batch).</summary>
    public const int MicroBatch = 32;

    private readonly Pass _trainingPass;
    private readonly ParameterWork _parameterWork;
    private readonly ConcurrentBag<Pass> _inferencePasses = [];
    private readonly float[] _parameters;
    private readonly float[] _gradients;
    private readonly ulong _dropoutSeed;
    private long _weightsVersion = 1;
    private long _step;
    private bool _hasTrainingForward;

    /// <summary>Creates a network with PyTorch-style initial weights (see <see cref="ParameterInitializer"/>).</summary>
    /// <param name="options">Shape. Validated here.</param>
    /// <param name="seed">Seed of the initial weights and of the dropout masks.</param>
    /// <param name="threads">Threads for micro-batches (at most the pool's size); 0 uses the whole pool. Results do not depend on it.</param>
    /// <param name="pool">The worker pool its passes and parameter work run on; null: the process-wide <see cref="WorkerPool.Shared"/>.
    /// Tests give it a pool of their own to run the teams a many-core machine would.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range, or <paramref name="threads"/> is negative.</exception>
    public ManagedNetwork(NetworkOptions options, ulong seed = 0, int threads = 0, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        Options = options;
        Layout = ParameterLayout.For(options);
        Pool = pool ?? WorkerPool.Shared;
        Threads = threads == 0 ? Pool.ThreadCount : Math.Min(threads, Pool.ThreadCount);
        _parameterWork = new ParameterWork(Pool);
        _trainingPass = new Pass(this);
        _parameters = new float[Layout.TotalLength];
        _gradients = new float[Layout.TotalLength];
        ParameterInitializer.Initialize(options, seed, _parameters);
        _dropoutSeed = DeterministicRandom.DeriveSeed(seed, 0xD50);
    }

    /// <summary>The network's shape.</summary>
    public NetworkOptions Options { get; }

    /// <summary>Names, shapes and offsets of the parameters.</summary>
    public ParameterLayout Layout { get; }

    /// <summary>Threads the micro-batches of one call run on (at most).</summary>
    public int Threads { get; }

    /// <summary>The worker pool the passes run on.</summary>
    internal WorkerPool Pool { get; }

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
    public void MarkParametersChanged() => Interlocked.Increment(ref _weightsVersion);

    /// <summary>
    /// Counts a training step this process takes no part of (its share of a batch split over a process group is empty),
    /// so that its later steps draw the dropout masks of the same step numbers as the other processes.
    /// </summary>
    internal void SkipTrainingStep() => _step++;

    /// <summary>Sets every gradient to zero.</summary>
    public void ZeroGradients() => Array.Clear(_gradients);

    /// <summary>Runs the network on a batch.</summary>
    /// <param name="inputs">Inputs <c>[batch, timeSteps, InputSize]</c>, row-major (as <c>WindowBatch.Inputs</c>).</param>
    /// <param name="batch">Windows in the batch. Range: ≥ 1.</param>
    /// <param name="timeSteps">Steps per window. Range: ≥ 1.</param>
    /// <param name="outputs">Outputs <c>[batch, OutputSize]</c>.</param>
    /// <param name="training">Apply dropout and keep what <see cref="Backward"/> needs. Inference passes (false) may run concurrently.</param>
    /// <param name="firstChunk">Index of the batch's first micro-batch in a larger batch that other processes share
    /// (<see cref="ManagedSession.Share"/>): micro-batch c's dropout masks are those of micro-batch firstChunk + c. Range: ≥ 0.</param>
    /// <exception cref="ArgumentException">A span is shorter than its shape.</exception>
    public void Forward(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs, bool training, int firstChunk = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstChunk);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeSteps);
        int features = Options.InputSize;
        if (inputs.Length < (long)batch * timeSteps * features)
            throw new ArgumentException($"inputs has {inputs.Length} floats; batch {batch} × time {timeSteps} × features {features} needs {(long)batch * timeSteps * features}", nameof(inputs));
        if (outputs.Length < (long)batch * Options.OutputSize)
            throw new ArgumentException($"outputs has {outputs.Length} floats; batch {batch} × outputs {Options.OutputSize} needs {(long)batch * Options.OutputSize}", nameof(outputs));
        long version = Volatile.Read(ref _weightsVersion);
        if (training)
        {
            _step++;
            _trainingPass.Prepare(batch, timeSteps, version, _step, firstChunk);
            unsafe
            {
                fixed (float* x = inputs)
                fixed (float* y = outputs)
                    _trainingPass.Run(x, y, backward: false, training: true);
            }
            _hasTrainingForward = true;
            return;
        }
        _hasTrainingForward = false;
        var pass = _inferencePasses.TryTake(out var rented) ? rented : new Pass(this);
        try
        {
            // A few windows (2 to Gemm.NarrowColumns) run one at a time: a window alone takes the matrix-vector path
            // on its own contiguous state, with no gathering of columns, and gets the same bits as inside a batch.
            int passes = batch <= Gemm.NarrowColumns ? batch : 1, windows = batch / passes;
            long windowInputs = (long)windows * timeSteps * features, windowOutputs = (long)windows * Options.OutputSize;
            pass.Prepare(windows, timeSteps, version, step: 0, firstChunk: 0);
            unsafe
            {
                fixed (float* x = inputs)
                fixed (float* y = outputs)
                    for (int p = 0; p < passes; p++)
                        pass.Run(x + p * windowInputs, y + p * windowOutputs, backward: false, training: false);
            }
        }
        finally
        {
            _inferencePasses.Add(pass);
        }
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
        var pass = _trainingPass;
        if (dOutputs.Length < (long)pass.Batch * Options.OutputSize)
            throw new ArgumentException($"dOutputs has {dOutputs.Length} floats; batch {pass.Batch} × outputs {Options.OutputSize} needs {(long)pass.Batch * Options.OutputSize}", nameof(dOutputs));
        unsafe
        {
            fixed (float* d = dOutputs)
                pass.Run(d, null, backward: true, training: true);
        }
        // Micro-batch gradients are added in micro-batch order, whichever thread computed them; the parameter range is
        // split across threads.
        _parameterWork.Sum(_gradients, pass.ReplicaGradients, pass.Chunks, Threads);
    }

    /// <summary>
    /// One optimizer step over all parameters from <see cref="Gradients"/>, split across up to <see cref="Threads"/>
    /// threads (the same bits for any count), then <see cref="MarkParametersChanged"/>.
    /// </summary>
    internal void ApplyOptimizer(Optimizer optimizer, double learningRate)
    {
        _parameterWork.Step(optimizer, _parameters, _gradients, learningRate, Threads);
        MarkParametersChanged();
    }

    /// <summary>Gate rows each member of a team gets at least; below that a step is too small to share.</summary>
    internal const int MinimumRowsPerMember = 64;

    /// <summary>
    /// Threads per micro-batch: what <paramref name="threads"/> allow once each of the <paramref name="chunks"/>
    /// micro-batches has one, when that is at least two, and at most one per <see cref="MinimumRowsPerMember"/> gate rows;
    /// 1 for batches of up to <see cref="Gemm.NarrowColumns"/> windows (prediction of a few windows), whose steps are
    /// matrix-vector products.
    /// </summary>
    internal static int TeamSizeFor(int threads, int chunks, int batch, NetworkOptions options)
    {
        if (batch <= Gemm.NarrowColumns || threads < 2 * chunks) return 1;
        int gateRows = (options.Cell == CellType.Lstm ? 4 : 3) * options.HiddenSize;
        return Math.Max(1, Math.Min(threads / chunks, gateRows / MinimumRowsPerMember));
    }

    /// <summary>
    /// One call's state: the micro-batch replicas and the shape of the batch. The training pass is reused by every
    /// training step; inference passes are rented per call, so concurrent predictions never share buffers.
    /// </summary>
    /// <remarks>
    /// When there are at least twice as many threads as micro-batches, each micro-batch gets a <see cref="Team"/> of
    /// threads (<see cref="TeamSize"/>) that splits its GEMMs by rows and its cells by hidden units. A region that the
    /// pool runs on fewer threads than asked (it was busy) runs every micro-batch with a team of one. Either way the
    /// bits are the same.
    /// </remarks>
    private sealed unsafe class Pass(ManagedNetwork network) : IParallelWork
    {
        private float* _first, _second;
        private bool _backward, _training;
        private long _version, _step;
        private int _firstChunk;   // index of micro-batch 0 in the whole batch (dropout seeds)
        private long _packedVersion;   // the weights version the first replica's packed weights hold (0: none yet)
        private readonly WeightPacking _packing = new();
        private Team[] _teams = [];

        /// <summary>Parameters per thread below which the weights are packed on one thread.</summary>
        private const int PackingSlice = 64 * 1024;

        /// <summary>
        /// Packs the first replica's weights, which every replica reads, once for this weights version: split into whole
        /// row blocks across the pool, so it is done before any micro-batch starts.
        /// </summary>
        private void PackWeights()
        {
            // Both are fixed for the pass's life: the first replica is never replaced, nor the parameter array.
            _packing.Layers = Replicas[0].Layers;
            _packing.Parameters = network._parameters;
            int parts = Math.Clamp(network.Layout.TotalLength / PackingSlice, 1, network.Threads);
            if (parts == 1) _packing.Execute(0, 1);
            else network.Pool.Run(_packing, parts);
        }

        public List<Replica> Replicas { get; } = [];

        /// <summary>The replicas' gradient buffers, in micro-batch order.</summary>
        public List<float[]> ReplicaGradients { get; } = [];

        public int Batch { get; private set; }

        public int TimeSteps { get; private set; }

        public int Chunks { get; private set; }

        /// <summary>Threads per micro-batch when the region runs on all the threads it asks for.</summary>
        public int TeamSize { get; private set; } = 1;

        /// <summary>Micro-batches that run at the same time.</summary>
        private int TeamCount => Math.Min(Chunks, Math.Max(1, network.Threads / TeamSize));

        public void Prepare(int batch, int timeSteps, long version, long step, int firstChunk)
        {
            _firstChunk = firstChunk;
            Batch = batch;
            TimeSteps = timeSteps;
            Chunks = (batch + MicroBatch - 1) / MicroBatch;
            _version = version;
            _step = step;
            while (Replicas.Count < Chunks)
            {
                // Every replica reads the first one's packed weights, which Run packs once per weights version.
                Replicas.Add(new Replica(network.Options, network.Layout, Replicas.Count == 0 ? null : Replicas[0]));
                ReplicaGradients.Add(Replicas[^1].Gradients);
            }
            TeamSize = TeamSizeFor(network.Threads, Chunks, batch, network.Options);
            if (TeamSize > 1 && (_teams.Length < TeamCount || _teams[0].Size != TeamSize))
            {
                _teams = new Team[TeamCount];
                for (int i = 0; i < _teams.Length; i++) _teams[i] = new Team(TeamSize);
            }
        }

        public void Run(float* first, float* second, bool backward, bool training)
        {
            _first = first;
            _second = second;
            _backward = backward;
            _training = training;
            try
            {
                if (!backward && _packedVersion != _version)
                {
                    PackWeights();
                    _packedVersion = _version;
                }
                int parts = TeamSize > 1 ? TeamCount * TeamSize : Math.Min(network.Threads, Chunks);
                if (parts <= 1) Execute(0, 1);
                else
                {
                    if (TeamSize > 1)
                        for (int i = 0; i < TeamCount; i++) _teams[i].Reset();
                    network.Pool.Run(this, parts);
                }
            }
            finally
            {
                _first = _second = null;
            }
        }

        public void Execute(int part, int parts)
        {
            if (TeamSize == 1 || parts != TeamCount * TeamSize)
            {
                for (int c = part; c < Chunks; c += parts)
                    RunChunk(c, TeamMember.Solo);
                return;
            }
            var team = _teams[part / TeamSize];
            var member = team.Member(part % TeamSize);
            try
            {
                for (int c = part / TeamSize; c < Chunks; c += TeamCount)
                    RunChunk(c, member);
            }
            catch (TeamAbortedException)
            {
                // Another member failed; its exception is the one reported.
            }
            catch
            {
                team.Abort();
                throw;
            }
        }

        private void RunChunk(int chunk, TeamMember member)
        {
            int start = chunk * MicroBatch;
            int size = Math.Min(MicroBatch, Batch - start);
            var replica = Replicas[chunk];
            int outputs = network.Options.OutputSize;
            if (_backward)
            {
                replica.Backward(new ReadOnlySpan<float>(_first + (long)start * outputs, size * outputs), network._parameters, member);
                return;
            }
            long inputLength = (long)TimeSteps * network.Options.InputSize;
            var chunkInputs = new ReadOnlySpan<float>(_first + start * inputLength, checked((int)(size * inputLength)));
            var chunkOutputs = new Span<float>(_second + (long)start * outputs, size * outputs);
            ulong dropoutSeed = DeterministicRandom.DeriveSeed(network._dropoutSeed, ((ulong)_step << 20) | (uint)(_firstChunk + chunk));
            replica.Forward(chunkInputs, size, TimeSteps, chunkOutputs, _training, network._parameters, dropoutSeed, _version, member);
        }
    }

    /// <summary>
    /// One micro-batch's layers and buffers; its GEMMs run on the thread, or the team of threads, that runs it. With a
    /// team, the leader does what is not split (the input copy, dropout, the head) while the others wait.
    /// </summary>
    private sealed class Replica
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

        /// <summary>A replica whose layers pack their own weights, or, with <paramref name="weightsOwner"/>, read that replica's.</summary>
        public Replica(NetworkOptions options, ParameterLayout layout, Replica? weightsOwner)
        {
            _options = options;
            Gradients = new float[layout.TotalLength];
            _layers = new RecurrentLayer[options.Layers];
            _dropouts = new DropoutLayer?[options.Layers];
            for (int l = 0; l < options.Layers; l++)
            {
                int input = l == 0 ? options.InputSize : options.HiddenSize;
                _layers[l] = options.Cell == CellType.Lstm
                    ? new LstmLayer(_context, l, input, options.HiddenSize, layout, (LstmLayer?)weightsOwner?._layers[l])
                    : new GruLayer(_context, l, input, options.HiddenSize, layout, (GruLayer?)weightsOwner?._layers[l]);
                if (options.Dropout > 0 && l < options.Layers - 1) _dropouts[l] = new DropoutLayer(options.Dropout);
            }
            _head = new DenseLayer(_context, options.HiddenSize, options.OutputSize, layout);
        }

        /// <summary>The recurrent layers, first to last.</summary>
        public RecurrentLayer[] Layers => _layers;

        /// <summary>The weights version the packed copies were built from (0: never packed).</summary>
        private long _packedVersion;

        /// <summary>This micro-batch's gradients, written (not accumulated) by each backward pass.</summary>
        public float[] Gradients { get; }

        public void Forward(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs, bool training, ReadOnlySpan<float> parameters, ulong dropoutSeed, long version, TeamMember member)
        {
            int features = _options.InputSize, hidden = _options.HiddenSize;
            // Read by every member before the first sync; the leader updates it after the last one.
            bool weightsChanged = _packedVersion != version;
            if (member.IsLeader)
            {
                _batch = batch;
                _timeSteps = timeSteps;
                Buffers.Ensure(ref _input, (long)timeSteps * features * batch);
                for (int b = 0; b < batch; b++)
                    for (int t = 0; t < timeSteps; t++)
                        for (int f = 0; f < features; f++)
                            _input[(t * features + f) * batch + b] = inputs[(b * timeSteps + t) * features + f];
                if (training) _random.Reseed(dropoutSeed);
            }
            member.Sync();

            ReadOnlySpan<float> layerInput = _input.AsSpan(0, timeSteps * features * batch);
            int sequence = timeSteps * hidden * batch;
            for (int l = 0; l < _layers.Length; l++)
            {
                // The pass packed the shared recurrent weights for this version (Pass.PackWeights).
                _layers[l].Forward(layerInput, parameters, timeSteps, batch, weightsChanged, member, weightsPacked: true);
                layerInput = _layers[l].Output;
                if (training && _dropouts[l] is { } dropout)
                {
                    if (member.IsLeader) dropout.Forward(layerInput, _random);
                    member.Sync();
                    layerInput = dropout.Output(sequence);
                }
            }
            if (!member.IsLeader) return;
            var last = _layers[^1].Output.Slice((timeSteps - 1) * hidden * batch, hidden * batch);
            _head.Forward(last, parameters, batch, weightsChanged, outputs);
            _packedVersion = version;
        }

        public void Backward(ReadOnlySpan<float> dOutputs, ReadOnlySpan<float> parameters, TeamMember member)
        {
            int batch = _batch, t = _timeSteps, hidden = _options.HiddenSize, features = _options.InputSize;
            int step = hidden * batch, sequence = t * step;
            var dOutput = Span<float>.Empty;
            if (member.IsLeader)
            {
                Buffers.Ensure(ref _dSequenceA, sequence);
                Buffers.Ensure(ref _dSequenceB, sequence);
                Buffers.Ensure(ref _dLast, step);
                Array.Clear(Gradients);
                _head.Backward(_layers[^1].Output.Slice((t - 1) * step, step), dOutputs, Gradients, _dLast.AsSpan(0, step));
                dOutput = _dSequenceA.AsSpan(0, sequence);
                dOutput[..((t - 1) * step)].Clear();
                _dLast.AsSpan(0, step).CopyTo(dOutput[((t - 1) * step)..]);
            }
            member.Sync();
            dOutput = _dSequenceA.AsSpan(0, sequence);
            var dInput = _dSequenceB.AsSpan(0, sequence);
            for (int l = _layers.Length - 1; l >= 0; l--)
            {
                ReadOnlySpan<float> input = l == 0 ? _input.AsSpan(0, t * features * batch)
                    : _dropouts[l - 1] is { } dropout ? dropout.Output(sequence) : _layers[l - 1].Output;
                var dIn = l == 0 ? Span<float>.Empty : dInput;
                _layers[l].Backward(input, dOutput, dIn, parameters, Gradients, member);
                if (l == 0) break;
                if (_dropouts[l - 1] is { } mask)
                {
                    if (member.IsLeader) mask.Backward(dIn);
                    member.Sync();
                }
                var swap = dOutput;
                dOutput = dIn;
                dInput = swap;
            }
        }
    }

    /// <summary>Packs part of every recurrent layer's shared weights (<see cref="RecurrentLayer.PackWeightRows"/>); reused, allocation-free.</summary>
    private sealed class WeightPacking : IParallelWork
    {
        public RecurrentLayer[] Layers { get; set; } = [];

        public float[] Parameters { get; set; } = [];

        public void Execute(int part, int parts)
        {
            foreach (var layer in Layers) layer.PackWeightRows(Parameters, part, parts);
        }
    }
}
