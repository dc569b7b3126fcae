using SeqForecast.Engine;
using SeqForecast.Engine.Kernels;
using SeqForecast.Engine.Managed;

namespace SeqForecast.Tests.Engine.Kernels;

public class TeamTests
{
    [TestCase(10, 3)]
    [TestCase(2, 5)]
    [TestCase(7, 7)]
    [TestCase(0, 2)]
    public void Range_CoversEveryItemOnceInOrder(int count, int parts)
    {
        var team = new Team(parts);
        var ranges = Enumerable.Range(0, parts).Select(i => team.Member(i).Range(count)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(ranges[0].Start, Is.EqualTo(0));
            Assert.That(ranges[^1].End, Is.EqualTo(count));
            for (int i = 1; i < parts; i++) Assert.That(ranges[i].Start, Is.EqualTo(ranges[i - 1].End));
            Assert.That(ranges.Max(r => r.End - r.Start) - ranges.Min(r => r.End - r.Start), Is.LessThanOrEqualTo(1));
        });
    }

    [Test]
    public void Sync_NoMemberPassesBeforeAllArrive()
    {
        const int size = 3, rounds = 2000;
        var team = new Team(size);
        var arrived = new int[rounds];
        var violations = 0;
        var threads = Enumerable.Range(0, size).Select(index => new Thread(() =>
        {
            var member = team.Member(index);
            for (int r = 0; r < rounds; r++)
            {
                Interlocked.Increment(ref arrived[r]);
                member.Sync();
                if (Volatile.Read(ref arrived[r]) != size) Interlocked.Increment(ref violations);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.That(threads.All(t => t.Join(TimeSpan.FromSeconds(60))), Is.True, "every member finished");
        Assert.That(violations, Is.Zero);
    }

    [Test]
    public void Sync_ThrowsTeamAbortedWhenAnotherMemberFails()
    {
        var team = new Team(2);
        Exception? waiting = null;
        var waiter = new Thread(() =>
        {
            try { team.Member(1).Sync(); }
            catch (Exception ex) { waiting = ex; }
        });
        waiter.Start();
        Thread.Sleep(50);
        team.Abort();
        Assert.That(waiter.Join(TimeSpan.FromSeconds(10)), Is.True, "the waiting member left the barrier");
        Assert.That(waiting, Is.InstanceOf<TeamAbortedException>());

        team.Reset();
        var other = new Thread(() => team.Member(1).Sync());
        other.Start();
        team.Member(0).Sync();
        Assert.That(other.Join(TimeSpan.FromSeconds(10)), Is.True, "after Reset the barrier works again");
    }

    [Test]
    public void Constructor_RejectsSizeBelowOne()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Team(0));
        Assert.That(ex!.ParamName, Is.EqualTo("size"));
    }

    [TestCase(CellType.Lstm, 256, 16, 8, 256, 2)]   // large config on 16 threads: eight micro-batches, two threads each
    [TestCase(CellType.Lstm, 64, 16, 2, 64, 4)]     // reference config: limited to 256 gate rows / 64
    [TestCase(CellType.Gru, 64, 16, 2, 64, 3)]
    [TestCase(CellType.Lstm, 256, 2, 1, 32, 2)]
    [TestCase(CellType.Lstm, 256, 2, 2, 64, 1)]     // as many micro-batches as threads: one thread each
    [TestCase(CellType.Lstm, 256, 3, 2, 64, 1)]
    [TestCase(CellType.Lstm, 256, 16, 1, 4, 1)]     // narrow: prediction of a few windows
    [TestCase(CellType.Lstm, 8, 16, 1, 32, 1)]      // 32 gate rows: too small to share
    public void TeamSizeFor_SharesLeftoverThreads(CellType cell, int hidden, int threads, int chunks, int batch, int expected)
    {
        var options = new NetworkOptions(cell, 1, hidden, 2, 1);
        Assert.That(ManagedNetwork.TeamSizeFor(threads, chunks, batch, options), Is.EqualTo(expected));
    }
}
