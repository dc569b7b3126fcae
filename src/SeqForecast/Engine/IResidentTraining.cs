namespace SeqForecast.Engine;

/// <summary>
/// An optional capability of an <see cref="INetworkSession"/>: training windows held where the network runs (a GPU's
/// memory), so that each training step sends only the batch's window indices instead of the windows' values. The
/// <see cref="Training.Trainer"/> uses it when the session takes the whole training set; the steps are the same
/// computations on the same values, so the weights come out as they would without it.
/// </summary>
public interface IResidentTraining
{
    /// <summary>
    /// Whether the session would hold <paramref name="windows"/> windows of <paramref name="timeSteps"/> steps (with its
    /// network's input and target sizes) on its device, within its backend's limit, for its loss. Resident windows hold
    /// inputs and targets only, no <see cref="LossContext"/>, so a session takes them only for losses that need none.
    /// </summary>
    bool TakesResidentWindows(long windows, int timeSteps);

    /// <summary>Allocates room for <paramref name="windows"/> windows of <paramref name="timeSteps"/> steps on the session's device.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is not positive.</exception>
    /// <exception cref="InsufficientMemoryException">The device has no room for them; the <see cref="Training.Trainer"/>
    /// then trains on uploaded batches.</exception>
    IResidentWindows CreateResidentWindows(int windows, int timeSteps);

    /// <summary>
    /// <see cref="INetworkSession.TrainStep"/> on windows <paramref name="indices"/> of <paramref name="windows"/>,
    /// gathered on the device; the same step as passing those windows' inputs and targets, in that order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the windows, or there are none.</exception>
    /// <exception cref="ArgumentException"><paramref name="windows"/> was made by another session.</exception>
    double TrainStep(IResidentWindows windows, ReadOnlySpan<int> indices);
}

/// <summary>Training windows on a session's device (see <see cref="IResidentTraining"/>); dispose to free the device memory.</summary>
public interface IResidentWindows : IDisposable
{
    /// <summary>How many windows there is room for.</summary>
    int Count { get; }

    /// <summary>Time steps of each window.</summary>
    int TimeSteps { get; }

    /// <summary>
    /// Copies <paramref name="count"/> windows, inputs <c>[count, time, features]</c> and targets
    /// <c>[count, targets]</c>, into windows [<paramref name="first"/>, first + count).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the windows.</exception>
    /// <exception cref="ArgumentException">A buffer is too short for <paramref name="count"/> windows.</exception>
    void Write(int first, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int count);
}
