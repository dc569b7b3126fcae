using MathNet.Numerics.LinearAlgebra;

namespace SeqForecast.Baselines;

/// <summary>Information criterion used to choose the AR order.</summary>
public enum InformationCriterion
{
    /// <summary>Akaike: <c>−2·llf + 2·k</c>.</summary>
    Aic,
    /// <summary>Bayesian (Schwarz): <c>−2·llf + ln(nobs)·k</c>.</summary>
    Bic,
}

/// <summary>Options of <see cref="AutoRegressive"/>.</summary>
/// <param name="MaxLag">Largest order considered. Range: ≥ 0.</param>
public sealed record AutoRegressiveOptions(int MaxLag)
{
    /// <summary>Criterion that picks the order in [0, MaxLag]. Default AIC. Ignored when <see cref="FixedOrder"/> is set.</summary>
    public InformationCriterion Criterion { get; init; } = InformationCriterion.Aic;

    /// <summary>Use exactly this order instead of selecting one. Range: [0, MaxLag].</summary>
    public int? FixedOrder { get; init; }

    /// <summary>
    /// For a history too short for <see cref="MaxLag"/> (selection needs more than 2·maxlag + 1 points), search up to
    /// the largest lag it allows instead of throwing. Default false. Ignored with <see cref="FixedOrder"/>.
    /// </summary>
    public bool ShrinkMaxLag { get; init; }

    /// <summary>Checks the ranges.</summary>
    /// <exception cref="ArgumentOutOfRangeException">MaxLag is negative or the fixed order is outside [0, MaxLag].</exception>
    public void Validate()
    {
        if (MaxLag < 0) throw new ArgumentOutOfRangeException(nameof(MaxLag), MaxLag, $"max lag ({MaxLag}) must be >= 0");
        if (FixedOrder is { } p && (p < 0 || p > MaxLag))
            throw new ArgumentOutOfRangeException(nameof(FixedOrder), p, $"fixed order ({p}) must be in [0, max lag {MaxLag}]");
    }
}

/// <summary>
/// A fitted AR(p) model with intercept: <c>y(t) = c + φ₁·y(t−1) + … + φₚ·y(t−p) + ε(t)</c>.
/// </summary>
/// <param name="Order">p.</param>
/// <param name="Intercept">c.</param>
/// <param name="Coefficients">φ₁ … φₚ (lag 1 first).</param>
/// <param name="Sigma2">Residual variance SSR / nobs.</param>
/// <param name="Nobs">Observations used in the final fit: n − p.</param>
/// <param name="Aic">Akaike criterion of the final fit, <c>−2·llf + 2·(p + 2)</c> with <c>llf = −nobs/2·(ln(2π·σ²) + 1)</c>
/// (k = p + 2 counts the intercept, the lags and the variance, as statsmodels' AutoRegResults does).</param>
/// <param name="Bic">Bayesian criterion of the final fit, <c>−2·llf + ln(nobs)·(p + 2)</c>.</param>
public sealed record AutoRegressiveFit(int Order, double Intercept, IReadOnlyList<double> Coefficients, double Sigma2, int Nobs, double Aic, double Bic)
{
    /// <summary>
    /// Recursive multi-step forecast from the end of <paramref name="history"/>: each forecast feeds the next step's lags.
    /// </summary>
    /// <exception cref="ArgumentException">The history is shorter than the order or holds non-finite values.</exception>
    public double[] Forecast(ReadOnlySpan<double> history, int horizon)
    {
        BaselineGuards.Check(history, horizon, Math.Max(1, Order), $"AR({Order})");
        var buffer = new double[Order + horizon];
        history[^Order..].CopyTo(buffer);
        for (int h = 0; h < horizon; h++)
        {
            double value = Intercept;
            for (int lag = 1; lag <= Order; lag++)
                value += Coefficients[lag - 1] * buffer[Order + h - lag];
            buffer[Order + h] = value;
        }
        return buffer[Order..];
    }
}

/// <summary>
/// AR(p) with intercept, fitted by ordinary least squares (MathNet.Numerics QR), with the order chosen by AIC or BIC.
/// Matches statsmodels' <c>ar_select_order(y, maxlag, ic, trend="c")</c> followed by <c>AutoReg(y, p, trend="c").fit()</c>.
/// </summary>
/// <remarks>
/// Order selection compares every p in [0, maxlag] on the same sample, y[maxlag..n), so the criteria are comparable,
/// with k = p + 1 parameters as in statsmodels' ar_select_order; ties go to the smaller order. The chosen order is then refitted on y[p..n).
/// </remarks>
public static class AutoRegressive
{
    /// <summary>Chooses the order (unless fixed) and fits the model.</summary>
    /// <param name="history">Observed values, oldest first; all finite.</param>
    /// <param name="options">Max lag, criterion, optional fixed order.</param>
    /// <exception cref="ArgumentException">Too few points: selection needs n − maxlag > maxlag + 1, a fixed order n − p > p + 1.</exception>
    public static AutoRegressiveFit Fit(ReadOnlySpan<double> history, AutoRegressiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int n = history.Length;
        if (options.FixedOrder is null && options.ShrinkMaxLag && n - options.MaxLag <= options.MaxLag + 1)
            options = options with { MaxLag = Math.Max(0, (n - 2) / 2) };
        int selectionLag = options.FixedOrder ?? options.MaxLag;
        if (n - selectionLag <= selectionLag + 1)
            throw new ArgumentException($"history has {n} points; AR with max lag {selectionLag} needs more than {2 * selectionLag + 1}", nameof(history));
        BaselineGuards.Check(history, 1, 1, "AR");
        var y = history.ToArray();

        int order = options.FixedOrder ?? SelectOrder(y, options.MaxLag, options.Criterion);
        var (beta, ssr, nobs) = LeastSquares(y, order, order);
        // statsmodels' AutoRegResults counts the intercept, the p lags and the variance (k = p + 2);
        // its order selection counts only the regressors (k = p + 1). Only the constant offset differs.
        var (aic, bic) = Criteria(ssr, nobs, order + 2);
        return new AutoRegressiveFit(order, beta[0], beta.Skip(1).ToArray(), ssr / nobs, nobs, aic, bic);
    }

    /// <summary>
    /// Scores every order 0…maxLag on the same rows (the first maxLag values held back) from one QR factorisation of
    /// the widest design [1, y(t−1), …, y(t−maxLag)]: the first p + 1 columns of Q span the AR(p) design, so the
    /// residual sum of squares of AR(p) is the full model's plus the squares of the later coefficients of Qᵀy.
    /// </summary>
    private static int SelectOrder(double[] y, int maxLag, InformationCriterion criterion)
    {
        int nobs = y.Length - maxLag;
        var x = Matrix<double>.Build.Dense(nobs, maxLag + 1, (row, col) => col == 0 ? 1.0 : y[maxLag + row - col]);
        var target = Vector<double>.Build.Dense(nobs, row => y[maxLag + row]);
        var qr = x.QR(MathNet.Numerics.LinearAlgebra.Factorization.QRMethod.Thin);
        var coefficients = qr.Q.TransposeThisAndMultiply(target);
        var residual = target - qr.Q * coefficients;
        double ssr = residual.DotProduct(residual);
        var ssrByOrder = new double[maxLag + 1];
        for (int p = maxLag; p >= 0; p--)
        {
            ssrByOrder[p] = ssr;
            ssr += coefficients[p] * coefficients[p];
        }
        int best = 0;
        double bestValue = double.PositiveInfinity;
        for (int p = 0; p <= maxLag; p++)
        {
            var (aic, bic) = Criteria(ssrByOrder[p], nobs, p + 1);
            double value = criterion == InformationCriterion.Aic ? aic : bic;
            if (value < bestValue) { bestValue = value; best = p; }
        }
        return best;
    }

    /// <summary>Regresses y[holdBack..n) on [1, y(t−1), …, y(t−p)].</summary>
    private static (double[] Beta, double Ssr, int Nobs) LeastSquares(double[] y, int order, int holdBack)
    {
        int nobs = y.Length - holdBack;
        var x = Matrix<double>.Build.Dense(nobs, order + 1, (row, col) => col == 0 ? 1.0 : y[holdBack + row - col]);
        var target = Vector<double>.Build.Dense(nobs, row => y[holdBack + row]);
        var beta = x.QR().Solve(target);
        var residual = target - x * beta;
        return (beta.ToArray(), residual.DotProduct(residual), nobs);
    }

    private static (double Aic, double Bic) Criteria(double ssr, int nobs, int parameters)
    {
        double sigma2 = ssr / nobs;
        double llf = -nobs / 2.0 * (Math.Log(2 * Math.PI * sigma2) + 1);
        return (-2 * llf + 2 * parameters, -2 * llf + Math.Log(nobs) * parameters);
    }
}

/// <summary>AR(p) baseline: fits <see cref="AutoRegressive"/> on each history it is asked to forecast.</summary>
/// <param name="options">Max lag, criterion, optional fixed order.</param>
public sealed class AutoRegressiveModel(AutoRegressiveOptions options) : IBaselineModel
{
    /// <summary>The options.</summary>
    public AutoRegressiveOptions Options { get; } = options ?? throw new ArgumentNullException(nameof(options));

    /// <inheritdoc />
    public string Name => Options.FixedOrder is { } p ? $"ar({p})" : $"ar(≤{Options.MaxLag}, {Options.Criterion.ToString().ToLowerInvariant()})";

    /// <inheritdoc />
    public double[] Forecast(ReadOnlySpan<double> history, int horizon) => AutoRegressive.Fit(history, Options).Forecast(history, horizon);
}
