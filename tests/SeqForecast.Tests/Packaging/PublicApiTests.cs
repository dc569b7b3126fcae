using PublicApiGenerator;

namespace SeqForecast.Tests.Packaging;

/// <summary>
/// The public API of each package against its checked-in baseline (src/*/PublicAPI.txt), so that any change to what
/// users can call shows in review. After an intended change, run the tests with SEQFORECAST_UPDATE_API=1 to rewrite the
/// baseline, and commit it with the change.
/// </summary>
public class PublicApiTests
{
    internal static void AssertMatchesBaseline(System.Reflection.Assembly assembly, string baseline)
    {
        var api = assembly.GeneratePublicApi(new ApiGeneratorOptions { ExcludeAttributes = ["System.Runtime.Versioning.TargetFrameworkAttribute", "System.Reflection.AssemblyMetadataAttribute"] })
            .ReplaceLineEndings("\n");
        if (Environment.GetEnvironmentVariable("SEQFORECAST_UPDATE_API") == "1") File.WriteAllText(baseline, api);
        Assert.That(File.Exists(baseline), Is.True, $"the API baseline {baseline} is checked in");
        var expected = File.ReadAllText(baseline).ReplaceLineEndings("\n");
        var changed = Diff(expected, api);
        Assert.That(changed, Is.Empty, $"the public API of {assembly.GetName().Name} differs from {baseline} (- removed, + added); if intended, rerun with SEQFORECAST_UPDATE_API=1 and commit the baseline");
    }

    private static IReadOnlyList<string> Diff(string expected, string actual)
    {
        var before = expected.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToHashSet();
        var after = actual.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToHashSet();
        return before.Except(after).Select(l => "- " + l).Concat(after.Except(before).Select(l => "+ " + l)).ToArray();
    }

    [Test]
    public void SeqForecast_PublicApiMatchesTheBaseline() =>
        AssertMatchesBaseline(typeof(SeqForecast.Forecasting.RnnForecaster).Assembly, Path.Combine(TestPaths.RepositoryRoot, "src", "SeqForecast", "PublicAPI.txt"));

    [Test]
    public void SeqForecast_EngineInternalsAreNotPublic()
    {
        var exported = typeof(SeqForecast.Forecasting.RnnForecaster).Assembly.GetExportedTypes().Select(t => t.Name).ToHashSet();
        Assert.That(exported, Has.None.AnyOf("ManagedNetwork", "ManagedSession", "AtomicFile", "SafeTensors", "DeterministicRandom", "Gemm", "WorkerPool", "WindowEncoder", "AlignedBuffer"));
    }
}
