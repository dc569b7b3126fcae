using System.Numerics.Tensors;
using SeqForecast.Engine.Kernels;
using SeqForecast.Training;

namespace SeqForecast.Engine.Managed;

/// <summary>
/// The elementwise work of a training step over all parameters, split across the worker pool by contiguous slices:
/// adding the micro-batches' gradients (in micro-batch order) and the optimizer update. Each element is computed by
/// the same code whatever the cut, so the bits do not depend on the thread count. Reusable and allocation-free. It runs
/// on the given pool, else the shared one.
/// </summary>
internal sealed unsafe class ParameterWork(WorkerPool? pool = null) : IParallelWork
{
    /// <summary>Parameters per thread below which the work stays on one thread.</summary>
    public const int MinimumSlice = 16 * 1024;

    private float* _target;
    private float* _gradients;
    private IReadOnlyList<float[]>? _sources;
    private int _sourceCount;
    private Optimizer? _optimizer;
    private int _length;

    /// <summary><c>target[i] += Σ_c sources[c][i]</c> for c = 0..count−1 in order, on up to <paramref name="threads"/> threads.</summary>
    public void Sum(Span<float> target, IReadOnlyList<float[]> sources, int count, int threads)
    {
        _sources = sources;
        _sourceCount = count;
        fixed (float* t = target)
            Run(t, target.Length, threads);
    }

    /// <summary>One optimizer step over all of <paramref name="parameters"/>, on up to <paramref name="threads"/> threads.</summary>
    public void Step(Optimizer optimizer, Span<float> parameters, ReadOnlySpan<float> gradients, double learningRate, int threads)
    {
        if (gradients.Length != parameters.Length)
            throw new ArgumentException($"gradients has {gradients.Length} floats; parameters has {parameters.Length}", nameof(gradients));
        optimizer.BeginStep(learningRate);
        _optimizer = optimizer;
        fixed (float* p = parameters)
        fixed (float* g = gradients)
        {
            _gradients = g;
            Run(p, parameters.Length, threads);
        }
    }

    private void Run(float* target, int length, int threads)
    {
        _target = target;
        _length = length;
        try
        {
            int parts = Math.Max(1, Math.Min(threads, length / MinimumSlice));
            if (parts == 1) Execute(0, 1);
            else (pool ?? WorkerPool.Shared).Run(this, parts);
        }
        finally
        {
            _target = _gradients = null;
            _sources = null;
            _optimizer = null;
        }
    }

    public void Execute(int part, int parts)
    {
        var (start, end) = TeamMember.Split(_length, part, parts);
        var target = new Span<float>(_target + start, end - start);
        if (_optimizer is { } optimizer)
        {
            optimizer.Update(target, new ReadOnlySpan<float>(_gradients + start, end - start), start);
            return;
        }
        for (int c = 0; c < _sourceCount; c++)
            TensorPrimitives.Add(target, _sources![c].AsSpan(start, end - start), target);
    }
}
