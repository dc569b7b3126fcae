using System.Numerics;

namespace SeqForecast.Training;

/// <summary>Optimizer settings. Concrete types: <see cref="AdamOptions"/>, <see cref="AdamWOptions"/>, <see cref="SgdOptions"/>.</summary>
public abstract record OptimizerOptions
{
    /// <summary>Learning rate. Range: &gt; 0.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Weight decay. Range: ≥ 0. Adam and SGD add it to the gradient (L2); AdamW decays the weights directly.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of range.</exception>
    public virtual void Validate()
    {
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, $"learning rate ({LearningRate}) must be finite and > 0");
        if (!(WeightDecay >= 0) || !double.IsFinite(WeightDecay)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, $"weight decay ({WeightDecay}) must be finite and >= 0");
    }

    internal abstract Optimizer Create(int parameterCount);
}

/// <summary>torch.optim.Adam (amsgrad off).</summary>
public record AdamOptions : OptimizerOptions
{
    /// <summary>β₁. Range: [0, 1). Default 0.9.</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>β₂. Range: [0, 1). Default 0.999.</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>ε. Range: &gt; 0. Default 1e-8.</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, $"beta1 ({Beta1}) must be in [0, 1)");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, $"beta2 ({Beta2}) must be in [0, 1)");
        if (!(Epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, $"epsilon ({Epsilon}) must be > 0");
    }

    internal override Optimizer Create(int parameterCount) => new AdamOptimizer(this, parameterCount, decoupled: false);
}

/// <summary>torch.optim.AdamW: Adam with decoupled weight decay (default 0.01).</summary>
public sealed record AdamWOptions : AdamOptions
{
    /// <summary>Creates the options with PyTorch's default weight decay of 0.01.</summary>
    public AdamWOptions() => WeightDecay = 0.01;

    internal override Optimizer Create(int parameterCount) => new AdamOptimizer(this, parameterCount, decoupled: true);
}

/// <summary>torch.optim.SGD with optional momentum, dampening and Nesterov.</summary>
public sealed record SgdOptions : OptimizerOptions
{
    /// <summary>Momentum. Range: ≥ 0. Default 0.</summary>
    public double Momentum { get; init; }

    /// <summary>Dampening. Range: [0, 1]. Default 0.</summary>
    public double Dampening { get; init; }

    /// <summary>Nesterov momentum (needs momentum &gt; 0 and dampening 0).</summary>
    public bool Nesterov { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        base.Validate();
        if (!(Momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, $"momentum ({Momentum}) must be >= 0");
        if (!(Dampening >= 0 && Dampening <= 1)) throw new ArgumentOutOfRangeException(nameof(Dampening), Dampening, $"dampening ({Dampening}) must be in [0, 1]");
        if (Nesterov && (Momentum <= 0 || Dampening != 0)) throw new ArgumentOutOfRangeException(nameof(Nesterov), Nesterov, $"Nesterov needs momentum > 0 and dampening 0; got momentum {Momentum}, dampening {Dampening}");
    }

    internal override Optimizer Create(int parameterCount) => new SgdOptimizer(this, parameterCount);
}

/// <summary>
/// An optimizer over one contiguous parameter span. Follows torch.optim's float32 operation order. A step is
/// <see cref="BeginStep"/> (the step count and this step's constants) and then <see cref="Update"/> over slices of the
/// parameters, which may run on several threads at once: each element's update depends only on that element, so any
/// cut gives the same bits.
/// </summary>
internal abstract class Optimizer
{
    /// <summary>One whole step on one thread.</summary>
    public void Step(Span<float> parameters, ReadOnlySpan<float> gradients, double learningRate)
    {
        BeginStep(learningRate);
        Update(parameters, gradients, 0);
    }

    /// <summary>Starts a step: advances the step count and fixes the constants every slice of this step uses.</summary>
    public abstract void BeginStep(double learningRate);

    /// <summary>
    /// Updates one slice of the parameters: <paramref name="parameters"/> and <paramref name="gradients"/> are elements
    /// [offset, offset + length) of the whole spans.
    /// </summary>
    public abstract void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int offset);
}

internal sealed class AdamOptimizer(AdamOptions options, int parameterCount, bool decoupled) : Optimizer
{
    private readonly float[] _firstMoment = new float[parameterCount];
    private readonly float[] _secondMoment = new float[parameterCount];
    private int _step;
    private float _stepSize, _biasCorrection2Sqrt, _decay;

    public override void BeginStep(double learningRate)
    {
        _step++;
        _decay = (float)(1 - learningRate * options.WeightDecay);
        double biasCorrection1 = 1 - Math.Pow(options.Beta1, _step);
        _stepSize = (float)(learningRate / biasCorrection1);
        _biasCorrection2Sqrt = (float)Math.Sqrt(1 - Math.Pow(options.Beta2, _step));
    }

    public override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int offset)
    {
        float beta1 = (float)options.Beta1, beta2 = (float)options.Beta2;
        float oneMinusBeta1 = (float)(1 - options.Beta1), oneMinusBeta2 = (float)(1 - options.Beta2);
        float weightDecay = (float)options.WeightDecay;
        float decay = _decay, stepSize = _stepSize, biasCorrection2Sqrt = _biasCorrection2Sqrt;
        float epsilon = (float)options.Epsilon;
        var firstMoment = _firstMoment.AsSpan(offset, parameters.Length);
        var secondMoment = _secondMoment.AsSpan(offset, parameters.Length);
        int i = 0;
        if (Vector.IsHardwareAccelerated && parameters.Length >= Vector<float>.Count)
        {
            // The scalar loop's operations in its order, lane by lane: IEEE multiply, add, divide and square root are
            // exactly rounded at every width, so each parameter gets the scalar loop's bits.
            int width = Vector<float>.Count;
            var vBeta1 = new Vector<float>(beta1);
            var vBeta2 = new Vector<float>(beta2);
            var vOneMinusBeta1 = new Vector<float>(oneMinusBeta1);
            var vOneMinusBeta2 = new Vector<float>(oneMinusBeta2);
            var vWeightDecay = new Vector<float>(weightDecay);
            var vDecay = new Vector<float>(decay);
            var vCorrection = new Vector<float>(biasCorrection2Sqrt);
            var vEpsilon = new Vector<float>(epsilon);
            var vStep = new Vector<float>(-stepSize);
            bool l2 = !decoupled && weightDecay != 0;
            for (; i + width <= parameters.Length; i += width)
            {
                var g = new Vector<float>(gradients[i..]);
                var p = new Vector<float>(parameters[i..]);
                if (decoupled) p *= vDecay;
                else if (l2) g += vWeightDecay * p;
                var m = new Vector<float>(firstMoment[i..]) * vBeta1 + vOneMinusBeta1 * g;
                var v = new Vector<float>(secondMoment[i..]) * vBeta2 + vOneMinusBeta2 * g * g;
                m.CopyTo(firstMoment[i..]);
                v.CopyTo(secondMoment[i..]);
                var denominator = Vector.SquareRoot(v) / vCorrection + vEpsilon;
                (p + vStep * (m / denominator)).CopyTo(parameters[i..]);
            }
        }
        for (; i < parameters.Length; i++)
        {
            float g = gradients[i];
            if (decoupled) parameters[i] *= decay;
            else if (weightDecay != 0) g += weightDecay * parameters[i];
            firstMoment[i] = firstMoment[i] * beta1 + oneMinusBeta1 * g;
            secondMoment[i] = secondMoment[i] * beta2 + oneMinusBeta2 * g * g;
            float denominator = MathF.Sqrt(secondMoment[i]) / biasCorrection2Sqrt + epsilon;
            parameters[i] += -stepSize * (firstMoment[i] / denominator);
        }
    }
}

internal sealed class SgdOptimizer(SgdOptions options, int parameterCount) : Optimizer
{
    private readonly float[] _momentum = new float[parameterCount];
    private bool _hasMomentum;
    private bool _firstStep;
    private float _learningRate;

    public override void BeginStep(double learningRate)
    {
        _learningRate = (float)learningRate;
        _firstStep = !_hasMomentum;
        _hasMomentum = true;
    }

    public override void Update(Span<float> parameters, ReadOnlySpan<float> gradients, int offset)
    {
        float lr = _learningRate, momentum = (float)options.Momentum, weightDecay = (float)options.WeightDecay;
        float oneMinusDampening = (float)(1 - options.Dampening);
        var buffer = _momentum.AsSpan(offset, parameters.Length);
        for (int i = 0; i < parameters.Length; i++)
        {
            float d = gradients[i];
            if (weightDecay != 0) d += weightDecay * parameters[i];
            if (momentum != 0)
            {
                buffer[i] = _firstStep ? d : buffer[i] * momentum + oneMinusDampening * d;
                d = options.Nesterov ? d + momentum * buffer[i] : buffer[i];
            }
            parameters[i] += -lr * d;
        }
    }
}

/// <summary>Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.</summary>
internal static class GradientClipping
{
    /// <summary>
    /// Scales <paramref name="gradients"/> by <c>min(1, maxNorm / (‖g‖₂ + 1e-6))</c>, where ‖g‖₂ is the norm of all
    /// gradients together, and returns ‖g‖₂ before clipping.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not positive.</exception>
    public static double ClipByGlobalNorm(Span<float> gradients, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, $"max norm ({maxNorm}) must be > 0");
        double sum = 0;
        foreach (var g in gradients) sum += (double)g * g;
        double norm = Math.Sqrt(sum);
        float coefficient = (float)Math.Min(1.0, maxNorm / (norm + 1e-6));
        if (coefficient < 1) System.Numerics.Tensors.TensorPrimitives.Multiply(gradients, coefficient, gradients);
        return norm;
    }
}
