namespace SeqForecast.Engine;

/// <summary>
/// A group of processes that train one model together (data parallelism): every process runs the same program on the
/// same data with the same seed, computes its share of each training batch, and the group sums what the shares
/// produced. The managed engine trains over one with <see cref="Managed.ManagedBackend.WithProcessGroup"/>; the core
/// package has no implementation of its own. <c>SeqForecast.LibTorch</c>'s <c>LibTorchProcessGroup</c> is one over
/// libtorch's c10d and Gloo (TCP, any number of machines).
/// </summary>
/// <remarks>
/// Every member is a collective: every process of the group must call it, the same number of times, in the same order,
/// with spans of the same length. An implementation must give every process the same bits (so that their weights stay
/// identical), and must throw, not hang, when another process fails or stops answering: naming this process's rank
/// and the group's size in the message.
/// </remarks>
public interface IProcessGroup
{
    /// <summary>This process's rank. Range: 0 ≤ rank &lt; <see cref="WorldSize"/>.</summary>
    int Rank { get; }

    /// <summary>Number of processes in the group. Range: ≥ 1.</summary>
    int WorldSize { get; }

    /// <summary>
    /// Replaces every element of <paramref name="values"/> with its sum over the group's processes: on return every
    /// process holds the same values, bit for bit.
    /// </summary>
    /// <exception cref="Exception">Another process failed, left or did not answer in time (the implementation's own
    /// exception type, with this rank in its message).</exception>
    void AllReduceSum(Span<double> values);
}
