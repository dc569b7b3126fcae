namespace SeqForecast.Accuracy;

internal static class Program
{
    public static int Main(string[] args)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "data");
        if (args.Length > 0 && args[0] == "experiment") return Experiment.Run(folder, args[1..]);
        Console.Error.WriteLine("usage: SeqForecast.Accuracy experiment [candidate ...]");
        return 2;
    }
}
