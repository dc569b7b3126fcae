namespace SeqForecast.Training;

/// <summary>How the learning rate changes between epochs. Concrete types: <see cref="StepSchedule"/>, <see cref="ReduceOnPlateauSchedule"/>.</summary>
public abstract record LearningRateSchedule
{
    /// <summary>Checks the ranges.</summary>
    public abstract void Validate();

    internal abstract ILearningRateScheduler Create(double initialLearningRate);
}

/// <summary>torch.optim.lr_scheduler.StepLR: multiply the rate by <see cref="Gamma"/> every <see cref="StepSize"/> epochs.</summary>
/// <param name="StepSize">Epochs between decays. Range: ≥ 1.</param>
/// <param name="Gamma">Decay factor. Range: (0, 1]. Default 0.1.</param>
public sealed record StepSchedule(int StepSize, double Gamma = 0.1) : LearningRateSchedule
{
    /// <inheritdoc />
    public override void Validate()
    {
        if (StepSize < 1) throw new ArgumentOutOfRangeException(nameof(StepSize), StepSize, $"step size ({StepSize}) must be >= 1");
        if (!(Gamma > 0 && Gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, $"gamma ({Gamma}) must be in (0, 1]");
    }

    internal override ILearningRateScheduler Create(double initialLearningRate) => new StepScheduler(this, initialLearningRate);
}

/// <summary>
/// torch.optim.lr_scheduler.ReduceLROnPlateau (mode "min", threshold mode "rel"): when the monitored loss has not
/// improved by a relative <see cref="Threshold"/> for more than <see cref="Patience"/> epochs, multiply the rate by
/// <see cref="Factor"/>, not below <see cref="MinLearningRate"/>. The validation loss is monitored when there is one,
/// else the training loss.
/// </summary>
public sealed record ReduceOnPlateauSchedule : LearningRateSchedule
{
    /// <summary>Factor. Range: (0, 1). Default 0.1.</summary>
    public double Factor { get; init; } = 0.1;

    /// <summary>Epochs without improvement tolerated. Range: ≥ 0. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Relative improvement that counts. Range: ≥ 0. Default 1e-4.</summary>
    public double Threshold { get; init; } = 1e-4;

    /// <summary>Epochs to wait after a reduction. Range: ≥ 0. Default 0.</summary>
    public int Cooldown { get; init; }

    /// <summary>Lower bound of the rate. Range: ≥ 0. Default 0.</summary>
    public double MinLearningRate { get; init; }

    /// <inheritdoc />
    public override void Validate()
    {
        if (!(Factor > 0 && Factor < 1)) throw new ArgumentOutOfRangeException(nameof(Factor), Factor, $"factor ({Factor}) must be in (0, 1)");
        if (Patience < 0) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, $"patience ({Patience}) must be >= 0");
        if (!(Threshold >= 0)) throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, $"threshold ({Threshold}) must be >= 0");
        if (Cooldown < 0) throw new ArgumentOutOfRangeException(nameof(Cooldown), Cooldown, $"cooldown ({Cooldown}) must be >= 0");
        if (!(MinLearningRate >= 0)) throw new ArgumentOutOfRangeException(nameof(MinLearningRate), MinLearningRate, $"min learning rate ({MinLearningRate}) must be >= 0");
    }

    internal override ILearningRateScheduler Create(double initialLearningRate) => new PlateauScheduler(this, initialLearningRate);
}

internal interface ILearningRateScheduler
{
    /// <summary>Called after epoch <paramref name="epoch"/> (1-based) with the monitored loss; returns the rate for the next epoch.</summary>
    double EpochEnded(int epoch, double monitoredLoss);
}

internal sealed class StepScheduler(StepSchedule schedule, double initial) : ILearningRateScheduler
{
    public double EpochEnded(int epoch, double monitoredLoss) => initial * Math.Pow(schedule.Gamma, epoch / schedule.StepSize);
}

internal sealed class PlateauScheduler(ReduceOnPlateauSchedule schedule, double initial) : ILearningRateScheduler
{
    private double _rate = initial;
    private double _best = double.PositiveInfinity;
    private int _badEpochs;
    private int _cooldown;

    public double EpochEnded(int epoch, double monitoredLoss)
    {
        if (monitoredLoss < _best * (1 - schedule.Threshold))
        {
            _best = monitoredLoss;
            _badEpochs = 0;
        }
        else
        {
            _badEpochs++;
        }
        if (_cooldown > 0)
        {
            _cooldown--;
            _badEpochs = 0;
        }
        if (_badEpochs > schedule.Patience)
        {
            double reduced = Math.Max(_rate * schedule.Factor, schedule.MinLearningRate);
            if (_rate - reduced > 1e-8) _rate = reduced;
            _cooldown = schedule.Cooldown;
            _badEpochs = 0;
        }
        return _rate;
    }
}
