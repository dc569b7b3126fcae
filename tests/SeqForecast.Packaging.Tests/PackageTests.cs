using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using SeqForecast.Tests;

namespace SeqForecast.Packaging.Tests;

/// <summary>
/// Packs the three libraries into a folder feed and uses them as NuGet users would: the package contents, the README's
/// quick start and a libtorch training step in a net10.0 app that builds the shim through the package's target, and a
/// self-contained, trimmed net8.0 app that trains, saves, loads and predicts on the real .NET 8 runtime.
/// </summary>
[NonParallelizable]
public class PackageTests
{
    private string _work = "";
    private string _feed = "";
    private string _version = "";

    internal static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "SeqForecast.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("SeqForecast.sln not found above the test directory");
        }
    }

    [OneTimeSetUp]
    public void Pack()
    {
        _work = Path.Combine(Path.GetTempPath(), "seqforecast-pack", Guid.NewGuid().ToString("N"));
        _feed = Path.Combine(_work, "feed");
        Directory.CreateDirectory(_feed);
        _version = $"0.2.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
        foreach (var project in new[] { "SeqForecast", "SeqForecast.LibTorch", "SeqForecast.Data" })
        {
            var path = Path.Combine(RepositoryRoot, "src", project, $"{project}.csproj");
            var (code, output) = ProcessRunner.Run("dotnet", $"pack \"{path}\" -c Release -o \"{_feed}\" -p:Version={_version}", RepositoryRoot, TimeSpan.FromMinutes(5));
            Assert.That(code, Is.Zero, output);
            Assert.That(Regex.Matches(output, @"\bwarning\b").Count, Is.Zero, $"dotnet pack {project} has no warnings:\n{output}");
        }
    }

    [OneTimeTearDown]
    public void Clean()
    {
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }

    private (string[] Entries, string Nuspec, string Readme) Open(string id)
    {
        var package = Path.Combine(_feed, $"{id}.{_version}.nupkg");
        Assert.That(File.Exists(package), Is.True, package);
        using var zip = ZipFile.OpenRead(package);
        using var nuspec = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        using var readme = new StreamReader(zip.GetEntry("README.md")!.Open());
        return (zip.Entries.Select(e => e.FullName).ToArray(), nuspec.ReadToEnd(), readme.ReadToEnd());
    }

    [TestCase("SeqForecast")]
    [TestCase("SeqForecast.LibTorch")]
    [TestCase("SeqForecast.Data")]
    public void Pack_ProducesAPackageThatRendersOnItsPage(string id)
    {
        var (entries, nuspec, readme) = Open(id);
        var metadata = XDocument.Parse(nuspec).Root!.Elements().First();
        XNamespace ns = metadata.Name.Namespace;
        var links = Regex.Matches(readme, @"\]\(([^)]+)\)").Select(m => m.Groups[1].Value).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(entries, Does.Contain("README.md").And.Contain("icon.png"));
            Assert.That(entries, Does.Contain($"lib/net8.0/{id}.dll").And.Contain($"lib/net10.0/{id}.dll"));
            Assert.That(entries, Does.Contain($"lib/net10.0/{id}.xml"), "XML docs");
            Assert.That(metadata.Element(ns + "license")!.Value, Is.EqualTo("MIT"));
            Assert.That(metadata.Element(ns + "readme")!.Value, Is.EqualTo("README.md"));
            Assert.That(metadata.Element(ns + "icon")!.Value, Is.EqualTo("icon.png"));
            Assert.That(metadata.Element(ns + "releaseNotes")?.Value, Does.Contain("CHANGELOG.md"));
            Assert.That(metadata.Element(ns + "repository")!.Attribute("url")!.Value, Does.StartWith("https://"));
            Assert.That(metadata.Element(ns + "repository")!.Attribute("commit")?.Value, Has.Length.EqualTo(40));
            Assert.That(links, Is.Not.Empty);
            Assert.That(links, Is.All.StartsWith("https://"), "the package page cannot resolve relative links");
            Assert.That(Regex.IsMatch(readme, @"!\[[^\]]*\]\((?!https://)"), Is.False, "no relative images");
            Assert.That(File.Exists(Path.Combine(_feed, $"{id}.{_version}.snupkg")), Is.True, "symbols package");
        });
        if (id == "SeqForecast") Assert.That(nuspec, Does.Not.Contain("LibTorch").And.Not.Contain("Parquet"), "the core package references neither native code nor the data interop packages");
        if (id == "SeqForecast.LibTorch")
            Assert.That(entries, Does.Contain("native/seqforecast_torch.cpp").And.Contain("native/CMakeLists.txt").And.Contain("buildTransitive/SeqForecast.LibTorch.targets").And.Contain("runtimes/linux-x64/native/libseqforecast_torch.so"));
    }

    [Test]
    public void Symbols_MapSourcesToTheRepository()
    {
        using var zip = ZipFile.OpenRead(Path.Combine(_feed, $"SeqForecast.{_version}.snupkg"));
        using var pdb = new MemoryStream();
        zip.GetEntry("lib/net10.0/SeqForecast.pdb")!.Open().CopyTo(pdb);
        var text = System.Text.Encoding.UTF8.GetString(pdb.ToArray());
        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Contain("{\"documents\":{\"/_/*\":\"https://raw.githubusercontent.com/"), "Source Link");
            Assert.That(text, Does.Not.Contain(RepositoryRoot), "no build-machine paths");
        });
    }

    private string Consumer(string name, string targetFramework, string packages, string program, string extra = "")
    {
        var folder = Path.Combine(_work, name);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, $"{name}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>{targetFramework}</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <NoWarn>NU1603</NoWarn>
                {extra}
              </PropertyGroup>
              <ItemGroup>
                {packages}
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{_feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), program);
        return folder;
    }

    [Test]
    public void Net10App_RunsTheQuickStartAndTrainsOnLibTorchAfterBuildingTheShimFromThePackage()
    {
        var program = QuickStart() + """

            // A libtorch training step through the shim that BuildLibTorchShim built from the package's sources.
            var torch = options with { Backend = SeqForecast.LibTorch.LibTorchBackend.Cpu(), Training = options.Training with { Epochs = 1, WindowsPerEpoch = 64 } };
            using var onTorch = new RnnForecaster(torch).Fit(loaded.Series);
            Console.WriteLine($"libtorch {SeqForecast.LibTorch.LibTorchBackend.LibTorchVersion}: trained {onTorch.Training!.History.Count} epoch");

            // Load the saved model and predict with it.
            using var reloaded = ForecasterFile.Load("sales-model.safetensors");
            var again = reloaded.Predict(loaded.Series, new PredictOptions { Future = plan });
            var before = model.Predict(loaded.Series, new PredictOptions { Future = plan });
            Console.WriteLine($"loaded predictions equal: {again.Zip(before).All(p => p.First.FirstTarget.SequenceEqual(p.Second.FirstTarget))}");
            """;
        var folder = Consumer("Net10Consumer", "net10.0",
            $"""<PackageReference Include="SeqForecast" Version="{_version}" /><PackageReference Include="SeqForecast.LibTorch" Version="{_version}" />""", program);
        // Gloo's headers from a folder of their own through GlooInclude, as a libtorch without them (pip's torch) needs.
        const string debianGloo = "/usr/include/gloo";
        Assert.That(Directory.Exists(debianGloo), Is.True, "Gloo's headers (apt-get install libgloo-dev) are needed for the shim's process groups");
        var glooInclude = Path.Combine(folder, "gloo-headers");
        CopyFolder(debianGloo, Path.Combine(glooInclude, "gloo"));
        var (built, buildOutput) = ProcessRunner.Run("dotnet", $"build -t:BuildLibTorchShim -c Release -p:GlooInclude={glooInclude}", folder, TimeSpan.FromMinutes(8));
        Assert.That(built, Is.Zero, buildOutput);
        Assert.That(buildOutput, Does.Contain($"distributed training with Gloo ({glooInclude})"), "GlooInclude reaches CMake");
        Assert.That(File.Exists(Path.Combine(folder, "obj", "libtorch-shim", "libseqforecast_torch.so")), Is.True, "the shim is built into obj/libtorch-shim");
        var (code, output) = ProcessRunner.Run("dotnet", "run -c Release", folder, TimeSpan.FromMinutes(8));
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, output);
            Assert.That(output, Does.Match(@"MASE: LSTM \d+\.\d{3}, seasonal naive \d+\.\d{3}"));
            Assert.That(output, Does.Contain("3 series,"));
            Assert.That(output, Does.Match(@"libtorch \d+\.\d+\.\d+: trained 1 epoch"));
            Assert.That(output, Does.Match(@"A, next day: 90% interval -?\d+\.\d to \d+\.\d"), "the README's interval example ran");
            Assert.That(output, Does.Contain("loaded predictions equal: True"));
            Assert.That(File.Exists(Path.Combine(folder, "sales-model.safetensors")), Is.True);
            Assert.That(File.Exists(Path.Combine(folder, "bin", "Release", "net10.0", "libseqforecast_torch.so")), Is.True, "the built shim is copied beside the app");
        });
    }

    [Test]
    public void Net8TrimmedSelfContainedApp_TrainsSavesLoadsAndPredicts()
    {
        const string program = """
            using SeqForecast.Data;
            using SeqForecast.Forecasting;
            using SeqForecast.Training;
            using SeqForecast.Windows;

            var start = new DateTime(2024, 1, 1);
            var series = Enumerable.Range(0, 2).Select(i => TimeSeries.FromValues($"s{i}",
                Enumerable.Range(0, 80).Select(t => 10.0 * (i + 1) + 3 * Math.Sin(2 * Math.PI * t / 7)).ToArray(),
                Enumerable.Range(0, 80).Select(t => start.AddDays(t)).ToArray())).ToArray();
            var options = new RnnForecasterOptions(new WindowSpec(14, 7) { Calendar = CalendarFeatures.DayOfWeek })
            {
                HiddenSize = 16,
                Training = RnnForecasterOptions.DefaultTraining with { Epochs = 3, WindowsPerEpoch = 256, Loss = LossOptions.Pinball(0.1, 0.5, 0.9) },
            };
            using var model = new RnnForecaster(options).Fit(series);
            var path = Path.Combine(AppContext.BaseDirectory, "trimmed.safetensors");
            model.Save(path);
            using var fromFile = ForecasterFile.Load(path);
            using var stream = new MemoryStream();
            model.Save(stream);
            stream.Position = 0;
            using var fromStream = FittedRnnForecaster.Load(stream);
            var expected = model.Predict(series);
            bool same = fromFile.Predict(series).Zip(expected).All(p => p.First.FirstTarget.SequenceEqual(p.Second.FirstTarget))
                && fromStream.Predict(series).Zip(expected).All(p => p.First.Interval(0.8).Upper.SequenceEqual(p.Second.Interval(0.8).Upper));
            Console.WriteLine($"runtime {Environment.Version}; loaded predictions equal: {same}; first forecast {expected[0].FirstTarget[0]:F3}");
            return same ? 0 : 1;
            """;
        var folder = Consumer("Net8Trimmed", "net8.0", $"""<PackageReference Include="SeqForecast" Version="{_version}" />""", program,
            "<RuntimeIdentifier>linux-x64</RuntimeIdentifier><SelfContained>true</SelfContained><PublishTrimmed>true</PublishTrimmed><InvariantGlobalization>true</InvariantGlobalization>" +
            "<TreatWarningsAsErrors>false</TreatWarningsAsErrors>");
        var (published, publishOutput) = ProcessRunner.Run("dotnet", "publish -c Release -o out", folder, TimeSpan.FromMinutes(8));
        Assert.That(published, Is.Zero, publishOutput);
        var (code, output) = ProcessRunner.Run(Path.Combine(folder, "out", "Net8Trimmed"), "", folder, TimeSpan.FromMinutes(5));
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, output);
            Assert.That(output, Does.Contain("runtime 8.0."), "the app runs on the .NET 8 runtime it carries");
            Assert.That(output, Does.Contain("loaded predictions equal: True"));
            Assert.That(publishOutput.Split('\n').Where(l => l.Contains("warning IL", StringComparison.Ordinal) && l.Contains("SeqForecast", StringComparison.Ordinal)), Is.Empty,
                "SeqForecast itself raises no trim warnings (its dependencies' are theirs)");
        });
    }

    /// <summary>
    /// The C# block between the quick-start markers of README.md, followed by every block between compiled markers (the
    /// README's later examples continue the quick start); their using directives move to the top.
    /// </summary>
    internal static string QuickStart()
    {
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot, "README.md"));
        var match = Regex.Match(readme, @"<!-- quick-start:begin -->\s*```csharp\n(?<code>.*?)```\s*<!-- quick-start:end -->", RegexOptions.Singleline);
        Assert.That(match.Success, Is.True, "README.md has a quick-start block between its markers");
        var more = Regex.Matches(readme, @"<!-- compiled:begin -->\s*```csharp\n(?<code>.*?)```\s*<!-- compiled:end -->", RegexOptions.Singleline);
        Assert.That(more, Is.Not.Empty, "README.md's interval example is compiled with the quick start");
        var lines = (match.Groups["code"].Value + string.Concat(more.Select(m => "\n" + m.Groups["code"].Value))).Split('\n');
        var usings = lines.Where(l => l.StartsWith("using ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(';') && !l.Contains('=')).Distinct();
        return string.Join('\n', usings.Concat(lines.Where(l => !(l.StartsWith("using ", StringComparison.Ordinal) && l.TrimEnd().EndsWith(';') && !l.Contains('=')))));
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        foreach (var folder in Directory.GetDirectories(from)) CopyFolder(folder, Path.Combine(to, Path.GetFileName(folder)));
    }
}
