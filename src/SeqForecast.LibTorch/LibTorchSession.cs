using SeqForecast.Engine;
using SeqForecast.Training;

namespace SeqForecast.LibTorch;

/// <summary>
/// One libtorch model with its optimizer. With MSE, MAE or Huber a training step is one native call (forward, loss,
/// backward, clipping, optimizer step); the other losses (pinball, scaled MAE, sMAPE) run the forward pass natively,
/// compute the loss and its gradient in managed code (<see cref="LossFunctions"/>, the same code as the managed
/// engine) and backpropagate natively. With <see cref="DistributedOptions"/> each training step computes this rank's
/// share of the batch and averages gradients and loss over the process group. Thread safety as <see cref="INetworkSession"/> says: predictions run
/// concurrently, training and parameter changes exclusively. Dispose frees the native model; a session that is never
/// disposed is freed by its SafeHandle's finalizer.
/// </summary>
public sealed unsafe class LibTorchSession : INetworkSession, IResidentTraining
{
    private readonly ModelHandle _handle;
    private readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    private readonly bool _nativeLoss;
    private float[] _outputs = [];
    private float[] _dOutputs = [];
    private double _learningRate;
    private DistributedOptions? _distributed;
    private long[] _indices = [];

    internal LibTorchSession(ModelHandle handle, NetworkOptions network, TrainingSetup training, long residentBytes = 0)
    {
        ResidentLimitBytes = residentBytes;
        _handle = handle;
        Network = network;
        Training = training;
        Layout = ParameterLayout.For(network);
        _learningRate = training.Optimizer.LearningRate;
        _nativeLoss = training.Loss.Kind is LossKind.Mse or LossKind.Mae or LossKind.Huber;
    }

    /// <inheritdoc />
    public NetworkOptions Network { get; }

    /// <summary>
    /// Mixed precision: the current loss scale and the training steps skipped so far because their gradients were not
    /// finite (the scale then halves, by default). Other modes: 1 and 0.
    /// </summary>
    public LossScaleState LossScale
    {
        get
        {
            EnterRead();
            try
            {
                NativeMethods.Check(NativeMethods.sf_loss_scale(_handle, out var scale, out var skipped), "loss scale");
                return new LossScaleState(scale, skipped);
            }
            finally
            {
                _lock.ExitReadLock();
            }
        }
    }

    /// <summary>The process group this session trains over, or null.</summary>
    public DistributedOptions? Distributed => _distributed;

    /// <inheritdoc />
    public ParameterLayout Layout { get; }

    /// <inheritdoc />
    public TrainingSetup Training { get; }

    /// <inheritdoc />
    public double LearningRate
    {
        get => Volatile.Read(ref _learningRate);
        set
        {
            if (!(value > 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), value, $"learning rate ({value}) must be finite and > 0");
            Exclusive(() => NativeMethods.Check(NativeMethods.sf_set_learning_rate(_handle, value), "set learning rate"));
            Volatile.Write(ref _learningRate, value);
        }
    }

    /// <inheritdoc />
    /// <remarks>With a process group, every rank passes the whole batch; each computes its rows and the returned loss is the
    /// mean over all of them.</remarks>
    public double TrainStep(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, LossContext context = default)
    {
        CheckBatch(inputs, batch, timeSteps);
        var truth = CheckTargets(targets, batch);
        int rows = batch;
        if (_distributed is { } group)
        {
            // This rank's contiguous rows; the loss context is per row too (scale and offset per value, weight per window).
            var (start, end) = group.Share(batch);
            rows = end - start;
            int stepFloats = timeSteps * Network.InputSize, values = truth.Length / batch;
            inputs = inputs.Slice(start * stepFloats, rows * stepFloats);
            truth = truth.Slice(start * values, rows * values);
            if (!context.IsEmpty)
                context = new LossContext(context.Scale.Slice(start * values, rows * values), context.Offset.Slice(start * values, rows * values), context.Weight.Slice(start, rows));
        }
        EnterWrite();
        try
        {
            fixed (float* x = inputs)
            fixed (float* y = truth)
            {
                if (_nativeLoss)
                {
                    NativeMethods.Check(NativeMethods.sf_train_step(_handle, x, y, rows, timeSteps, out var nativeLoss), "train step");
                    return nativeLoss;
                }
                var outputs = Buffer(ref _outputs, rows);
                var dOutputs = Buffer(ref _dOutputs, rows);
                fixed (float* o = outputs)
                    NativeMethods.Check(NativeMethods.sf_forward_train(_handle, x, rows, timeSteps, o), "train step (forward)");
                double loss = rows > 0 ? LossFunctions.Compute(Training.Loss, outputs, truth, context, dOutputs) : 0;
                fixed (float* d = dOutputs)
                    NativeMethods.Check(NativeMethods.sf_backward_step(_handle, d, ref loss), "train step (backward)");
                return loss;
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>
    /// Bytes of training windows this session keeps on its device for <see cref="IResidentTraining"/> (from
    /// <see cref="LibTorchBackend.ResidentWindowBytes"/>; 0: none).
    /// </summary>
    public long ResidentLimitBytes { get; }

    /// <inheritdoc />
    /// <remarks>True when the windows' inputs and targets fit in <see cref="ResidentLimitBytes"/> and the loss runs
    /// natively (MSE, MAE, Huber); the other losses need each batch's outputs on the host anyway.</remarks>
    public bool TakesResidentWindows(long windows, int timeSteps)
    {
        if (windows <= 0 || timeSteps <= 0 || !_nativeLoss || ResidentLimitBytes <= 0) return false;
        return windows <= ResidentLimitBytes / WindowBytes(timeSteps);
    }

    /// <summary>Device bytes of one resident window: its inputs and targets in float32.</summary>
    private long WindowBytes(int timeSteps) => ((long)timeSteps * Network.InputSize + Network.OutputSize) * sizeof(float);

    /// <inheritdoc />
    public IResidentWindows CreateResidentWindows(int windows, int timeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeSteps);
        EnterWrite();
        try
        {
            int status = NativeMethods.sf_windows_create(_handle, windows, timeSteps, out var pointer);
            if (status == 2)
            {
                throw new InsufficientMemoryException($"the device has no room for {windows} resident windows of {timeSteps} steps ({windows * WindowBytes(timeSteps):N0} bytes; libtorch: {NativeMethods.LastError()}); lower LibTorchBackend.WithResidentWindows or free device memory");
            }
            NativeMethods.Check(status, $"allocating {windows} resident windows of {timeSteps} steps");
            return new LibTorchResidentWindows(this, WindowsHandle.Wrap(pointer), windows, timeSteps, Network.InputSize, Network.OutputSize);
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    internal void WriteResident(WindowsHandle windows, int first, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count)
    {
        EnterWrite();
        try
        {
            fixed (float* x = inputs)
            fixed (float* y = targets)
                NativeMethods.Check(NativeMethods.sf_windows_write(windows, first, x, y, count), "writing resident windows");
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    /// <remarks>With a process group, every rank passes the whole batch's indices; each trains on its share of them,
    /// as <see cref="TrainStep(ReadOnlySpan{float}, ReadOnlySpan{float}, int, int, LossContext)"/> does.</remarks>
    public double TrainStep(IResidentWindows windows, ReadOnlySpan<int> indices)
    {
        ArgumentNullException.ThrowIfNull(windows);
        if (windows is not LibTorchResidentWindows resident || !ReferenceEquals(resident.Owner, this))
            throw new ArgumentException("the resident windows were created by another session; create them with this session's CreateResidentWindows", nameof(windows));
        if (indices.IsEmpty) throw new ArgumentOutOfRangeException(nameof(indices), 0, "a training step needs at least one window index");
        for (int i = 0; i < indices.Length; i++)
            if ((uint)indices[i] >= (uint)resident.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), indices[i], $"window index {indices[i]} (position {i}) must be in [0, {resident.Count})");
        if (_distributed is { } group)
        {
            var (start, end) = group.Share(indices.Length);
            indices = indices[start..end];
        }
        EnterWrite();
        try
        {
            ObjectDisposedException.ThrowIf(resident.Handle.IsClosed, resident);
            if (_indices.Length < indices.Length) _indices = new long[indices.Length];
            for (int i = 0; i < indices.Length; i++) _indices[i] = indices[i];
            double loss;
            fixed (long* rows = _indices)
                NativeMethods.Check(NativeMethods.sf_train_step_indexed(_handle, resident.Handle, rows, indices.Length, out loss), "train step (resident windows)");
            return loss;
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <summary>Joins <paramref name="group"/>: parameters are broadcast from rank 0 and later steps average over it.</summary>
    internal void Join(LibTorchProcessGroup group)
    {
        Exclusive(() => group.Attach(_handle));
        _distributed = group.Options;
    }

    /// <inheritdoc />
    public double EvaluateLoss(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int batch, int timeSteps, LossContext context = default)
    {
        CheckBatch(inputs, batch, timeSteps);
        var truth = CheckTargets(targets, batch);
        EnterWrite();
        try
        {
            fixed (float* x = inputs)
            fixed (float* y = truth)
            {
                if (_nativeLoss)
                {
                    NativeMethods.Check(NativeMethods.sf_evaluate(_handle, x, y, batch, timeSteps, out var nativeLoss), "evaluate");
                    return nativeLoss;
                }
                var outputs = Buffer(ref _outputs, batch);
                fixed (float* o = outputs)
                    NativeMethods.Check(NativeMethods.sf_predict(_handle, x, batch, timeSteps, o), "evaluate");
                return LossFunctions.Compute(Training.Loss, outputs, truth, context, Span<float>.Empty);
            }
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public void Predict(ReadOnlySpan<float> inputs, int batch, int timeSteps, Span<float> outputs)
    {
        CheckBatch(inputs, batch, timeSteps);
        if (outputs.Length < (long)batch * Network.OutputSize)
            throw new ArgumentException($"outputs has {outputs.Length} floats; batch {batch} × outputs {Network.OutputSize} needs {(long)batch * Network.OutputSize}", nameof(outputs));
        EnterRead();
        try
        {
            fixed (float* x = inputs)
            fixed (float* y = outputs)
                NativeMethods.Check(NativeMethods.sf_predict(_handle, x, batch, timeSteps, y), "predict");
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public void CopyParametersTo(Span<float> destination)
    {
        if (destination.Length < Layout.TotalLength)
            throw new ArgumentException($"destination has {destination.Length} floats; the network has {Layout.TotalLength} parameters", nameof(destination));
        EnterRead();
        try
        {
            fixed (float* d = destination)
                foreach (var p in Layout.Parameters)
                    NativeMethods.Check(NativeMethods.sf_get_parameter(_handle, p.Name, d + p.Offset, p.Length), $"get parameter '{p.Name}'");
        }
        finally
        {
            _lock.ExitReadLock();
        }
    }

    /// <inheritdoc />
    public void LoadParameters(ReadOnlySpan<float> source)
    {
        if (source.Length != Layout.TotalLength)
            throw new ArgumentException($"source has {source.Length} floats; the network has {Layout.TotalLength} parameters", nameof(source));
        EnterWrite();
        try
        {
            fixed (float* s = source)
                foreach (var p in Layout.Parameters)
                    NativeMethods.Check(NativeMethods.sf_set_parameter(_handle, p.Name, s + p.Offset, p.Length), $"set parameter '{p.Name}'");
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Waits for calls in flight, so the native model is never freed under them.
        _lock.EnterWriteLock();
        try
        {
            _handle.Dispose();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private void EnterRead()
    {
        _lock.EnterReadLock();
        if (!_handle.IsClosed) return;
        _lock.ExitReadLock();
        throw new ObjectDisposedException(nameof(LibTorchSession));
    }

    private void EnterWrite()
    {
        _lock.EnterWriteLock();
        if (!_handle.IsClosed) return;
        _lock.ExitWriteLock();
        throw new ObjectDisposedException(nameof(LibTorchSession));
    }

    private void Exclusive(Action action)
    {
        EnterWrite();
        try
        {
            action();
        }
        finally
        {
            _lock.ExitWriteLock();
        }
    }

    private Span<float> Buffer(ref float[] buffer, int batch)
    {
        int length = batch * Network.OutputSize;
        if (buffer.Length < length) buffer = new float[length];
        return buffer.AsSpan(0, length);
    }

    private void CheckBatch(ReadOnlySpan<float> inputs, int batch, int timeSteps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timeSteps);
        long needed = (long)batch * timeSteps * Network.InputSize;
        if (inputs.Length < needed)
            throw new ArgumentException($"inputs has {inputs.Length} floats; batch {batch} × time {timeSteps} × features {Network.InputSize} needs {needed}", nameof(inputs));
    }

    private ReadOnlySpan<float> CheckTargets(ReadOnlySpan<float> targets, int batch)
    {
        int values = Network.OutputSize / Training.Loss.OutputsPerValue;
        long needed = (long)batch * values;
        if (targets.Length < needed)
            throw new ArgumentException($"targets has {targets.Length} floats; batch {batch} × {values} target values needs {needed}", nameof(targets));
        return targets[..(int)needed];
    }
}
