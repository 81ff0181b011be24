using System.Globalization;
using Apertur.Server.Hosting;

namespace Apertur.Server.Backup;

/// <summary>
/// <c>Apertur.Server restore &lt;backup-directory&gt;</c>: copies what <c>backup</c> wrote into the data directory, which
/// must be empty, holding the data directory's lock meanwhile: a running server refuses the restore, and a server started
/// during it is refused. The same as copying the backup's content by hand (docs/operations.md), checked: the backup is
/// complete (its manifest is there) and every copy has the size of its original.
/// </summary>
public static class RestoreCommand
{
    private const string Usage = "usage: restore <backup-directory>   (what backup wrote, into the empty data directory Apertur:DataDirectory; server stopped)";

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "restore";

    public static async Task<int> RunAsync(string[] args, IServiceProvider services)
    {
        var (paths, exit) = await Installation.ReadAsync("restore", Usage, args, services);
        if (paths is null)
        {
            return exit;
        }
        var (dataDirectory, backup, database) = paths;
        if (!File.Exists(Path.Combine(backup, BackupCommand.ManifestFileName)) || !File.Exists(Path.Combine(backup, "apertur.db")))
        {
            await Console.Error.WriteLineAsync($"restore: {backup} is not a complete backup: it has no {BackupCommand.ManifestFileName} or no apertur.db "
                + "(backup writes its manifest last).");
            return 1;
        }
        if (!DataDirectoryLock.TryAcquire(dataDirectory, out var release, out _))
        {
            await Console.Error.WriteLineAsync($"restore: a server is running on the data directory {dataDirectory}: stop it first.");
            return 1;
        }
        using (release)
        {
            var present = Directory.EnumerateFileSystemEntries(dataDirectory).Select(Path.GetFileName)
                .Where(name => name != DataDirectoryLock.FileName).Order(StringComparer.Ordinal).ToList();
            if (present.Count > 0 || File.Exists(database))
            {
                await Console.Error.WriteLineAsync($"restore: the data directory {dataDirectory} is not empty ({string.Join(", ", present.DefaultIfEmpty(database).Take(3))}"
                    + $"{(present.Count > 3 ? ", …" : "")}): restore into an empty one (move this one aside first).");
                return 1;
            }
            try
            {
                var (files, bytes) = Copy(backup, dataDirectory, database);
                await Console.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"restore: {files} files ({bytes} bytes) from {backup} into {dataDirectory}. Start the server."));
                return 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                await Console.Error.WriteLineAsync($"restore: failed, {dataDirectory} is incomplete: {e.Message}. Empty it before restoring again.");
                return 1;
            }
        }
    }

    /// <summary>Every file of the backup but its manifest, the database to where the settings put it; each copy's size checked.</summary>
    private static (int Files, long Bytes) Copy(string backup, string dataDirectory, string database)
    {
        var files = 0;
        long bytes = 0;
        foreach (var source in Directory.EnumerateFiles(backup, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(backup, source);
            if (relative == BackupCommand.ManifestFileName)
            {
                continue;
            }
            var destination = relative == "apertur.db" ? database : Path.Combine(dataDirectory, relative);
            DataDirectory.CreateOwnerOnly(Path.GetDirectoryName(destination)!);
            File.Copy(source, destination);
            var length = new FileInfo(source).Length;
            if (new FileInfo(destination).Length != length)
            {
                throw new IOException($"the copy {destination} differs in size from {source}");
            }
            files++;
            bytes += length;
        }
        return (files, bytes);
    }
}
