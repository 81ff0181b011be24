using System.Globalization;
using System.Text.Json;
using Apertur.Server.Hosting;
using Apertur.Server.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Backup;

/// <summary>
/// <c>Apertur.Server backup &lt;target-directory&gt;</c>: a copy of the default installation (SQLite, images on local
/// disk) taken while the server serves, laid out as a data directory (docs/operations.md "Backup and restore"):
/// <c>apertur.db</c>, one consistent state of the database; <c>images/</c>, the file of every image row of that copy;
/// <c>master.key</c>; and <see cref="ManifestFileName"/>, what was copied, written last. It takes no lock of the data
/// directory (the server keeps serving), migrates nothing and does not serve. Restoring is copying that directory's
/// content into an empty data directory (<see cref="RestoreCommand"/> does it, checked).
/// </summary>
public static class BackupCommand
{
    /// <summary>Written last: a backup directory without it is incomplete.</summary>
    public const string ManifestFileName = "apertur-backup.json";

    private const string Usage = "usage: backup <target-directory>   (a new or empty directory: a copy of the SQLite database, images and master key "
        + "of Apertur:DataDirectory, taken while the server runs)";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "backup";

    public static async Task<int> RunAsync(string[] args, IServiceProvider services)
    {
        var (paths, exit) = await Installation.ReadAsync("backup", Usage, args, services);
        if (paths is null)
        {
            return exit;
        }
        var (dataDirectory, target, database) = paths;
        if (TargetRefusal(target, dataDirectory) is { } refusal)
        {
            await Console.Error.WriteLineAsync($"backup: {refusal}");
            return 1;
        }
        if (!File.Exists(database))
        {
            await Console.Error.WriteLineAsync($"backup: there is no database {database} to back up: is Apertur:DataDirectory ({dataDirectory}) the server's?");
            return 1;
        }
        try
        {
            var manifest = await BackUpAsync(services, dataDirectory, database, target);
            await Console.Out.WriteLineAsync(Summary(target, manifest));
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or SqliteException)
        {
            await Console.Error.WriteLineAsync($"backup: failed, {target} is incomplete (no {ManifestFileName}): {e.Message}");
            return 1;
        }
    }

    private static string? TargetRefusal(string target, string dataDirectory)
    {
        if (Installation.IsInside(target, dataDirectory))
        {
            return $"{target} is inside the data directory {dataDirectory}: back up to a directory outside it (another disk is better).";
        }
        if (File.Exists(target) || (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any()))
        {
            return $"{target} is not empty: name a new or empty directory (a backup never writes over another).";
        }
        return null;
    }

    private static async Task<Manifest> BackUpAsync(IServiceProvider services, string dataDirectory, string database, string target)
    {
        var started = services.GetRequiredService<TimeProvider>().GetUtcNow();
        DataDirectory.CreateOwnerOnly(target);
        var copy = Path.Combine(target, "apertur.db");
        CopyDatabase(database, copy);
        var (schema, rows) = await ReadCopyAsync(copy);

        // The files after the database: every row of the copy was committed after its file was in place
        // (Uploads/UploadHandler.cs puts, then commits), so each one has its bytes; images uploaded since are not in the
        // copy and their files are not copied. A file gone meanwhile (its image deleted) is reported, not fatal.
        var from = Path.Combine(dataDirectory, "images");
        var to = Path.Combine(target, "images");
        var shards = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<Guid>();
        long imageBytes = 0;
        foreach (var (id, size) in rows)
        {
            var source = LocalDiskImageStore.PathOf(from, id);
            var destination = LocalDiskImageStore.PathOf(to, id);
            if (shards.Add(Path.GetDirectoryName(destination)!))
            {
                DataDirectory.CreateOwnerOnly(Path.GetDirectoryName(destination)!);
            }
            try
            {
                File.Copy(source, destination);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                missing.Add(id);
                await Console.Out.WriteLineAsync($"backup: image {id} has no file {source}: its row is in the backup, its bytes are not");
                continue;
            }
            var copied = new FileInfo(destination).Length;
            if (copied != size)
            {
                throw new IOException(string.Create(CultureInfo.InvariantCulture,
                    $"the copy of image {id} holds {copied} bytes, its row says {size}: {source} is damaged or was changed"));
            }
            imageBytes += copied;
        }

        var masterKey = CopyMasterKey(services, dataDirectory, target);
        var manifest = new Manifest(Iso.Format(started), Home.HomePage.Version, schema, new FileInfo(copy).Length, rows.Count - missing.Count, imageBytes,
            missing, masterKey);
        await File.WriteAllTextAsync(Path.Combine(target, ManifestFileName), JsonSerializer.Serialize(manifest, Json) + "\n");
        return manifest;
    }

    // SQLite's online backup API rather than VACUUM INTO, and never a copy of the file. Microsoft.Data.Sqlite's
    // BackupDatabase copies every page in a single sqlite3_backup_step(-1), inside one read transaction on the source. In
    // WAL mode (the server's: Data/MigrationRunner.cs) a read transaction sees the database as it was when it began (the
    // file plus the WAL frames committed up to then) while the server's writer keeps appending to the WAL: uploads go on,
    // and the copy is one committed state. Copying in several steps would restart each time the server writes between two
    // of them; copying apertur.db with cp misses what is still in apertur.db-wal, or copies pages mid-checkpoint. VACUUM
    // INTO reads one snapshot too, but rebuilds every table and index: more CPU, and the snapshot (which keeps the WAL from
    // being reset) held longer, for the same content.
    private static void CopyDatabase(string database, string copy)
    {
        using var source = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = database, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        using var destination = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Pooling = false }.ToString());
        source.Open();
        destination.Open();
        // The read lock may have to wait for a checkpoint or a recovery of the WAL, as the server's connections do.
        Execute(source, "PRAGMA busy_timeout = 30000");
        source.BackupDatabase(destination);
        // One self-contained file: the server switches it back to WAL when it starts on it.
        Execute(destination, "PRAGMA journal_mode = DELETE");
    }

    private static async Task<(string Schema, List<(Guid Id, long Size)> Rows)> ReadCopyAsync(string copy)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = copy, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA quick_check";
        if (await cmd.ExecuteScalarAsync() is not "ok")
        {
            throw new IOException($"the copy {copy} fails SQLite's quick_check");
        }
        cmd.CommandText = "SELECT max(version) FROM schema_migrations";
        var schema = await cmd.ExecuteScalarAsync() as string ?? "";
        // Images whose bytes were deleted on purpose (a deleted session, retention) have no file to copy, and miss none.
        cmd.CommandText = "SELECT id, size_bytes FROM images WHERE bytes_deleted_at IS NULL ORDER BY id";
        var rows = new List<(Guid, long)>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add((Guid.Parse(reader.GetString(0)), reader.GetInt64(1)));
        }
        return (schema, rows);
    }

    /// <summary>Copies <c>master.key</c> when the key is that file; says where it is when a setting names it instead.</summary>
    private static string CopyMasterKey(IServiceProvider services, string dataDirectory, string target)
    {
        var secrets = services.GetRequiredService<IOptions<SecretsOptions>>().Value;
        if (!string.IsNullOrWhiteSpace(secrets.MasterKey))
        {
            return "not in the backup: it is the setting Apertur:Secrets:MasterKey, keep it apart";
        }
        if (!string.IsNullOrWhiteSpace(secrets.MasterKeyFile))
        {
            return $"not in the backup: it is {secrets.MasterKeyFile} (Apertur:Secrets:MasterKeyFile), keep it apart";
        }
        var file = Path.Combine(dataDirectory, MasterKey.FileName);
        if (!File.Exists(file))
        {
            return $"not in the backup: there is no {file}";
        }
        File.Copy(file, Path.Combine(target, MasterKey.FileName));
        return MasterKey.FileName;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private static string Summary(string target, Manifest m)
    {
        var missing = m.MissingImages.Count > 0
            ? string.Create(CultureInfo.InvariantCulture, $", {m.MissingImages.Count} images without a file (listed above)")
            : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"backup: {target}: database ({m.DatabaseBytes} bytes, schema {m.SchemaVersion}), {m.Images} images ({m.ImageBytes} bytes){missing}, master key: {m.MasterKey}. Restore: docs/operations.md.");
    }

    /// <summary>The manifest, <see cref="ManifestFileName"/>.</summary>
    private sealed record Manifest(string CreatedAt, string Version, string SchemaVersion, long DatabaseBytes, int Images, long ImageBytes,
        IReadOnlyList<Guid> MissingImages, string MasterKey);
}
