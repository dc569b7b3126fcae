using System.CommandLine;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using SeqForecast.Data;
using SeqForecast.Forecasting;
using SeqForecast.Training;
using Spectre.Console;

namespace SalesForecast;

/// <summary>The command line: the default forecast job, <c>import</c> and <c>predict</c>.</summary>
internal static class App
{
    /// <summary>Runs the CLI. Bad input prints one line to <paramref name="error"/> and returns a non-zero code.</summary>
    public static int Run(string[] args, IAnsiConsole console, TextWriter error)
    {
        var input = new Option<string?>("--input") { Description = "Sales CSV: long (id, date, value) or wide (date, one column per series). Default: the bundled UCI Online Retail data." };
        var sqlite = new Option<string?>("--sqlite") { Description = "Read sales from this SQLite database instead of a CSV." };
        var query = new Option<string>("--query") { Description = "SQL returning id, date, value rows (with --sqlite).", DefaultValueFactory = _ => "SELECT id, date, value FROM sales" };
        var model = new Option<string>("--model") { Description = "Model whose forecasts are written: lstm (also fits GRU for comparison), gru, ar or naive.", DefaultValueFactory = _ => "lstm" };
        model.AcceptOnlyFromAmong("lstm", "gru", "ar", "naive");
        var horizon = new Option<int>("--horizon") { Description = "Days forecast and held out.", DefaultValueFactory = _ => 28 };
        var lookback = new Option<int>("--lookback") { Description = "Days of history the network reads.", DefaultValueFactory = _ => 56 };
        var epochs = new Option<int>("--epochs") { Description = "Maximum training epochs (early stopping may end sooner).", DefaultValueFactory = _ => 40 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of weights, shuffles and dropout.", DefaultValueFactory = _ => 1UL };
        var output = new Option<string>("--output") { Description = "Folder for forecasts.csv, metrics.csv, forecast.svg and the model file.", DefaultValueFactory = _ => "out" };
        var device = new Option<string>("--device") { Description = "Compute device: cpu (managed engine), libtorch-cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        device.AcceptOnlyFromAmong(Backends.Devices);
        var maxSeries = new Option<int>("--max-series") { Description = "Use only the first N series (for quick runs).", DefaultValueFactory = _ => int.MaxValue };

        var root = new RootCommand("Forecasts daily product sales with a global LSTM and compares it with GRU, AR(p), seasonal naive and naive.")
        {
            input, sqlite, query, model, horizon, lookback, epochs, seed, output, device, maxSeries,
        };
        root.SetAction(r => new ForecastJob(console).Run(new JobSettings
        {
            Input = r.GetValue(input), Sqlite = r.GetValue(sqlite), Query = r.GetValue(query)!, Model = r.GetValue(model)!,
            Horizon = Positive(r.GetValue(horizon), "--horizon"), Lookback = Positive(r.GetValue(lookback), "--lookback"),
            Epochs = Positive(r.GetValue(epochs), "--epochs"), Seed = r.GetValue(seed), Output = r.GetValue(output)!,
            Device = r.GetValue(device)!, MaxSeries = Positive(r.GetValue(maxSeries), "--max-series"),
        }));

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
        var predictInput = new Option<string?>("--input") { Description = "Sales CSV with the series to forecast (same ids as in training). Default: the bundled data." };
        var predictOutput = new Option<string>("--output") { Description = "Folder for predictions.csv.", DefaultValueFactory = _ => "out" };
        var predictDevice = new Option<string>("--device") { Description = "cpu, libtorch-cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        predictDevice.AcceptOnlyFromAmong(Backends.Devices);
        var predict = new Command("predict", "Load a saved model file and forecast the next horizon of each series.") { modelFile, predictInput, predictOutput, predictDevice };
        predict.SetAction(r => Predict(console, r.GetValue(modelFile)!, r.GetValue(predictInput), r.GetValue(predictOutput)!, r.GetValue(predictDevice)!));
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
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or CsvDataException or ArgumentException
                                   or InvalidDataException or InvalidOperationException or SqliteException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {OneLine(ex)}");
            return 1;
        }
    }

    private static int Predict(IAnsiConsole console, string modelPath, string? inputPath, string outputFolder, string device)
    {
        var backend = Backends.Resolve(device);
        using var model = FittedRnnForecaster.Load(modelPath, backend);
        var series = SalesData.ReadCsv(inputPath ?? SalesData.BundledPath).Series;
        var predictions = model.Predict(series);
        var csv = new StringBuilder("item,date,forecast\n");
        foreach (var p in predictions)
            for (int h = 0; h < p.FirstTarget.Count; h++)
                csv.Append(CultureInfo.InvariantCulture, $"{p.SeriesId},{(p.Timestamps.Count > h ? p.Timestamps[h].ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : h.ToString(CultureInfo.InvariantCulture))},{p.FirstTarget[h]:G6}\n");
        using var output = new OutputFolder(outputFolder);
        File.WriteAllText(output.PathOf("predictions.csv"), csv.ToString());
        foreach (var file in output.Commit())
            console.MarkupLine($"wrote [green]{Markup.Escape(file)}[/] ({predictions.Count} series × {model.Window.Horizon} days)");
        return 0;
    }

    private static int Positive(int value, string option) => value > 0 ? value : throw new ArgumentException($"{option} is {value}; it must be at least 1");

    /// <summary>The message without ArgumentException's "(Parameter 'x')" suffix, on one line.</summary>
    private static string OneLine(Exception ex)
    {
        var message = ex is ArgumentException { ParamName: { } name } ? ex.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal) : ex.Message;
        if (ex is TrainingDivergedException) message = "training failed: " + message;
        return message.ReplaceLineEndings(" ");
    }
}
