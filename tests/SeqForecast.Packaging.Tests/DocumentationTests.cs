using System.Text.RegularExpressions;

namespace SeqForecast.Packaging.Tests;

/// <summary>The repository's Markdown stays true: every relative link and image points at a file that exists.</summary>
public class DocumentationTests
{
    [Test]
    public void RelativeLinks_PointAtFilesThatExist()
    {
        var root = PackageTests.RepositoryRoot;
        var pages = new[] { "README.md", "CHANGELOG.md" }.Select(p => Path.Combine(root, p))
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md"))
            .ToArray();
        var broken = new List<string>();
        foreach (var page in pages)
        {
            foreach (Match link in Regex.Matches(File.ReadAllText(page), @"\]\((?<target>[^)\s#]+)(#[^)]*)?\)"))
            {
                var target = link.Groups["target"].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
                var path = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, target));
                if (!File.Exists(path) && !Directory.Exists(path)) broken.Add($"{Path.GetRelativePath(root, page)} → {target}");
            }
        }
        Assert.That(pages, Has.Length.GreaterThan(5));
        Assert.That(broken, Is.Empty);
    }
}
