using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Storage;
using Microsoft.Data.Sqlite;

namespace Apertur.Server.Backup;

/// <summary>What <c>backup</c> and <c>restore</c> share: they handle the default installation only, SQLite and local images.</summary>
internal static class Installation
{
    /// <summary>
    /// The one argument of <c>backup</c> or <c>restore</c>, a directory, as a full path, with the data directory and the
    /// SQLite file of the settings. Null after printing <paramref name="usage"/> (exit 2) or the refusal of another
    /// installation (exit 1).
    /// </summary>
    public static async Task<(Paths? Paths, int Exit)> ReadAsync(string command, string usage, string[] args, IServiceProvider services)
    {
        if (args.Length != 2 || args[1].StartsWith('-'))
        {
            await Console.Error.WriteLineAsync(usage);
            return (null, 2);
        }
        if (Refusal(command, services) is { } refusal)
        {
            await Console.Error.WriteLineAsync($"{command}: {refusal}");
            return (null, 1);
        }
        return (new Paths(AperturOptions.ResolveDataDirectory(services.GetRequiredService<IConfiguration>()), Path.GetFullPath(args[1]),
            new SqliteConnectionStringBuilder(services.GetRequiredService<DatabaseSettings>().ConnectionString).DataSource), 0);
    }

    /// <summary>
    /// Null for SQLite with local images; else the one line that says which standard tools back up that installation.
    /// </summary>
    private static string? Refusal(string command, IServiceProvider services)
    {
        var postgres = services.GetRequiredService<DatabaseSettings>().Provider == DatabaseProvider.Postgres;
        var s3 = services.GetRequiredService<StorageOptions>().Kind == StorageKind.S3;
        if (!postgres && !s3)
        {
            return null;
        }
        var what = postgres && s3 ? "PostgreSQL and S3" : postgres ? "PostgreSQL" : "S3";
        return $"{command} handles the default installation (SQLite and images under the data directory), not {what}: use the standard tools, "
            + "pg_dump and pg_restore for the database, the bucket's versioning or replication (or aws s3 sync) for the images, "
            + "and keep the master key apart (docs/operations.md).";
    }

    /// <summary>Whether <paramref name="path"/> is <paramref name="directory"/> or lies under it (both full paths).</summary>
    public static bool IsInside(string path, string directory)
    {
        var relative = Path.GetRelativePath(directory, path);
        return relative == "." || (relative != ".." && !relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            && !Path.IsPathRooted(relative));
    }
}

/// <summary>The data directory, the directory named on the command line, and the SQLite file (<c>{DataDirectory}/apertur.db</c> unless set).</summary>
internal sealed record Paths(string DataDirectory, string Directory, string Database);
