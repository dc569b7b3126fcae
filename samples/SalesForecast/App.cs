using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SeqForecast.Data;
using SeqForecast.Forecasting;
using SeqForecast.Training;
using Spectre.Console;

namespace SalesForecast;

/// <summary>The command line: the default forecast job, <c>backtest</c>, <c>import</c> and <c>predict</c>.</summary>
internal static class App
{
    /// <summary>Runs the CLI. Bad input prints one line to <paramref name="error"/> and returns a non-zero code.</summary>
    public static int Run(string[] args, IAnsiConsole console, TextWriter error)
    {
        var input = new Option<string?>("--input") { Description = "Sales CSV: long (id, date, value) or wide (date, one column per series). Default: the bundled UCI Online Retail data." };
        var layout = new Option<string>("--layout") { Description = "CSV layout: auto (decide, and fail when unsure), long or wide.", DefaultValueFactory = _ => "auto" };
        layout.AcceptOnlyFromAmong("auto", "long", "wide");
        var idColumn = new Option<string?>("--id-column") { Description = "Long CSV: the product id column (default: the first column)." };
        var dateColumn = new Option<string?>("--date-column") { Description = "The date column (long default: the second column; wide: the first)." };
        var valueColumn = new Option<string?>("--value-column") { Description = "Long CSV: the quantity column (default: the third column)." };
        var delimiter = new Option<string>("--delimiter") { Description = "CSV field delimiter, for example ';'.", DefaultValueFactory = _ => "," };
        var sqlite = new Option<string?>("--sqlite") { Description = "Read sales from this SQLite database instead of a CSV." };
        var query = new Option<string>("--query") { Description = "SQL returning id, date, value rows (with --sqlite).", DefaultValueFactory = _ => "SELECT id, date, value FROM sales" };
        var holidays = new Option<string?>("--holidays") { Description = "CSV of holiday dates (first column yyyy-MM-dd), fed to the networks as a known-future input. Default: the bundled UK bank holidays 2010-2012." };
        var model = new Option<string>("--model") { Description = "Model whose forecasts are written: lstm (also fits the LSTM without calendar inputs for comparison), gru, ar or naive.", DefaultValueFactory = _ => "lstm" };
        model.AcceptOnlyFromAmong("lstm", "gru", "ar", "naive");
        var horizon = new Option<int>("--horizon") { Description = "Days forecast and held out.", DefaultValueFactory = _ => 28 };
        var lookback = new Option<int>("--lookback") { Description = "Days of history the network reads.", DefaultValueFactory = _ => 56 };
        var epochs = new Option<int>("--epochs") { Description = "Maximum training epochs (early stopping may end sooner).", DefaultValueFactory = _ => 40 };
        var windows = new Option<int>("--windows-per-epoch") { Description = "Training windows drawn per epoch (the library default).", DefaultValueFactory = _ => RnnForecasterOptions.DefaultTraining.WindowsPerEpoch ?? 8192 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of weights, window draws and dropout.", DefaultValueFactory = _ => 1UL };
        var output = new Option<string>("--output") { Description = "Folder for forecasts.csv, metrics.csv, forecast.png, forecast.svg and the model file (replaced as a whole).", DefaultValueFactory = _ => "out" };
        var device = new Option<string>("--device") { Description = "Compute device: cpu (managed engine), libtorch-cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        device.AcceptOnlyFromAmong(Backends.Devices);
        var precision = new Option<string>("--precision") { Description = "libtorch precision: float32, tf32 (cuda) or mixed (float16 autocast on cuda, bfloat16 on libtorch-cpu, float32 weights).", DefaultValueFactory = _ => "float32" };
        precision.AcceptOnlyFromAmong(Backends.Precisions);
        var maxSeries = new Option<int>("--max-series") { Description = "Use only the first N series (for quick runs).", DefaultValueFactory = _ => int.MaxValue };

        JobSettings Settings(ParseResult r) => new()
        {
            Input = r.GetValue(input), Layout = Enum.Parse<CsvLayout>(r.GetValue(layout)!, ignoreCase: true),
            Columns = new CsvColumns(r.GetValue(idColumn), r.GetValue(dateColumn), r.GetValue(valueColumn), Delimiter(r.GetValue(delimiter)!)),
            Sqlite = r.GetValue(sqlite), Query = r.GetValue(query)!, Holidays = r.GetValue(holidays), Model = r.GetValue(model)!,
            Horizon = Positive(r.GetValue(horizon), "--horizon"), Lookback = Positive(r.GetValue(lookback), "--lookback"),
            Epochs = Positive(r.GetValue(epochs), "--epochs"), WindowsPerEpoch = Positive(r.GetValue(windows), "--windows-per-epoch"), Seed = r.GetValue(seed), Output = r.GetValue(output)!,
            Device = r.GetValue(device)!, Precision = r.GetValue(precision)!, MaxSeries = Positive(r.GetValue(maxSeries), "--max-series"),
        };

        var root = new RootCommand("Forecasts daily product sales with a global LSTM (calendar and holidays known in advance, calibrated intervals) and compares it with an LSTM without them, AR(p), seasonal naive and naive.")
        {
            input, layout, idColumn, dateColumn, valueColumn, delimiter, sqlite, query, holidays, model, horizon, lookback, epochs, windows, seed, output, device, precision, maxSeries,
        };
        root.SetAction(r => new ForecastJob(console).Run(Settings(r)));

        var folds = new Option<int>("--folds") { Description = "Walk-forward folds (origins every horizon days, ending at the last day).", DefaultValueFactory = _ => 4 };
        var refitEvery = new Option<int>("--refit-every") { Description = "Refit the network every N folds (0: once, on the first fold's data).", DefaultValueFactory = _ => 1 };
        var backtest = new Command("backtest", "Walk-forward backtest of the LSTM over the data: point metrics and the coverage of its quantile and conformal intervals.")
        {
            input, layout, idColumn, dateColumn, valueColumn, delimiter, sqlite, query, holidays, horizon, lookback, epochs, windows, seed, output, device, precision, maxSeries, folds, refitEvery,
        };
        backtest.SetAction(r => new BacktestJob(console).Run(Settings(r), Positive(r.GetValue(folds), "--folds"), NonNegative(r.GetValue(refitEvery), "--refit-every")));
        root.Subcommands.Add(backtest);

        var importInput = new Option<string>("--input") { Description = "Long or wide sales CSV to import.", Required = true };
        var importDatabase = new Option<string>("--sqlite") { Description = "SQLite file to create or update.", Required = true };
        var table = new Option<string>("--table") { Description = "Table to (re)create.", DefaultValueFactory = _ => "sales" };
        var import = new Command("import", "Load a sales CSV into a SQLite table (id TEXT, date TEXT, value REAL).") { importInput, importDatabase, table };
        import.SetAction(r =>
        {
            int rows = SalesData.Import(r.GetValue(importInput)!, r.GetValue(importDatabase)!, r.GetValue(table)!);
            console.MarkupLine($"imported [bold]{rows:N0}[/] rows into {Markup.Escape(r.GetValue(importDatabase)!)} table {Markup.Escape(r.GetValue(table)!)}");
            return 0;
        });
        root.Subcommands.Add(import);

        var modelFile = new Option<string>("--model-file") { Description = "Model file saved by the forecast job.", Required = true };
        var predictInput = new Option<string?>("--input") { Description = "Sales CSV with the series to forecast (new products too). Default: the bundled data." };
        var predictOutput = new Option<string>("--output") { Description = "Folder for predictions.csv (replaced as a whole).", DefaultValueFactory = _ => "out" };
        var predictDevice = new Option<string>("--device") { Description = "cpu, libtorch-cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        predictDevice.AcceptOnlyFromAmong(Backends.Devices);
        var predict = new Command("predict", "Load a saved model file and forecast the next horizon of each series, with its intervals.") { modelFile, predictInput, predictOutput, predictDevice, layout, idColumn, dateColumn, valueColumn, delimiter };
        predict.SetAction(r => Predict(console, r.GetValue(modelFile)!, r.GetValue(predictInput), r.GetValue(predictOutput)!, r.GetValue(predictDevice)!,
            Enum.Parse<CsvLayout>(r.GetValue(layout)!, ignoreCase: true), new CsvColumns(r.GetValue(idColumn), r.GetValue(dateColumn), r.GetValue(valueColumn), Delimiter(r.GetValue(delimiter)!))));
        root.Subcommands.Add(predict);

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            error.WriteLine($"error: {string.Join(' ', parsed.Errors[0].Message.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries).Select(p => p.Trim()))}");
            return 2;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or CsvDataException or ArgumentException or NotSupportedException
                                   or InvalidDataException or InvalidOperationException or SqliteException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {OneLine(ex)}");
            return 1;
        }
    }

    private static int Predict(IAnsiConsole console, string modelPath, string? inputPath, string outputFolder, string device, CsvLayout layout, CsvColumns columns)
    {
        var backend = Backends.Resolve(device);
        using var output = new OutputFolder(outputFolder);
        using var model = ForecasterFile.Load(modelPath, backend);
        var series = SalesData.ReadCsv(inputPath ?? SalesData.BundledPath, layout, columns).Series;
        var predictions = model.Predict(series);
        var csv = new StringBuilder("item,date,forecast,lower80,upper80,lower95,upper95\n");
        foreach (var p in predictions)
        {
            var (l80, u80) = p.QuantileLevels.Count > 0 ? p.Interval(0.8) : ([], []);
            var (l95, u95) = p.QuantileLevels.Count > 0 ? p.Interval(0.95) : ([], []);
            for (int h = 0; h < p.Horizon; h++)
            {
                string Band(double[] v) => v.Length > h ? v[h].ToString("G6", CultureInfo.InvariantCulture) : "";
                string date = p.Timestamps.Count > h ? p.Timestamps[h].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : h.ToString(CultureInfo.InvariantCulture);
                csv.Append(CultureInfo.InvariantCulture, $"{p.SeriesId},{date},{p.FirstTarget[h]:G6},{Band(l80)},{Band(u80)},{Band(l95)},{Band(u95)}\n");
            }
        }
        File.WriteAllText(output.PathOf("predictions.csv"), csv.ToString());
        foreach (var file in output.Commit())
            console.MarkupLine($"wrote [green]{Markup.Escape(file)}[/] ({predictions.Count} series × {model.Horizon} days)");
        return 0;
    }

    private static string Delimiter(string text) => text switch { "\\t" or "tab" => "\t", _ => text };

    private static int Positive(int value, string option) => value > 0 ? value : throw new ArgumentException($"{option} is {value}; it must be at least 1");

    private static int NonNegative(int value, string option) => value >= 0 ? value : throw new ArgumentException($"{option} is {value}; it must be at least 0");

    /// <summary>The message without ArgumentException's "(Parameter 'x')" suffix, on one line.</summary>
    private static string OneLine(Exception ex)
    {
        var message = ex is ArgumentException { ParamName: { } name } ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
        if (ex is TrainingDivergedException) message = "training failed: " + message;
        return message.ReplaceLineEndings(" ");
    }
}
