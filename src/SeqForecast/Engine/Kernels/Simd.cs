using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace SeqForecast.Engine.Kernels;

/// <summary>
/// Vector operations .NET 9 added to <see cref="Vector256"/> and <see cref="Vector512"/> (fused multiply-add, round,
/// copy-sign). On net10.0 they forward to the runtime; on net8.0 they use the x86 instructions directly, or a lane loop
/// of the same operation where those are missing. Every path computes the same bits: a fused multiply-add rounds once,
/// round is to nearest with ties to even, and copy-sign moves the sign bit.
/// </summary>
internal static class Simd
{
    /// <summary>
    /// Whether the engine's kernels (GEMM tiles, matrix-vector products, cell arithmetic) run 512 bits wide. True
    /// wherever the CPU has AVX-512 (F, BW, CD, DQ), including the Intel server parts on which .NET itself prefers
    /// 256-bit vectors because 512-bit instructions may lower the clock, and so reports
    /// <see cref="Vector512.IsHardwareAccelerated"/> as false while still compiling <see cref="Vector512{T}"/> to
    /// AVX-512. These kernels are FMA-bound, so twice the width outweighs the lower clock there, as it does for the
    /// vendor BLAS libraries. <c>SEQFORECAST_VECTOR_BITS=256</c> or <c>512</c> overrides the choice (512 only where
    /// AVX-512 is present); an explicit <c>DOTNET_PreferredVectorBitWidth</c> is followed when that is unset;
    /// <c>DOTNET_EnableAVX512=0</c> turns AVX-512 off altogether.
    /// </summary>
    public static readonly bool Vector512Enabled = ChooseVector512(
        Vector512.IsHardwareAccelerated,
        Avx512F.IsSupported && Avx512BW.IsSupported && Avx512CD.IsSupported && Avx512DQ.IsSupported,
        Environment.GetEnvironmentVariable("SEQFORECAST_VECTOR_BITS"),
        Environment.GetEnvironmentVariable("DOTNET_PreferredVectorBitWidth"));

    /// <summary>
    /// The rule behind <see cref="Vector512Enabled"/>: <paramref name="override"/> ("256" or "512"; anything else is
    /// ignored) wins, then an explicit <paramref name="preferredWidth"/> (the runtime's own report,
    /// <paramref name="accelerated"/>, already follows it), else 512 bits wherever <paramref name="supported"/>.
    /// </summary>
    internal static bool ChooseVector512(bool accelerated, bool supported, string? @override, string? preferredWidth)
    {
        switch (@override?.Trim())
        {
            case "256": return false;
            case "512": return supported;
        }
        if (!string.IsNullOrWhiteSpace(preferredWidth)) return accelerated;
        return accelerated || supported;
    }

    /// <summary>Whether the kernels run 256 bits wide or wider (AVX2-class hardware).</summary>
    public static bool Vector256Enabled => Vector256.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> FusedMultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c)
    {
#if NET9_0_OR_GREATER
        return Vector256.FusedMultiplyAdd(a, b, c);
#else
        if (Fma.IsSupported) return Fma.MultiplyAdd(a, b, c);
        Span<float> lanes = stackalloc float[Vector256<float>.Count];
        for (int i = 0; i < lanes.Length; i++) lanes[i] = MathF.FusedMultiplyAdd(a.GetElement(i), b.GetElement(i), c.GetElement(i));
        return Vector256.Create<float>(lanes);
#endif
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> FusedMultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c)
    {
#if NET9_0_OR_GREATER
        return Vector512.FusedMultiplyAdd(a, b, c);
#else
        if (Avx512F.IsSupported) return Avx512F.FusedMultiplyAdd(a, b, c);
        return Vector512.Create(FusedMultiplyAdd(a.GetLower(), b.GetLower(), c.GetLower()), FusedMultiplyAdd(a.GetUpper(), b.GetUpper(), c.GetUpper()));
#endif
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Round(Vector256<float> value)
    {
#if NET9_0_OR_GREATER
        return Vector256.Round(value);
#else
        if (Avx.IsSupported) return Avx.RoundToNearestInteger(value);
        Span<float> lanes = stackalloc float[Vector256<float>.Count];
        for (int i = 0; i < lanes.Length; i++) lanes[i] = MathF.Round(value.GetElement(i), MidpointRounding.ToEven);
        return Vector256.Create<float>(lanes);
#endif
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Round(Vector512<float> value)
    {
#if NET9_0_OR_GREATER
        return Vector512.Round(value);
#else
        // Control 0x08: round to nearest (ties to even), exceptions suppressed.
        if (Avx512F.IsSupported) return Avx512F.RoundScale(value, 0x08);
        return Vector512.Create(Round(value.GetLower()), Round(value.GetUpper()));
#endif
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> CopySign(Vector256<float> value, Vector256<float> sign)
    {
#if NET9_0_OR_GREATER
        return Vector256.CopySign(value, sign);
#else
        var mask = Vector256.Create(-0.0f);
        return (value & ~mask) | (sign & mask);
#endif
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> CopySign(Vector512<float> value, Vector512<float> sign)
    {
#if NET9_0_OR_GREATER
        return Vector512.CopySign(value, sign);
#else
        var mask = Vector512.Create(-0.0f);
        return (value & ~mask) | (sign & mask);
#endif
    }
}
