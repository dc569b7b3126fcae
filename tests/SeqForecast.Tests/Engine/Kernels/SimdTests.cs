using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SeqForecast.Engine.Kernels;

namespace SeqForecast.Tests.Engine.Kernels;

public class SimdTests
{
    // accelerated: the runtime's Vector512.IsHardwareAccelerated; supported: the CPU has AVX-512 F/BW/CD/DQ.
    [TestCase(true, true, null, null, ExpectedResult = true)]
    [TestCase(false, true, null, null, ExpectedResult = true)] // the runtime prefers 256 bits for throttling parts
    [TestCase(false, false, null, null, ExpectedResult = false)]
    [TestCase(false, true, null, "256", ExpectedResult = false)] // an explicit preferred width is followed
    [TestCase(true, true, null, "512", ExpectedResult = true)]
    [TestCase(false, true, "512", "256", ExpectedResult = true)] // the engine's own switch wins
    [TestCase(true, true, "256", null, ExpectedResult = false)]
    [TestCase(false, false, "512", null, ExpectedResult = false)] // never without the instructions
    [TestCase(false, true, " 512 ", null, ExpectedResult = true)]
    [TestCase(false, true, "wide", null, ExpectedResult = true)] // unknown values are ignored
    [TestCase(false, true, "", "", ExpectedResult = true)]
    public bool ChooseVector512_FollowsTheDocumentedOrder(bool accelerated, bool supported, string? @override, string? preferredWidth) =>
        Simd.ChooseVector512(accelerated, supported, @override, preferredWidth);

    [Test]
    public void Vector512Enabled_UsesAvx512WhereverThisCpuHasIt()
    {
        string? engine = Environment.GetEnvironmentVariable("SEQFORECAST_VECTOR_BITS");
        string? runtime = Environment.GetEnvironmentVariable("DOTNET_PreferredVectorBitWidth");
        bool avx512 = Avx512F.IsSupported && Avx512BW.IsSupported && Avx512CD.IsSupported && Avx512DQ.IsSupported;
        TestContext.Out.WriteLine($"AVX-512 {avx512}, Vector512.IsHardwareAccelerated {Vector512.IsHardwareAccelerated}, " +
            $"SEQFORECAST_VECTOR_BITS '{engine}', DOTNET_PreferredVectorBitWidth '{runtime}': kernels 512 bits wide {Simd.Vector512Enabled}");
        if (!avx512) Assert.That(Simd.Vector512Enabled, Is.False);
        else if (engine?.Trim() == "512") Assert.That(Simd.Vector512Enabled, Is.True);
        else if (engine?.Trim() == "256") Assert.That(Simd.Vector512Enabled, Is.False);
        else if (string.IsNullOrWhiteSpace(runtime)) Assert.That(Simd.Vector512Enabled, Is.True);
        else Assert.That(Simd.Vector512Enabled, Is.EqualTo(Vector512.IsHardwareAccelerated));
    }
}

public class ManagedBackendVectorBitsTests
{
    [Test]
    public void VectorBits_NamesTheKernelsThisProcessRuns()
    {
        int expected = SeqForecast.Engine.Kernels.Gemm.NR switch { 32 => 512, 16 => 256, _ => 0 };
        Assert.Multiple(() =>
        {
            Assert.That(SeqForecast.Engine.Managed.ManagedBackend.VectorBits, Is.EqualTo(expected));
            Assert.That(SeqForecast.Engine.Kernels.Gemm.VectorWidth == 1 ? 0 : SeqForecast.Engine.Kernels.Gemm.VectorWidth * 32, Is.EqualTo(expected));
        });
    }
}
