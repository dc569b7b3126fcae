using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
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

    private static readonly string[] Quick = ["--max-series", "3", "--epochs", "2", "--windows-per-epoch", "256", "--horizon", "7", "--lookback", "14"];

    [Test]
    public void Run_WritesForecastsMetricsChartAndModel()
    {
        var (code, output, error) = Run([.. Quick, "--output", In("out")]);
        Assert.That(code, Is.Zero, error + output);
        var forecasts = File.ReadAllLines(In("out/forecasts.csv"));
        var metrics = File.ReadAllLines(In("out/metrics.csv"));
        var svg = XDocument.Load(In("out/forecast.svg"));
        XNamespace ns = "http://www.w3.org/2000/svg";
        var png = File.ReadAllBytes(In("out/forecast.png"));
        string[] models = ["LSTM", "LSTM (quantile bands)", "LSTM without calendar", "AR", "Seasonal naive", "Naive"];
        Assert.Multiple(() =>
        {
            Assert.That(output, Does.Contain("Loaded 3 series"));
            Assert.That(output, Does.Contain(SeqForecast.Engine.Managed.ManagedBackend.VectorBits > 0
                ? $"Engine: managed, {SeqForecast.Engine.Managed.ManagedBackend.VectorBits}-bit vector kernels." : "Engine: managed, scalar kernels"));
            foreach (var m in models) Assert.That(output, Does.Contain(m));
            Assert.That(output, Does.Contain("MASE per product").And.Contain("80%").And.Contain("95%"));
            Assert.That(output, Does.Not.Contain("\u001b["), "plain text when not on a terminal");
            Assert.That(output, Does.Contain("LSTM epoch 1/2 loss"), "progress as lines when not on a terminal");
            Assert.That(forecasts[0], Is.EqualTo("item,date,model,kind,forecast,actual,lower80,upper80,lower95,upper95"));
            // 3 products × 7 days × 6 results on the holdout, plus 3 × 7 future days of the LSTM.
            Assert.That(forecasts, Has.Length.EqualTo(1 + 3 * 7 * models.Length + 3 * 7));
            Assert.That(forecasts.Skip(1).Where(l => l.Contains(",holdout,")).All(l => l.Split(',')[5].Length > 0), Is.True, "holdout rows carry actuals");
            var lstmRows = forecasts.Skip(1).Where(l => l.Split(',')[2] == "LSTM").Select(l => l.Split(',')).ToArray();
            Assert.That(lstmRows, Has.Length.EqualTo(3 * 7 * 2));
            Assert.That(lstmRows.All(f => double.Parse(f[4]) == Math.Round(double.Parse(f[4]))), Is.True, "unit sales are forecast in whole numbers");
            Assert.That(lstmRows.All(f => double.Parse(f[6]) <= double.Parse(f[4]) && double.Parse(f[4]) <= double.Parse(f[7]) && double.Parse(f[8]) <= double.Parse(f[6]) && double.Parse(f[7]) <= double.Parse(f[9])), Is.True, "95% ⊇ 80% ∋ forecast");
            Assert.That(metrics, Has.Length.EqualTo(1 + models.Length * 4));
            Assert.That(svg.Root!.Name, Is.EqualTo(ns + "svg"));
            Assert.That(png.AsSpan(0, 8).ToArray(), Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "a PNG image");
            Assert.That(Directory.GetFiles(In("out")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "forecasts.csv", "metrics.csv", "forecast.png", "forecast.svg", "lstm.safetensors" }));
            Assert.That(Directory.GetFileSystemEntries(_folder).Select(Path.GetFileName), Is.EqualTo(new[] { "out" }), "no staging folder or lock is left");
        });
        using var model = ForecasterFile.Load(In("out/lstm.safetensors"));
        Assert.Multiple(() =>
        {
            Assert.That(model, Is.InstanceOf<FittedConformal>(), "the LSTM is saved with its calibrated intervals");
            Assert.That(model.Horizon, Is.EqualTo(7));
            Assert.That(model.QuantileLevels, Is.EqualTo(new[] { 0.025, 0.05, 0.1, 0.5, 0.9, 0.95, 0.975 }));
        });
    }

    [Test]
    public void ImportThenSqliteQueryThenPredict()
    {
        var csv = In("slice.csv");
        File.WriteAllLines(csv, File.ReadAllLines(SalesData.BundledPath).Where((l, i) => i == 0 || l.StartsWith("22197,") || l.StartsWith("84077,")));
        var (importCode, importOutput, importError) = Run("import", "--input", csv, "--sqlite", In("sales.db"));
        Assert.That(importCode, Is.Zero, importError);
        Assert.That(importOutput, Does.Contain("imported"));

        var (code, _, error) = Run(["--sqlite", In("sales.db"), "--query", "SELECT id, date, value FROM sales WHERE id = '22197' OR id = '84077'", "--model", "gru", "--epochs", "2", "--windows-per-epoch", "256", "--horizon", "7", "--lookback", "14", "--output", In("out")]);
        Assert.That(code, Is.Zero, error);
        Assert.That(File.Exists(In("out/gru.safetensors")), Is.True);

        var (predictCode, predictOutput, predictError) = Run("predict", "--model-file", In("out/gru.safetensors"), "--input", csv, "--output", In("pred"));
        Assert.That(predictCode, Is.Zero, predictError);
        var lines = File.ReadAllLines(In("pred/predictions.csv"));
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo("item,date,forecast,lower80,upper80,lower95,upper95"));
            Assert.That(lines[1].Split(',').Skip(3).All(v => v.Length > 0), Is.True, "bands from the calibrated GRU");
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
        Assert.That(Directory.GetFiles(In("out")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "forecasts.csv", "metrics.csv", "forecast.png", "forecast.svg" }));
    }

    [Test]
    public void Run_ReplacesTheOutputFolderAsAWhole()
    {
        Directory.CreateDirectory(In("out"));
        File.WriteAllText(In("out/lstm.safetensors"), "an earlier run's model");
        var (code, _, error) = Run([.. Quick, "--model", "naive", "--output", In("out")]);
        Assert.That(code, Is.Zero, error);
        Assert.That(Directory.GetFiles(In("out")).Select(Path.GetFileName), Is.EquivalentTo(new[] { "forecasts.csv", "metrics.csv", "forecast.png", "forecast.svg" }), "no stale model file from the earlier run");
    }

    [Test]
    public void Run_RecoversFromARunKilledBetweenItsRenamesAndCleansStaleFolders()
    {
        // A killed run left the previous output as a backup (out was already moved away) and its staging folder.
        Directory.CreateDirectory(In($".out.{Guid.NewGuid():N}.old"));
        File.WriteAllText(Path.Combine(Directory.GetDirectories(_folder, ".out.*.old")[0], "previous.csv"), "old");
        Directory.CreateDirectory(In($".out.{Guid.NewGuid():N}.tmp"));
        using (var folder = new OutputFolder(In("out")))
        {
            Assert.That(File.ReadAllText(In("out/previous.csv")), Is.EqualTo("old"), "the interrupted swap is undone");
            Assert.That(Directory.GetDirectories(_folder, ".out.*.old"), Is.Empty);
            Assert.That(Directory.GetDirectories(_folder, ".out.*.tmp"), Has.Length.EqualTo(1), "only this run's staging folder");
        }
        Assert.That(Directory.GetDirectories(_folder, ".out.*.tmp"), Is.Empty, "an uncommitted staging folder is removed");
    }

    [Test]
    public void BadInput_OutputFolderWrittenByAnotherRun()
    {
        using var other = new OutputFolder(In("out"));
        var (code, output, error) = Run([.. Quick, "--output", In("out")]);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Not.Zero);
            Assert.That(error.TrimEnd(), Does.StartWith("error: output folder").And.Contain("is being written by another run"));
            Assert.That(output, Does.Not.Contain("epoch"), "nothing was trained");
            Assert.That(Directory.GetDirectories(_folder, ".out.*.tmp"), Is.EqualTo(new[] { other.Staging }), "only the other run's staging folder");
        });
    }

    [Test]
    public void BadInput_OutputFolderThatCannotBeWrittenFailsBeforeTraining()
    {
        var (code, output, error) = Run([.. Quick, "--output", "/proc/seqforecast-out"]);
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Not.Zero);
            Assert.That(error.TrimEnd(), Does.StartWith("error: output folder '/proc/seqforecast-out' cannot be written"));
            Assert.That(output, Does.Not.Contain("epoch"), "nothing was trained");
        });
    }

    [Test]
    public void BadInput_DateFarInTheFuture()
    {
        File.WriteAllText(In("typo.csv"), "item,ds,y\nA,2011-01-01,3\nA,2011-01-02,4\nA,2991-01-03,5\n");
        AssertBadInput(Run("--input", In("typo.csv"), "--output", In("out")), "has no row from 2011-01-02 to 2991-01-03");
    }

    [Test]
    public void BadInput_LongFileWithTheDateFirstIsNotGuessed()
    {
        File.WriteAllLines(In("datefirst.csv"), ["date,sku,qty", .. Enumerable.Range(0, 30).SelectMany(d => new[] { $"{new DateTime(2011, 1, 1).AddDays(d):yyyy-MM-dd},101,{d % 4}", $"{new DateTime(2011, 1, 1).AddDays(d):yyyy-MM-dd},202,{d % 3}" })]);
        AssertBadInput(Run("--input", In("datefirst.csv"), "--output", In("out")), "--layout long --date-column date");
    }

    [Test]
    public void Run_LongFileWithTheDateFirstReadsWithItsColumnsNamed()
    {
        File.WriteAllLines(In("datefirst.csv"), ["date;sku;qty", .. Enumerable.Range(0, 120).SelectMany(d => new[] { $"{new DateTime(2011, 1, 1).AddDays(d):yyyy-MM-dd};101;{d % 4}", $"{new DateTime(2011, 1, 1).AddDays(d):yyyy-MM-dd};202;{d % 3 + 10}" })]);
        var (code, output, error) = Run("--input", In("datefirst.csv"), "--layout", "long", "--date-column", "date", "--id-column", "sku", "--value-column", "qty", "--delimiter", ";", "--model", "naive", "--horizon", "7", "--output", In("out"));
        Assert.That(code, Is.Zero, error);
        Assert.That(output, Does.Contain("Loaded 2 series"));
    }

    [Test]
    public void BadInput_ValuesTooLargeToBeSales()
    {
        File.WriteAllLines(In("huge.csv"), ["item,ds,y", .. Enumerable.Range(0, 60).Select(d => $"A,{new DateTime(2011, 1, 1).AddDays(d):yyyy-MM-dd},{(d == 40 ? "1e300" : "5")}")]);
        AssertBadInput(Run("--input", In("huge.csv"), "--output", In("out")), "series 'A' has 1E+300 on 2011-02-10, more than 1e12 in size");
    }

    [TestCase("'abc'", "'abc' is not a number")]
    [TestCase("x'0102'", "the value is a BLOB")]
    public void BadInput_QueryValueOfTheWrongType(string value, string expected)
    {
        var database = In("typed.db");
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE TABLE sales (id TEXT, date TEXT, value); INSERT INTO sales VALUES ('A', '2011-01-01', 3), ('A', '2011-01-02', {value});";
            command.ExecuteNonQuery();
        }
        AssertBadInput(Run("--sqlite", database, "--output", In("out")), $"query row 2, column 'value': {expected}");
    }

    [Test]
    public void Run_ConstantProductIsReportedAndTheRunGoesOn()
    {
        var lines = File.ReadAllLines(SalesData.BundledPath).Where((l, i) => i == 0 || l.StartsWith("22197,")).ToList();
        lines.AddRange(Enumerable.Range(0, 300).Select(d => $"FLAT,{new DateTime(2011, 1, 1).AddDays(d):yyyy-MM-dd},0"));
        File.WriteAllLines(In("flat.csv"), lines);
        var (code, output, error) = Run("--input", In("flat.csv"), "--model", "naive", "--horizon", "7", "--output", In("out"));
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, error);
            Assert.That(output, Does.Contain("note: product 'FLAT' has no MASE"));
        });
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
        AssertBadInput(Run("--input", In("short.csv"), "--output", In("out")), "'SKU-7' has");
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
        using var model = ForecasterFile.Load(In("out/gru.safetensors"));
        var network = (FittedRnnForecaster)((FittedConformal)model).Inner;
        Assert.That(network.Info.TrainedOn, Is.EqualTo("libtorch-cpu"));
    }

    [Test]
    public void Run_TrainsInMixedPrecisionOnLibTorchCpu()
    {
        var (code, output, error) = Run([.. Quick, "--model", "gru", "--device", "libtorch-cpu", "--precision", "mixed", "--output", In("out")]);
        Assert.That(code, Is.Zero, error + output);
        using var model = ForecasterFile.Load(In("out/gru.safetensors"));
        var network = (FittedRnnForecaster)((FittedConformal)model).Inner;
        Assert.That(network.Info.TrainedOn, Is.EqualTo("libtorch-cpu-mixed"));
    }

    [Test]
    public void BadInput_PrecisionTheDeviceCannotRun() => Assert.Multiple(() =>
    {
        AssertBadInput(Run([.. Quick, "--precision", "mixed", "--output", In("out")]), "--precision mixed is a libtorch mode; the managed engine (--device cpu) computes in float32");
        AssertBadInput(Run([.. Quick, "--device", "libtorch-cpu", "--precision", "tf32", "--output", In("out")]), "--precision tf32 runs on CUDA tensor cores only");
        AssertBadInput(Run("--precision", "half", "--output", In("out")), "'half'");
    });

    [TestCase("cpu")]
    [TestCase("libtorch-cpu")]
    public void Run_LaunchedAsTwoRanksTrainsTogetherAndRankZeroWritesWhatOneProcessWrites(string device)
    {
        // Two processes of the sample over Gloo on loopback, launched with torchrun's variables, against one process.
        var (code, output, error) = Run([.. Quick, "--device", device, "--output", In("single")]);
        Assert.That(code, Is.Zero, error + output);
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var ranks = new List<(Process Process, Task<string> Output, Task<string> Error)>();
        try
        {
            for (int rank = 0; rank < 2; rank++)
            {
                var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
                start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SalesForecast.dll"));
                foreach (var a in (string[])[.. Quick, "--device", device, "--output", In($"rank{rank}")]) start.ArgumentList.Add(a);
                start.Environment["RANK"] = rank.ToString(CultureInfo.InvariantCulture);
                start.Environment["WORLD_SIZE"] = "2";
                start.Environment["MASTER_ADDR"] = "127.0.0.1";
                start.Environment["MASTER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
                start.Environment["SEQFORECAST_DIST_TIMEOUT_SECONDS"] = "60";
                start.Environment["SEQFORECAST_THREADS"] = "1";
                var process = Process.Start(start)!;
                ranks.Add((process, process.StandardOutput.ReadToEndAsync(), process.StandardError.ReadToEndAsync()));
            }
            foreach (var (process, _, _) in ranks)
                Assert.That(process.WaitForExit(TimeSpan.FromMinutes(3)), Is.True, "a rank did not finish within 3 minutes");
            string Log(int r) => ranks[r].Output.Result + ranks[r].Error.Result;
            Assert.Multiple(() =>
            {
                Assert.That(ranks.Select(r => r.Process.ExitCode), Is.All.Zero, () => Log(0) + Log(1));
                Assert.That(Log(0), Does.Contain("rank 0 of 2; this rank writes the results"));
                Assert.That(Log(1), Does.Contain("rank 1 of 2: trained 3 network(s) with the group"));
                Assert.That(Directory.Exists(In("rank1")), Is.False, "rank 1 writes nothing");
            });
            var expected = File.ReadAllLines(In("single/metrics.csv"));
            var actual = File.ReadAllLines(In("rank0/metrics.csv"));
            Assert.That(actual, Has.Length.EqualTo(expected.Length));
            Assert.Multiple(() =>
            {
                for (int line = 0; line < expected.Length; line++)
                {
                    var (e, a) = (expected[line].Split(','), actual[line].Split(','));
                    Assert.That(a, Has.Length.EqualTo(e.Length));
                    for (int c = 0; c < e.Length; c++)
                        if (double.TryParse(e[c], CultureInfo.InvariantCulture, out var x) && double.TryParse(a[c], CultureInfo.InvariantCulture, out var y))
                            Assert.That(y, Is.EqualTo(x).Within(1e-3 * Math.Abs(x) + 1e-6), $"metrics.csv line {line + 1}, column {c + 1}");
                        else
                            Assert.That(a[c], Is.EqualTo(e[c]), $"metrics.csv line {line + 1}, column {c + 1}");
                }
            });
        }
        finally
        {
            foreach (var (process, _, _) in ranks)
            {
                if (!process.HasExited) process.Kill(entireProcessTree: true);
                process.Dispose();
            }
        }
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
