namespace SeqForecast.Tests;

internal static class TestPaths
{
    public static string Fixture(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", name);

    public static string Data(string name) => Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "Data", name);

    /// <summary>The repository root (the folder holding SeqForecast.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(TestContext.CurrentContext.TestDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SeqForecast.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("SeqForecast.sln not found above the test directory");
        }
    }
}
