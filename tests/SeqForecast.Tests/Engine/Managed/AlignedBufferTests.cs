using SeqForecast.Engine.Managed;

namespace SeqForecast.Tests.Engine.Managed;

public class AlignedBufferTests
{
    [TestCase(0)]
    [TestCase(1)]
    [TestCase(17)]
    [TestCase(100_000)]
    public void Buffer_StartsOnACacheLineAndIsZeroed(int length)
    {
        for (int i = 0; i < 20; i++)
        {
            var buffer = new AlignedBuffer(length);
            Assert.That(buffer.Length, Is.EqualTo(length));
            if (length > 0)
                Assert.That(AddressOf(buffer) % 64, Is.EqualTo(0));
            Assert.That(buffer.AsSpan().ToArray(), Is.All.EqualTo(0f));
        }
    }

    private static unsafe long AddressOf(AlignedBuffer buffer)
    {
        fixed (float* p = buffer.AsSpan()) return (long)p;
    }

    [Test]
    public void Indexer_ChecksBounds()
    {
        var buffer = new AlignedBuffer(3);
        buffer[2] = 4f;
        Assert.That(buffer.AsSpan(2, 1)[0], Is.EqualTo(4f));
        Assert.Throws<IndexOutOfRangeException>(() => buffer[3] = 1f);
        Assert.Throws<IndexOutOfRangeException>(() => buffer[-1] = 1f);
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new AlignedBuffer(-1));
    }
}
