using System.Data.Common;
using System.Reflection;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Apertur.Server.Data;

/// <summary>
/// Applies the embedded, versioned SQL scripts of the configured provider in name order, each once, each in
/// its own transaction, recording them in <c>schema_migrations</c>. EF's design-time tools do not restore here,
/// and plain SQL keeps both schemas readable. PostgreSQL replicas serialise on an advisory lock.
/// </summary>
public sealed partial class MigrationRunner(DatabaseSettings settings, TimeProvider time, ILogger<MigrationRunner> logger)
{
    private const long PostgresLockKey = 0x41505254; // "APRT"

    public async Task MigrateAsync(CancellationToken ct)
    {
        await using DbConnection connection = settings.Provider == DatabaseProvider.Postgres
            ? new NpgsqlConnection(settings.ConnectionString)
            : new SqliteConnection(settings.ConnectionString);
        await connection.OpenAsync(ct);

        if (settings.Provider == DatabaseProvider.Postgres)
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({PostgresLockKey})", ct);
        }
        else
        {
            // WAL lets readers run beside the single writer; NORMAL sync is safe with WAL.
            await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL", ct);
        }

        try
        {
            await ExecuteAsync(connection, null,
                "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)", ct);
            var applied = new HashSet<string>(StringComparer.Ordinal);
            await using (var cmd = connection.CreateCommand())
            {
                cmd.CommandText = "SELECT version FROM schema_migrations";
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    applied.Add(reader.GetString(0));
                }
            }

            foreach (var (version, sql) in Scripts(settings.Provider))
            {
                if (applied.Contains(version))
                {
                    continue;
                }
                await using var tx = await connection.BeginTransactionAsync(ct);
                await ExecuteAsync(connection, tx, sql, ct);
                await using (var cmd = connection.CreateCommand())
                {
                    cmd.Transaction = tx;
                    cmd.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES (@v, @t)";
                    AddParameter(cmd, "@v", version);
                    AddParameter(cmd, "@t", Hosting.Iso.Format(time.GetUtcNow()));
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                LogApplied(logger, version, settings.Provider);
            }
        }
        finally
        {
            if (settings.Provider == DatabaseProvider.Postgres)
            {
                await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({PostgresLockKey})", CancellationToken.None);
            }
        }
    }

    /// <summary>The embedded scripts for one provider, ordered by version (the file name without extension).</summary>
    internal static IReadOnlyList<(string Version, string Sql)> Scripts(DatabaseProvider provider)
    {
        var assembly = Assembly.GetExecutingAssembly();
        var prefix = $"{typeof(MigrationRunner).Namespace}.Migrations.{provider}.";
        return assembly.GetManifestResourceNames()
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                using var reader = new StreamReader(stream);
                return (n[prefix.Length..^4], reader.ReadToEnd());
            })
            .ToList();
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction? tx, string sql, CancellationToken ct)
    {
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static void AddParameter(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Version} on {Provider}")]
    private static partial void LogApplied(ILogger logger, string version, DatabaseProvider provider);
}
