using System.Text.Json;
using SeqForecast.Baselines;

namespace SeqForecast.Tests.Baselines;

/// <summary>Parity with statsmodels' AutoReg; fixtures from Fixtures/make_ar_fixtures.py.</summary>
public class AutoRegressiveTests
{
    private const double RelativeTolerance = 1e-6;

    public sealed record ArCase(string Name, double[] Values, int MaxLag, string? Criterion, int? FixedOrder, int Order, double Intercept, double[] Coefficients, double Sigma2, int Nobs, double Aic, double Bic, double[] Forecast)
    {
        public override string ToString() => Name;
    }

    private sealed record ArFixtures(int Horizon, ArCase[] Cases);

    private static readonly ArFixtures Fixtures = JsonSerializer.Deserialize<ArFixtures>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "ar_fixtures.json")),
        new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

    public static IEnumerable<ArCase> Cases() => Fixtures.Cases;

    private static void AssertRelative(double actual, double expected, string what)
        => Assert.That(actual, Is.EqualTo(expected).Within(RelativeTolerance * Math.Max(1.0, Math.Abs(expected))), what);

    [TestCaseSource(nameof(Cases))]
    public void Fit_MatchesStatsmodels(ArCase c)
    {
        var options = new AutoRegressiveOptions(c.MaxLag)
        {
            Criterion = c.Criterion == "bic" ? InformationCriterion.Bic : InformationCriterion.Aic,
            FixedOrder = c.FixedOrder,
        };
        var fit = AutoRegressive.Fit(c.Values, options);
        var forecast = fit.Forecast(c.Values, Fixtures.Horizon);
        Assert.Multiple(() =>
        {
            Assert.That(fit.Order, Is.EqualTo(c.Order), "order");
            Assert.That(fit.Nobs, Is.EqualTo(c.Nobs), "nobs");
            AssertRelative(fit.Intercept, c.Intercept, "intercept");
            for (int i = 0; i < c.Coefficients.Length; i++) AssertRelative(fit.Coefficients[i], c.Coefficients[i], $"phi[{i + 1}]");
            AssertRelative(fit.Sigma2, c.Sigma2, "sigma2");
            AssertRelative(fit.Aic, c.Aic, "aic");
            AssertRelative(fit.Bic, c.Bic, "bic");
            for (int h = 0; h < forecast.Length; h++) AssertRelative(forecast[h], c.Forecast[h], $"forecast[{h}]");
        });
    }

    [Test]
    public void Fit_ThrowsWhenHistoryTooShortForMaxLag()
    {
        var ex = Assert.Throws<ArgumentException>(() => AutoRegressive.Fit(new double[10], new AutoRegressiveOptions(5)));
        Assert.That(ex!.Message, Does.Contain("history has 10 points; AR with max lag 5 needs more than 11"));
    }

    [Test]
    public void Fit_RejectsFixedOrderAboveMaxLag()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AutoRegressive.Fit(new double[50], new AutoRegressiveOptions(2) { FixedOrder = 3 }));
    }

    [Test]
    public void Fit_RejectsNaN()
    {
        var values = Enumerable.Range(0, 30).Select(i => Math.Sin(i)).ToArray();
        values[4] = double.NaN;
        Assert.Throws<ArgumentException>(() => AutoRegressive.Fit(values, new AutoRegressiveOptions(2)));
    }

    [Test]
    public void Model_ForecastsThroughInterface()
    {
        var c = Fixtures.Cases.First(x => x.Name == "synthetic-ar2-aic");
        IBaselineModel model = new AutoRegressiveModel(new AutoRegressiveOptions(c.MaxLag));
        Assert.That(model.Forecast(c.Values, Fixtures.Horizon), Is.EqualTo(c.Forecast).Within(1e-6));
    }

    [Test]
    public void Fit_OrderSelectionFromOneFactorisationAgreesWithFittingEveryOrderOnItsOwn()
    {
        var random = new Random(3);
        for (int trial = 0; trial < 25; trial++)
        {
            int n = 120 + 20 * trial, maxLag = 4 + trial % 9;
            var y = new double[n];
            for (int t = 0; t < n; t++)
                y[t] = 5 + (t > 0 ? 0.6 * y[t - 1] : 0) - (t > 2 ? 0.3 * y[t - 3] : 0) + (t > 7 ? 0.2 * y[t - 8] : 0) + random.NextDouble() * 2;
            foreach (var criterion in new[] { InformationCriterion.Aic, InformationCriterion.Bic })
            {
                int expected = 0;
                double bestValue = double.PositiveInfinity;
                for (int p = 0; p <= maxLag; p++)
                {
                    int nobs = n - maxLag;
                    var x = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(nobs, p + 1, (row, col) => col == 0 ? 1.0 : y[maxLag + row - col]);
                    var target = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(nobs, row => y[maxLag + row]);
                    var residual = target - x * x.QR().Solve(target);
                    double sigma2 = residual.DotProduct(residual) / nobs;
                    double llf = -nobs / 2.0 * (Math.Log(2 * Math.PI * sigma2) + 1);
                    double value = -2 * llf + (criterion == InformationCriterion.Aic ? 2 : Math.Log(nobs)) * (p + 1);
                    if (value < bestValue) (bestValue, expected) = (value, p);
                }
                var fit = AutoRegressive.Fit(y, new AutoRegressiveOptions(maxLag) { Criterion = criterion });
                Assert.That(fit.Order, Is.EqualTo(expected), $"trial {trial}, {criterion}, max lag {maxLag}");
            }
        }
    }
}
