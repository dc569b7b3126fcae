namespace SeqForecast.Engine.Kernels;

/// <summary>
/// A fixed group of threads that works on one micro-batch together: each member computes its share of every step
/// (rows of a GEMM, hidden units of a cell), and <see cref="TeamMember.Sync"/> waits until all members are done with
/// the step before anyone reads what the others wrote.
/// </summary>
/// <remarks>
/// <para>Every split is of independent outputs on fixed boundaries (<see cref="TeamMember.Range"/>), and each output is
/// computed by the same code in the same order as on one thread, so a team gets the same bits as a single thread.</para>
/// <para>The barrier spins (one step of a recurrence is microseconds, too short to sleep). A member that fails calls
/// <see cref="Abort"/>; the others then leave their barrier with <see cref="TeamAbortedException"/> instead of waiting
/// for it forever.</para>
/// </remarks>
internal sealed class Team
{
    /// <summary>The team of one: <see cref="TeamMember.Sync"/> returns at once.</summary>
    public static readonly Team Solo = new(1);

    private int _remaining;
    private int _generation;
    private volatile bool _aborted;

    /// <summary>Creates a team of <paramref name="size"/> members.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 1.</exception>
    public Team(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Size = size;
        _remaining = size;
    }

    /// <summary>Members of the team.</summary>
    public int Size { get; }

    /// <summary>Member <paramref name="index"/> of this team.</summary>
    public TeamMember Member(int index) => new(this, index);

    /// <summary>Readies the barrier for a new region (after an aborted one, too). Call while no member is running.</summary>
    public void Reset()
    {
        _aborted = false;
        Volatile.Write(ref _remaining, Size);
    }

    /// <summary>Makes every member waiting in, or later reaching, the barrier throw <see cref="TeamAbortedException"/>.</summary>
    public void Abort() => _aborted = true;

    internal void Sync()
    {
        if (Size == 1) return;
        if (_aborted) throw new TeamAbortedException();
        int generation = Volatile.Read(ref _generation);
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            Volatile.Write(ref _remaining, Size);
            Interlocked.Increment(ref _generation);
            return;
        }
        var spinner = new SpinWait();
        while (Volatile.Read(ref _generation) == generation)
        {
            if (_aborted) throw new TeamAbortedException();
            spinner.SpinOnce(sleep1Threshold: -1);
        }
    }
}

/// <summary>One member of a <see cref="Team"/>: its index, and its share of a split.</summary>
internal readonly struct TeamMember(Team team, int index)
{
    /// <summary>The only member of <see cref="Team.Solo"/>.</summary>
    public static TeamMember Solo => new(Team.Solo, 0);

    /// <summary>This member's index in [0, <see cref="Size"/>).</summary>
    public int Index { get; } = index;

    /// <summary>Members of the team.</summary>
    public int Size => team.Size;

    /// <summary>Member 0 does the work that is not split (setup, packing shared operands, the head).</summary>
    public bool IsLeader => Index == 0;

    /// <summary>Waits until every member has reached this point.</summary>
    /// <exception cref="TeamAbortedException">Another member failed.</exception>
    public void Sync() => team.Sync();

    /// <summary>This member's share [start, end) of <paramref name="count"/> items cut into <see cref="Size"/> contiguous parts, the first ones one larger.</summary>
    public (int Start, int End) Range(int count) => Split(count, Index, Size);

    /// <summary>Part <paramref name="part"/> of <paramref name="count"/> items cut into <paramref name="parts"/> contiguous parts.</summary>
    public static (int Start, int End) Split(int count, int part, int parts)
    {
        int size = count / parts, extra = count % parts;
        int start = part * size + Math.Min(part, extra);
        return (start, start + size + (part < extra ? 1 : 0));
    }
}

/// <summary>Thrown in a team member when another member of its team failed; the original exception is reported instead.</summary>
internal sealed class TeamAbortedException() : Exception("another member of the team failed");
