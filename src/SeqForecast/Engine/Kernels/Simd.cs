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
    /// Width in bits of the vectors the engine's kernels (GEMM tiles, matrix-vector products, cell arithmetic) use:
    /// 512, 256, 128 (Arm's NEON) or 0 (scalar). 512 wherever the
    /// CPU has AVX-512 (F, BW, CD, DQ), including the Intel server parts on which .NET itself prefers 256-bit vectors because 512-bit instructions may
    /// lower the clock, and so reports <see cref="Vector512.IsHardwareAccelerated"/> as false while still compiling
    /// <see cref="Vector512{T}"/> to AVX-512: these kernels are FMA-bound, so twice the width outweighs the lower clock
    /// there, as it does for the vendor BLAS libraries. <c>SEQFORECAST_VECTOR_BITS</c> (512, 256, 128 or 0) narrows
    /// the choice, or asks for 512 where AVX-512 is present; an explicit <c>DOTNET_PreferredVectorBitWidth</c> is
    /// followed when that is unset; <c>DOTNET_EnableAVX512=0</c> turns AVX-512 off altogether.
    /// </summary>
    public static readonly int VectorBits = ChooseVectorBits(
        new VectorSupport(
            Vector512.IsHardwareAccelerated,
            Avx512F.IsSupported && Avx512BW.IsSupported && Avx512CD.IsSupported && Avx512DQ.IsSupported,
            Vector256.IsHardwareAccelerated,
            Vector128.IsHardwareAccelerated && (Fma.IsSupported || System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported)),
        Environment.GetEnvironmentVariable("SEQFORECAST_VECTOR_BITS"),
        Environment.GetEnvironmentVariable("DOTNET_PreferredVectorBitWidth"));

    /// <summary>Whether the kernels run 512 bits wide.</summary>
    public static readonly bool Vector512Enabled = VectorBits == 512;

    /// <summary>Whether the kernels run at least 256 bits wide (the Vector256 paths are taken).</summary>
    public static readonly bool Vector256Enabled = VectorBits >= 256;

    /// <summary>Whether the kernels run at least 128 bits wide (checked after the wider widths: Arm, or the override).</summary>
    public static readonly bool Vector128Enabled = VectorBits >= 128;

    /// <summary>What the hardware and the runtime offer, the input of <see cref="ChooseVectorBits"/>.</summary>
    /// <param name="Accelerated512">The runtime's <see cref="Vector512.IsHardwareAccelerated"/>.</param>
    /// <param name="Has512">The CPU has AVX-512 F, BW, CD and DQ.</param>
    /// <param name="Accelerated256">The runtime's <see cref="Vector256.IsHardwareAccelerated"/>.</param>
    /// <param name="Fused128">128-bit vectors are accelerated and have a fused multiply-add instruction.</param>
    internal readonly record struct VectorSupport(bool Accelerated512, bool Has512, bool Accelerated256, bool Fused128);

    /// <summary>
    /// The rule behind <see cref="VectorBits"/>: the natural width is 512 where the runtime accelerates it, or where
    /// the CPU has AVX-512 and <paramref name="preferredWidth"/> is not set; else 256 where accelerated; else 128
    /// with a fused multiply-add; else 0. <paramref name="override"/> ("512", "256", "128" or "0"; anything else is
    /// ignored) then narrows it, or raises it to 512 where the CPU has AVX-512.
    /// </summary>
    internal static int ChooseVectorBits(VectorSupport support, string? @override, string? preferredWidth)
    {
        int natural = support.Accelerated512 || (support.Has512 && string.IsNullOrWhiteSpace(preferredWidth)) ? 512
            : support.Accelerated256 ? 256
            : support.Fused128 ? 128
            : 0;
        return @override?.Trim() switch
        {
            "512" => support.Has512 ? 512 : natural,
            "256" => support.Has512 || support.Accelerated256 ? 256 : natural,
            "128" => support.Fused128 ? 128 : 0,
            "0" => 0,
            _ => natural,
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> FusedMultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c)
    {
#if NET9_0_OR_GREATER
        return Vector128.FusedMultiplyAdd(a, b, c);
#else
        if (Fma.IsSupported) return Fma.MultiplyAdd(a, b, c);
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) return System.Runtime.Intrinsics.Arm.AdvSimd.FusedMultiplyAdd(c, a, b);
        Span<float> lanes = stackalloc float[Vector128<float>.Count];
        for (int i = 0; i < lanes.Length; i++) lanes[i] = MathF.FusedMultiplyAdd(a.GetElement(i), b.GetElement(i), c.GetElement(i));
        return Vector128.Create<float>(lanes);
#endif
    }

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
    public static Vector128<float> Round(Vector128<float> value)
    {
#if NET9_0_OR_GREATER
        return Vector128.Round(value);
#else
        if (Sse41.IsSupported) return Sse41.RoundToNearestInteger(value);
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) return System.Runtime.Intrinsics.Arm.AdvSimd.RoundToNearest(value);
        Span<float> lanes = stackalloc float[Vector128<float>.Count];
        for (int i = 0; i < lanes.Length; i++) lanes[i] = MathF.Round(value.GetElement(i), MidpointRounding.ToEven);
        return Vector128.Create<float>(lanes);
#endif
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> CopySign(Vector128<float> value, Vector128<float> sign)
    {
#if NET9_0_OR_GREATER
        return Vector128.CopySign(value, sign);
#else
        var mask = Vector128.Create(-0.0f);
        return (value & ~mask) | (sign & mask);
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
