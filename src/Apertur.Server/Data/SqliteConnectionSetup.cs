using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Apertur.Server.Data;

/// <summary>
/// Every SQLite connection waits inside SQLite for the write lock (<c>busy_timeout</c>) instead of failing with
/// SQLITE_BUSY, which Microsoft.Data.Sqlite would retry only after sleeping 150 ms: with uploads, claims and delivery
/// outcomes all writing, those sleeps made single writes wait for seconds.
/// </summary>
public sealed class SqliteConnectionSetup : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA busy_timeout = 30000;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = Pragmas;
        cmd.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = Pragmas;
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }
}
