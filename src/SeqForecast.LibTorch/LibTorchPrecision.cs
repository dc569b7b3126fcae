namespace SeqForecast.LibTorch;

/// <summary>How the libtorch backend computes. Parameters, optimizer state and losses stay float32 in every mode.</summary>
public enum LibTorchPrecision
{
    /// <summary>Full float32 (TF32 off), as the managed engine computes: the two backends agree to rounding. The default.</summary>
    Float32 = 0,

    /// <summary>
    /// CUDA only: matrix products and cuDNN's RNN on tensor cores in TensorFloat-32 (float32 range, 10-bit mantissa, float32
    /// accumulation). libtorch switches TF32 for the whole process; the shim sets it on every call of a model, so models of
    /// other modes running at the same moment in the same process may compute with it too.
    /// </summary>
    Tf32 = 1,

    /// <summary>
    /// Automatic mixed precision: each call runs under libtorch's autocast (float16 on CUDA, where cuDNN's RNN runs in half
    /// precision; bfloat16 on the CPU, where libtorch's CPU autocast lowers the matrix products it lists) with
    /// float32 master weights, and training uses dynamic loss scaling (<see cref="LossScaling"/>): gradients are
    /// unscaled before clipping, and a step whose gradients are not finite is skipped and lowers the scale. Meant for
    /// GPUs: on a CPU without bfloat16 units it is much slower than float32 (a training step 6–24× slower on an AVX2 AMD
    /// EPYC with libtorch 1.13, BenchmarkDotNet).
    /// </summary>
    Mixed = 2,
}

/// <summary>
/// Dynamic loss scaling for <see cref="LibTorchPrecision.Mixed"/>, as <c>torch.amp.GradScaler</c> does it: the loss is
/// multiplied by the scale before backward so that small float16 gradients do not flush to zero; the gradients are divided
/// by it before clipping and the step. A step whose gradients hold an infinity or NaN is skipped and the scale is
/// multiplied by <see cref="BackoffFactor"/>; after <see cref="GrowthInterval"/> steps in a row with finite gradients it
/// is multiplied by <see cref="GrowthFactor"/>.
/// </summary>
public sealed record LossScaling
{
    /// <summary>The starting scale. Default 65,536 (2^16), GradScaler's default.</summary>
    public double InitialScale { get; init; } = 65536;

    /// <summary>Factor after <see cref="GrowthInterval"/> finite steps in a row; &gt; 1. Default 2.</summary>
    public double GrowthFactor { get; init; } = 2;

    /// <summary>Factor after a step with non-finite gradients; in (0, 1). Default 0.5.</summary>
    public double BackoffFactor { get; init; } = 0.5;

    /// <summary>Finite steps in a row before the scale grows; ≥ 1. Default 2,000.</summary>
    public int GrowthInterval { get; init; } = 2000;

    /// <summary>Checks every field.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of range; the message names it, its value and the rule.</exception>
    public void Validate()
    {
        if (!(InitialScale > 0) || !double.IsFinite(InitialScale))
            throw new ArgumentOutOfRangeException(nameof(InitialScale), InitialScale, $"initial loss scale ({InitialScale}) must be finite and > 0");
        if (!(GrowthFactor > 1) || !double.IsFinite(GrowthFactor))
            throw new ArgumentOutOfRangeException(nameof(GrowthFactor), GrowthFactor, $"growth factor ({GrowthFactor}) must be finite and > 1");
        if (!(BackoffFactor > 0 && BackoffFactor < 1))
            throw new ArgumentOutOfRangeException(nameof(BackoffFactor), BackoffFactor, $"backoff factor ({BackoffFactor}) must be in (0, 1)");
        if (GrowthInterval < 1)
            throw new ArgumentOutOfRangeException(nameof(GrowthInterval), GrowthInterval, $"growth interval ({GrowthInterval}) must be >= 1");
    }
}

/// <summary>Where a session's dynamic loss scaling stands (<see cref="LibTorchSession.LossScale"/>).</summary>
/// <param name="Scale">The loss scale of the next step (1 outside mixed precision).</param>
/// <param name="SkippedSteps">Training steps skipped so far because their gradients were not finite (0 outside mixed precision).</param>
public readonly record struct LossScaleState(double Scale, long SkippedSteps);
