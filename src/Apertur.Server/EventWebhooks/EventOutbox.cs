using Apertur.Server.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Apertur.Server.EventWebhooks;

/// <summary>The deliveries one claim took, all under one lease token.</summary>
public sealed record EventDeliveryClaim(Guid LeaseToken, IReadOnlyList<Guid> DeliveryIds);

/// <summary>
/// The event outbox as a queue of leases, the one query that differs per database: a claim stamps due
/// <c>retrying</c> rows (<c>next_retry_at</c> passed, no live lease) with a fresh lease token until <c>now + lease</c>.
/// A worker that dies leaves its lease to expire, and the row is due again. Recording the outcome is an ordinary update
/// guarded by the token, so a worker whose lease ran out cannot overwrite a reclaimed row. Scoped: it uses the scope's
/// <see cref="AperturDb"/>. (The image delivery queue in Delivery/ follows the same pattern; they may merge later.)
/// </summary>
public sealed class EventOutbox(AperturDb db, DatabaseSettings settings, TimeProvider time)
{
    // PostgreSQL: one statement; SKIP LOCKED lets concurrent claimers pass over each other's rows.
    private const string PostgresSql = """
        UPDATE webhook_deliveries SET lease_token = @token, lease_expires_at = @until
        WHERE id IN (
            SELECT id FROM webhook_deliveries
            WHERE status = 'retrying' AND next_retry_at <= @now AND (lease_expires_at IS NULL OR lease_expires_at <= @now)
            ORDER BY next_retry_at
            LIMIT @max
            FOR UPDATE SKIP LOCKED)
        RETURNING id
        """;

    // SQLite: the same update inside BEGIN IMMEDIATE, which takes the write lock before the rows are read.
    // Times are unix milliseconds and ids upper-case text, as EF stores them.
    private const string SqliteSql = """
        UPDATE webhook_deliveries SET lease_token = @token, lease_expires_at = @until
        WHERE id IN (
            SELECT id FROM webhook_deliveries
            WHERE status = 'retrying' AND next_retry_at <= @now AND (lease_expires_at IS NULL OR lease_expires_at <= @now)
            ORDER BY next_retry_at
            LIMIT @max)
        RETURNING id
        """;

    public async Task<EventDeliveryClaim> ClaimDueAsync(int max, TimeSpan lease, CancellationToken ct)
    {
        var now = Hosting.Iso.Millis(time.GetUtcNow());
        var token = Guid.NewGuid();
        var ids = new List<Guid>();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            switch (settings.Provider)
            {
                case DatabaseProvider.Postgres:
                {
                    await using var cmd = new NpgsqlCommand(PostgresSql, (NpgsqlConnection)db.Database.GetDbConnection());
                    cmd.Parameters.AddWithValue("token", token);
                    cmd.Parameters.AddWithValue("until", now + lease);
                    cmd.Parameters.AddWithValue("now", now);
                    cmd.Parameters.AddWithValue("max", max);
                    await using var reader = await cmd.ExecuteReaderAsync(ct);
                    while (await reader.ReadAsync(ct))
                    {
                        ids.Add(reader.GetGuid(0));
                    }
                    break;
                }
                case DatabaseProvider.Sqlite:
                {
                    var connection = (SqliteConnection)db.Database.GetDbConnection();
                    await using var tx = connection.BeginTransaction(deferred: false);
                    await using var cmd = connection.CreateCommand();
                    cmd.Transaction = tx;
                    cmd.CommandText = SqliteSql;
                    cmd.Parameters.AddWithValue("@token", token.ToString().ToUpperInvariant());
                    cmd.Parameters.AddWithValue("@until", (now + lease).ToUnixTimeMilliseconds());
                    cmd.Parameters.AddWithValue("@now", now.ToUnixTimeMilliseconds());
                    cmd.Parameters.AddWithValue("@max", max);
                    await using (var reader = await cmd.ExecuteReaderAsync(ct))
                    {
                        while (await reader.ReadAsync(ct))
                        {
                            ids.Add(Guid.Parse(reader.GetString(0)));
                        }
                    }
                    await tx.CommitAsync(ct);
                    break;
                }
                default:
                    throw new InvalidOperationException($"Unknown database provider '{settings.Provider}'.");
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
        return new EventDeliveryClaim(token, ids);
    }
}
