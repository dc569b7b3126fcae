namespace SeqForecast.Accuracy;

/// <summary>
/// The accuracy runner: <c>dotnet run --project benchmarks/SeqForecast.Accuracy -c Release -- [all|m4|etth2|retail] [--output PATH]</c>
/// runs the data sets named (default all) and writes their sections of docs/accuracy.md (or PATH).
/// <c>experiment [candidate ...]</c> scores M4 configurations on validation data only.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "data");
        if (args.Length > 0 && args[0] == "experiment") return Experiment.Run(folder, args[1..]);
        string output = Path.Combine(FindRepository(), "docs", "accuracy.md");
        var sets = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--output" && i + 1 < args.Length) output = Path.GetFullPath(args[++i]);
            else if (args[i] is "all" or "m4" or "etth2" or "retail") sets.Add(args[i]);
            else
            {
                Console.Error.WriteLine($"error: unknown argument '{args[i]}'; usage: SeqForecast.Accuracy [all|m4|etth2|retail] [--output PATH]");
                return 2;
            }
        }
        if (sets.Count == 0 || sets.Contains("all")) sets = ["m4", "etth2", "retail"];
        foreach (var set in sets)
        {
            var section = set switch
            {
                "m4" => Runs.M4(folder),
                "etth2" => Runs.Etth2(folder),
                _ => Runs.Retail(folder),
            };
            Report.Update(output, section);
            Console.WriteLine(Report.Render(section));
        }
        return 0;
    }

    private static string FindRepository()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SeqForecast.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
