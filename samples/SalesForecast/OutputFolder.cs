namespace SalesForecast;

/// <summary>
/// An output folder written all at once: files go to a staging folder beside it, and <see cref="Commit"/> swaps the
/// staging folder in, so readers see either every old file or every new one. A lock file beside the folder keeps two
/// runs from writing it at the same time, and staging or backup folders left by a killed run are cleaned (or, for a
/// backup whose swap was interrupted, restored) when the next run takes the lock.
/// </summary>
/// <remarks>
/// Layout beside <c>out</c>: <c>.out.lock</c> (held open while the run writes), <c>.out.{guid}.tmp</c> (the staging
/// folder), <c>.out.{guid}.old</c> (the previous folder during the swap). The swap is two renames; if the second fails
/// the first is undone, and if the process dies between them the next run renames the backup back.
/// </remarks>
internal sealed class OutputFolder : IDisposable
{
    private readonly string _destination;
    private readonly string _parent;
    private readonly string _name;
    private readonly FileStream _lock;
    private bool _committed;

    /// <summary>Checks that the folder can be written, takes the lock, cleans leftovers and creates the staging folder.</summary>
    /// <exception cref="IOException">Another run holds the lock, or the folder cannot be created or written.</exception>
    public OutputFolder(string destination)
    {
        _destination = Path.GetFullPath(destination.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar));
        _parent = Path.GetDirectoryName(_destination) ?? throw new IOException($"output folder '{destination}' has no parent folder");
        _name = Path.GetFileName(_destination);
        if (File.Exists(_destination)) throw new IOException($"output folder '{destination}' is a file; give a folder with --output");
        try
        {
            Directory.CreateDirectory(_parent);
            _lock = new FileStream(Path.Combine(_parent, $".{_name}.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
        }
        catch (UnauthorizedAccessException)
        {
            throw new IOException($"output folder '{destination}' cannot be written: no permission to create files in '{_parent}'");
        }
        catch (IOException ex) when (IsSharingViolation(ex))
        {
            throw new IOException($"output folder '{destination}' is being written by another run (lock '.{_name}.lock' in '{_parent}' is held); wait for it or use another --output");
        }
        catch (IOException ex)
        {
            throw new IOException($"output folder '{destination}' cannot be written: {ex.Message}");
        }
        try
        {
            Recover();
            Staging = Path.Combine(_parent, $".{_name}.{Guid.NewGuid():N}.tmp");
            Directory.CreateDirectory(Staging);
            if (Directory.Exists(_destination)) Probe(_destination);
        }
        catch (UnauthorizedAccessException)
        {
            _lock.Dispose();
            throw new IOException($"output folder '{destination}' cannot be written: no permission in '{_parent}'");
        }
        catch
        {
            _lock.Dispose();
            throw;
        }
    }

    /// <summary>Where files are written during the run.</summary>
    public string Staging { get; } = "";

    public string PathOf(string fileName) => Path.Combine(Staging, fileName);

    /// <summary>Replaces the destination folder with the staging folder; returns the files now in it.</summary>
    /// <exception cref="IOException">A rename failed; the previous folder is back in place.</exception>
    public IReadOnlyList<string> Commit()
    {
        string backup = Path.Combine(_parent, $".{_name}.{Guid.NewGuid():N}.old");
        bool hadOld = Directory.Exists(_destination);
        if (hadOld) Directory.Move(_destination, backup);
        try
        {
            Directory.Move(Staging, _destination);
        }
        catch
        {
            if (hadOld) Directory.Move(backup, _destination);
            throw;
        }
        _committed = true;
        if (hadOld) Directory.Delete(backup, recursive: true);
        return Directory.GetFiles(_destination).Order(StringComparer.Ordinal).ToArray();
    }

    public void Dispose()
    {
        try
        {
            if (!_committed && Directory.Exists(Staging)) Directory.Delete(Staging, recursive: true);
        }
        finally
        {
            _lock.Dispose();
        }
    }

    /// <summary>Leftovers of a killed run: a swap interrupted between its renames is finished backwards (the backup restored); staging folders are deleted.</summary>
    private void Recover()
    {
        var backups = Directory.GetDirectories(_parent, $".{_name}.*.old");
        if (!Directory.Exists(_destination) && backups.Length > 0)
            Directory.Move(backups.OrderByDescending(Directory.GetLastWriteTimeUtc).First(), _destination);
        foreach (var stale in Directory.GetDirectories(_parent, $".{_name}.*.old").Concat(Directory.GetDirectories(_parent, $".{_name}.*.tmp")))
            Directory.Delete(stale, recursive: true);
    }

    /// <summary>The lock is held elsewhere: a sharing violation (Windows: 32) or a refused flock (Unix: EWOULDBLOCK, 11).</summary>
    private static bool IsSharingViolation(IOException ex) => ex.HResult is 11 or 32 or unchecked((int)0x80070020);

    private static void Probe(string folder)
    {
        // Renaming the folder later needs write access to it too (on some systems); check now, before any training.
        var probe = Path.Combine(folder, $".write-test.{Guid.NewGuid():N}");
        File.WriteAllBytes(probe, []);
        File.Delete(probe);
    }
}
