using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SeqForecast.Engine.Kernels;

namespace SeqForecast.Tests.Engine.Kernels;

public class SimdTests
{
    private static readonly Simd.VectorSupport Avx512Accelerated = new(true, true, true, true);
    private static readonly Simd.VectorSupport Avx512Throttled = new(false, true, true, true); // .NET prefers 256 bits
    private static readonly Simd.VectorSupport Avx2 = new(false, false, true, true);
    private static readonly Simd.VectorSupport Neon = new(false, false, false, true);
    private static readonly Simd.VectorSupport Scalar = new(false, false, false, false);

    private static IEnumerable<TestCaseData> Choices()
    {
        TestCaseData Case(Simd.VectorSupport support, string? @override, string? preferred, int expected, string name) =>
            new TestCaseData(support.Accelerated512, support.Has512, support.Accelerated256, support.Fused128, @override, preferred)
            { ExpectedResult = expected, TestName = $"ChooseVectorBits_{name}" };
        yield return Case(Avx512Accelerated, null, null, 512, "Avx512");
        yield return Case(Avx512Throttled, null, null, 512, "Avx512WhereDotnetPrefers256");
        yield return Case(Avx512Throttled, null, "256", 256, "ExplicitPreferredWidthIsFollowed");
        yield return Case(Avx512Throttled, "", " ", 512, "BlankSettingsAreUnset");
        yield return Case(Avx2, null, null, 256, "Avx2");
        yield return Case(Neon, null, null, 128, "Neon");
        yield return Case(Scalar, null, null, 0, "NoVectors");
        yield return Case(Avx512Throttled, "512", "256", 512, "OverrideWinsOverPreferredWidth");
        yield return Case(Avx2, "512", null, 256, "Override512NeedsAvx512");
        yield return Case(Avx512Accelerated, " 256 ", null, 256, "Override256");
        yield return Case(Avx512Accelerated, "128", null, 128, "Override128");
        yield return Case(Scalar, "128", null, 0, "Override128NeedsFusedVectors");
        yield return Case(Avx2, "0", null, 0, "Override0IsScalar");
        yield return Case(Neon, "256", null, 128, "Override256NeedsTheHardware");
        yield return Case(Avx2, "wide", null, 256, "UnknownOverrideIsIgnored");
    }

    [TestCaseSource(nameof(Choices))]
    public int ChooseVectorBits_FollowsTheDocumentedOrder(bool accelerated512, bool has512, bool accelerated256, bool fused128, string? @override, string? preferredWidth) =>
        Simd.ChooseVectorBits(new Simd.VectorSupport(accelerated512, has512, accelerated256, fused128), @override, preferredWidth);

    [Test]
    public void VectorBits_UsesAvx512WhereverThisCpuHasIt()
    {
        string? engine = Environment.GetEnvironmentVariable("SEQFORECAST_VECTOR_BITS")?.Trim();
        string? runtime = Environment.GetEnvironmentVariable("DOTNET_PreferredVectorBitWidth");
        bool avx512 = Avx512F.IsSupported && Avx512BW.IsSupported && Avx512CD.IsSupported && Avx512DQ.IsSupported;
        TestContext.Out.WriteLine($"AVX-512 {avx512}, Vector512.IsHardwareAccelerated {Vector512.IsHardwareAccelerated}, " +
            $"SEQFORECAST_VECTOR_BITS '{engine}', DOTNET_PreferredVectorBitWidth '{runtime}': kernels {Simd.VectorBits} bits wide");
        Assert.Multiple(() =>
        {
            if (engine is "512" or "256" or "128" or "0") Assert.That(Simd.VectorBits, Is.LessThanOrEqualTo(int.Parse(engine) == 0 ? 0 : 512));
            else if (avx512 && string.IsNullOrWhiteSpace(runtime)) Assert.That(Simd.VectorBits, Is.EqualTo(512));
            else if (!avx512) Assert.That(Simd.VectorBits, Is.LessThan(512));
            if (engine == "512" && avx512) Assert.That(Simd.VectorBits, Is.EqualTo(512));
            if (engine == "128") Assert.That(Simd.VectorBits, Is.EqualTo(128).Or.EqualTo(0));
            Assert.That(Simd.Vector512Enabled, Is.EqualTo(Simd.VectorBits == 512));
            Assert.That(Simd.Vector256Enabled, Is.EqualTo(Simd.VectorBits >= 256));
        });
    }
}

public class ManagedBackendVectorBitsTests
{
    [Test]
    public void VectorBits_NamesTheKernelsThisProcessRuns()
    {
        int expected = (SeqForecast.Engine.Kernels.Gemm.MR, SeqForecast.Engine.Kernels.Gemm.NR) switch { (8, 32) => 512, (6, 16) => 256, (8, 8) => 128, _ => 0 };
        Assert.Multiple(() =>
        {
            Assert.That(SeqForecast.Engine.Managed.ManagedBackend.VectorBits, Is.EqualTo(expected));
            Assert.That(SeqForecast.Engine.Kernels.Gemm.VectorWidth, Is.EqualTo(expected switch { 512 => 16, 256 => 8, 128 => 4, _ => 1 }));
        });
    }
}
