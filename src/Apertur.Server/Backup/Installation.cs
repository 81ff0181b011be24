using Apertur.Server.Data;
using Apertur.Server.Storage;

namespace Apertur.Server.Backup;

/// <summary>What <c>backup</c> and <c>restore</c> share: they handle the default installation only, SQLite and local images.</summary>
internal static class Installation
{
    /// <summary>
    /// Null for SQLite with local images; else the one line that says which standard tools back up that installation.
    /// </summary>
    public static string? Refusal(string command, IServiceProvider services)
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
