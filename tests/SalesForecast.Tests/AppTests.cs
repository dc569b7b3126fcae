using System.Xml.Linq;
using NUnit.Framework;
using SeqForecast.Forecasting;
using Spectre.Console;

namespace SalesForecast.Tests;

/// <summary>Runs the CLI in-process, end to end, on small slices of the bundled data.</summary>
[NonParallelizable]
public class AppTests
{
    private string _folder = "";

    [SetUp]
    public void CreateFolder() => Directory.CreateDirectory(_folder = Path.Combine(Path.GetTempPath(), "salesforecast-tests", Guid.NewGuid().ToString("N")));

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private string In(string name) => Path.Combine(_folder, name);

    private static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No, Out = new AnsiConsoleOutput(output) });
        var error = new StringWriter();
        int code = App.Run(args, console, error);
        return (code, output.ToString(), error.ToString());
    }

    private static readonly string[] Quick = ["--max-series", "3", "--epochs", "2", "--horizon", "7", "--lookback", "14"];

    [Test]
    public void Run_WritesForecastsMetricsChartAndModel()
    {
        var (code, output, error) = Run([.. Quick, "--output", In("out")]);
        Assert.That(code, Is.Zero, error + output);
        var forecasts = File.ReadAllLines(In("out/forecasts.csv"));
        var metrics = File.ReadAllLines(In("out/metrics.csv"));
        var svg = XDocument.Load(In("out/forecast.svg"));
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Contain("Loaded 30 series").Or.Contain("Loaded 3 series"));
            Assert.That(output, Does.Contain("LSTM").And.Contain("GRU").And.Contain("AR").And.Contain("Seasonal naive").And.Contain("Naive"));
            Assert.That(output, Does.Contain("MASE per product"));
            Assert.That(forecasts[0], Is.EqualTo("item,date,model,kind,forecast,actual"));
            // 3 products × 7 days × 5 models on the holdout, plus 3 × 7 future days of the LSTM.
            Assert.That(forecasts, Has.Length.EqualTo(1 + 3 * 7 * 5 + 3 * 7));
            Assert.That(forecasts.Skip(1).Where(l => l.Contains(",holdout,")).All(l => l.Split(',')[5].Length > 0), Is.True, "holdout rows carry actuals");
            Assert.That(metrics, Has.Length.EqualTo(1 + 5 * 4));
            Assert.That(svg.Root!.Name, Is.EqualTo(ns + "svg"));
            Assert.That(svg.Descendants(ns + "polyline").Count(), Is.GreaterThanOrEqualTo(3 * 4));
            Assert.That(svg.Descendants(ns + "text").Select(t => t.Value), Does.Contain("LSTM forecast"));
            Assert.That(Directory.GetFiles(In("out")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "forecasts.csv", "metrics.csv", "forecast.svg", "lstm.safetensors" }));
            Assert.That(Directory.GetDirectories(_folder).Select(Path.GetFileName), Is.EqualTo(new[] { "out" }), "the staging folder is gone");
        });
        using var model = FittedRnnForecaster.Load(In("out/lstm.safetensors"));
        Assert.That(model.Window.Horizon, Is.EqualTo(7));
    }

    [Test]
    public void ImportThenSqliteQueryThenPredict()
    {
        var csv = In("slice.csv");
        File.WriteAllLines(csv, File.ReadAllLines(SalesData.BundledPath).Where((l, i) => i == 0 || l.StartsWith("22197,") || l.StartsWith("84077,")));
        var (importCode, importOutput, importError) = Run("import", "--input", csv, "--sqlite", In("sales.db"));
        Assert.That(importCode, Is.Zero, importError);
        Assert.That(importOutput, Does.Contain("imported"));

        var (code, _, error) = Run(["--sqlite", In("sales.db"), "--query", "SELECT id, date, value FROM sales WHERE id = '22197' OR id = '84077'", "--model", "gru", "--epochs", "2", "--horizon", "7", "--lookback", "14", "--output", In("out")]);
        Assert.That(code, Is.Zero, error);
        Assert.That(File.Exists(In("out/gru.safetensors")), Is.True);

        var (predictCode, predictOutput, predictError) = Run("predict", "--model-file", In("out/gru.safetensors"), "--input", csv, "--output", In("pred"));
        Assert.That(predictCode, Is.Zero, predictError);
        var lines = File.ReadAllLines(In("pred/predictions.csv"));
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo("item,date,forecast"));
            Assert.That(lines, Has.Length.EqualTo(1 + 2 * 7));
            Assert.That(lines[1], Does.StartWith("22197,2011-12-1"));
            Assert.That(predictOutput, Does.Contain("2 series × 7 days"));
        });
    }

    [Test]
    public void Run_BaselineModelWritesNoModelFile()
    {
        var (code, _, error) = Run([.. Quick, "--model", "ar", "--output", In("out")]);
        Assert.That(code, Is.Zero, error);
        Assert.That(Directory.GetFiles(In("out")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "forecasts.csv", "metrics.csv", "forecast.svg" }));
    }

    private void AssertBadInput((int Code, string Output, string Error) result, string expected)
    {
        Assert.Multiple(() =>
        {
            Assert.That(result.Code, Is.Not.Zero);
            Assert.That(result.Error.TrimEnd(), Does.StartWith("error: ").And.Contain(expected));
            Assert.That(result.Error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), "one line");
            Assert.That(result.Error, Does.Not.Contain("   at "), "no stack trace");
            Assert.That(Directory.Exists(In("out")) ? Directory.GetFileSystemEntries(In("out")) : [], Is.Empty, "nothing partial in the output folder");
            Assert.That(Directory.GetDirectories(_folder).Where(d => Path.GetFileName(d).StartsWith(".out")), Is.Empty, "no staging folder left");
        });
    }

    [Test]
    public void BadInput_MissingFile() => AssertBadInput(Run("--input", In("nope.csv"), "--output", In("out")), $"input file '{In("nope.csv")}' does not exist");

    [Test]
    public void BadInput_MissingColumns()
    {
        File.WriteAllText(In("two.csv"), "item,qty\nA,3\n");
        AssertBadInput(Run("--input", In("two.csv"), "--output", In("out")), "a long-format file needs id, date and value columns; the header has 2: item, qty");
    }

    [Test]
    public void BadInput_UnparseableDateNamesLineAndColumn()
    {
        File.WriteAllText(In("bad.csv"), "item,ds,y\nA,2011-01-01,3\nA,2011-01-02,4\nA,2011-02-30,5\n");
        AssertBadInput(Run("--input", In("bad.csv"), "--output", In("out")), "line 4, column 'ds': '2011-02-30' is not a date");
    }

    [Test]
    public void BadInput_UnparseableNumberNamesLineAndColumn()
    {
        File.WriteAllText(In("bad.csv"), "item,ds,y\nA,2011-01-01,3\nA,2011-01-02,four\n");
        AssertBadInput(Run("--input", In("bad.csv"), "--output", In("out")), "line 3, column 'y': 'four' is not a number");
    }

    [Test]
    public void BadInput_SeriesTooShort()
    {
        var lines = Enumerable.Range(0, 20).Select(d => $"SKU-7,{new DateTime(2011, 1, 1).AddDays(d):yyyy-MM-dd},{d % 5}");
        File.WriteAllLines(In("short.csv"), ["item,ds,y", .. lines]);
        AssertBadInput(Run("--input", In("short.csv"), "--output", In("out")), "series 'SKU-7' has 20 points");
    }

    [Test]
    public void BadInput_UnknownDevice() => AssertBadInput(Run("--device", "tpu", "--output", In("out")), "'tpu'");

    [Test]
    public void BadInput_DeviceWithoutNativePart() => AssertBadInput(Run([.. Quick, "--device", "cuda", "--output", In("out")]), "device 'cuda' is unavailable: CUDA is not available");

    [Test]
    public void Run_TrainsOnLibTorchCpu()
    {
        var (code, output, error) = Run([.. Quick, "--model", "gru", "--device", "libtorch-cpu", "--output", In("out")]);
        Assert.That(code, Is.Zero, error + output);
        using var model = FittedRnnForecaster.Load(In("out/gru.safetensors"));
        Assert.That(model.Info.TrainedOn, Is.EqualTo("libtorch-cpu"));
    }

    [Test]
    public void BadInput_CorruptModelFile()
    {
        File.WriteAllBytes(In("model.safetensors"), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        AssertBadInput(Run("predict", "--model-file", In("model.safetensors"), "--output", In("out")), "model file");
    }

    [Test]
    public void BadInput_MissingModelFile() => AssertBadInput(Run("predict", "--model-file", In("none.safetensors"), "--output", In("out")), "does not exist");

    [Test]
    public void BadInput_NonPositiveHorizon() => AssertBadInput(Run("--horizon", "0", "--output", In("out")), "--horizon is 0; it must be at least 1");
}
