namespace SalesForecast;

/// <summary>
/// Collects a run's files in a temporary folder beside the destination and moves them in only when the run succeeds,
/// so a failed run leaves nothing partial in the output folder.
/// </summary>
internal sealed class OutputFolder : IDisposable
{
    private readonly string _destination;

    public OutputFolder(string destination)
    {
        _destination = Path.GetFullPath(destination);
        var parent = Path.GetDirectoryName(_destination)!;
        Directory.CreateDirectory(parent);
        Staging = Path.Combine(parent, $".{Path.GetFileName(_destination)}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(Staging);
    }

    /// <summary>Where files are written during the run.</summary>
    public string Staging { get; }

    public string PathOf(string fileName) => Path.Combine(Staging, fileName);

    /// <summary>Moves every staged file into the destination, replacing files of the same name.</summary>
    public IReadOnlyList<string> Commit()
    {
        Directory.CreateDirectory(_destination);
        var moved = new List<string>();
        foreach (var file in Directory.GetFiles(Staging))
        {
            var target = Path.Combine(_destination, Path.GetFileName(file));
            File.Move(file, target, overwrite: true);
            moved.Add(target);
        }
        return moved;
    }

    public void Dispose()
    {
        // After a commit the staging folder is empty; after a failure it holds the partial files. Either way it goes.
        if (Directory.Exists(Staging)) Directory.Delete(Staging, recursive: true);
    }
}
