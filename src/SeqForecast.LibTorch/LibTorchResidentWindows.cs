using SeqForecast.Engine;

namespace SeqForecast.LibTorch;

/// <summary>
/// Training windows in a <see cref="LibTorchSession"/>'s device memory (<see cref="IResidentTraining"/>). Writes and
/// training steps that use them take the session exclusively; Dispose frees the device memory (its SafeHandle's
/// finalizer does when it is never disposed).
/// </summary>
internal sealed unsafe class LibTorchResidentWindows : IResidentWindows
{
    private readonly WindowsHandle _handle;
    private readonly int _inputFloats, _targetFloats;

    internal LibTorchResidentWindows(LibTorchSession owner, WindowsHandle handle, int count, int timeSteps, int inputSize, int targets)
    {
        Owner = owner;
        _handle = handle;
        Count = count;
        TimeSteps = timeSteps;
        _inputFloats = timeSteps * inputSize;
        _targetFloats = targets;
    }

    /// <summary>The session whose device holds the windows.</summary>
    internal LibTorchSession Owner { get; }

    internal WindowsHandle Handle => _handle;

    /// <inheritdoc />
    public int Count { get; }

    /// <inheritdoc />
    public int TimeSteps { get; }

    /// <inheritdoc />
    public void Write(int first, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count)
    {
        if (first < 0 || first > Count)
            throw new ArgumentOutOfRangeException(nameof(first), first, $"first window ({first}) must be in [0, {Count}]");
        if (count < 0 || count > Count - first)
            throw new ArgumentOutOfRangeException(nameof(count), count, $"count ({count}) must be in [0, {Count - first}]: windows [{first}, {first + count}) must lie in the {Count} resident windows");
        if (inputs.Length < (long)count * _inputFloats)
            throw new ArgumentException($"inputs has {inputs.Length} floats; {count} windows × {_inputFloats} floats need {(long)count * _inputFloats}", nameof(inputs));
        if (targets.Length < (long)count * _targetFloats)
            throw new ArgumentException($"targets has {targets.Length} floats; {count} windows × {_targetFloats} target values need {(long)count * _targetFloats}", nameof(targets));
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        Owner.WriteResident(_handle, first, inputs, targets, count);
    }

    /// <inheritdoc />
    public void Dispose() => _handle.Dispose();
}
