using System.IO.Compression;
using System.Text.RegularExpressions;

namespace SeqForecast.Tests.Packaging;

/// <summary>
/// Packs the library, checks the package, and compiles and runs the README's quick start in a throwaway console
/// project that restores SeqForecast from a local folder feed.
/// </summary>
[NonParallelizable]
public class PackageTests
{
    private string _work = "";
    private string _feed = "";
    private string _version = "";

    [OneTimeSetUp]
    public void Pack()
    {
        _work = Path.Combine(Path.GetTempPath(), "seqforecast-pack", Guid.NewGuid().ToString("N"));
        _feed = Path.Combine(_work, "feed");
        Directory.CreateDirectory(_feed);
        _version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}";
        var project = Path.Combine(TestPaths.RepositoryRoot, "src", "SeqForecast", "SeqForecast.csproj");
        var (code, output) = ProcessRunner.Run("dotnet", $"pack \"{project}\" -c Release -o \"{_feed}\" -p:Version={_version}", TestPaths.RepositoryRoot, TimeSpan.FromMinutes(5));
        Assert.That(code, Is.Zero, output);
    }

    [OneTimeTearDown]
    public void Clean()
    {
        if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
    }

    [Test]
    public void Pack_ProducesPackageWithReadmeLicenseDocsAndSymbols()
    {
        var package = Path.Combine(_feed, $"SeqForecast.{_version}.nupkg");
        Assert.That(File.Exists(package), Is.True, package);
        using var zip = ZipFile.OpenRead(package);
        var entries = zip.Entries.Select(e => e.FullName).ToArray();
        using var nuspecReader = new StreamReader(zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal)).Open());
        var nuspec = nuspecReader.ReadToEnd();
        Assert.Multiple(() =>
        {
            Assert.That(entries, Does.Contain("README.md"));
            Assert.That(entries, Does.Contain("lib/net10.0/SeqForecast.dll"));
            Assert.That(entries, Does.Contain("lib/net10.0/SeqForecast.xml"));
            Assert.That(nuspec, Does.Contain("<license type=\"expression\">MIT</license>"));
            Assert.That(nuspec, Does.Contain("<readme>README.md</readme>"));
            Assert.That(File.Exists(Path.Combine(_feed, $"SeqForecast.{_version}.snupkg")), Is.True, "symbols package");
            Assert.That(nuspec, Does.Not.Contain("LibTorch"), "the core package references no native package");
        });
    }

    [Test]
    public void QuickStart_CompilesAndRunsAgainstThePackedPackage()
    {
        var consumer = Path.Combine(_work, "consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                <NoWarn>NU1603</NoWarn>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SeqForecast" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{_feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), QuickStart());
        var (code, output) = ProcessRunner.Run("dotnet", "run -c Release", consumer, TimeSpan.FromMinutes(8));
        Assert.Multiple(() =>
        {
            Assert.That(code, Is.Zero, output);
            Assert.That(output, Does.Match(@"MASE: LSTM \d+\.\d{3}, seasonal naive \d+\.\d{3}"));
            Assert.That(output, Does.Contain("2 series,"));
            Assert.That(File.Exists(Path.Combine(consumer, "sales-model.safetensors")), Is.True);
        });
    }

    /// <summary>The C# block between the quick-start markers of README.md.</summary>
    internal static string QuickStart()
    {
        var readme = File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "README.md"));
        var match = Regex.Match(readme, @"<!-- quick-start:begin -->\s*```csharp\n(?<code>.*?)```\s*<!-- quick-start:end -->", RegexOptions.Singleline);
        Assert.That(match.Success, Is.True, "README.md has a quick-start block between its markers");
        return match.Groups["code"].Value;
    }
}
