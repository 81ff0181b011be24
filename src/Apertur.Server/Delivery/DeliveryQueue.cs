using Apertur.Server.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Apertur.Server.Delivery;

/// <summary>
/// The delivery outbox as a queue of leases: the one operation that differs per database. A claim marks due deliveries
/// <c>sending</c> under a fresh lease token until <c>now + lease</c>; a delivery whose lease ran out (its worker died) is
/// due again. Everything after a claim (completion, reschedule, failure, release) is an ordinary update guarded by
/// <c>lease_token</c>, so a worker whose lease expired cannot overwrite a row that another worker has reclaimed.
/// Implementations are scoped (they use the request's <see cref="AperturDb"/>); two scopes are two independent claimers.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue: the IDeliveryQueue seam of docs/architecture.md, \"How a delivery flows\".")]
public interface IDeliveryQueue
{
    /// <summary>Claims up to <paramref name="max"/> due deliveries, oldest due first. Never returns a row another live lease holds.</summary>
    Task<DeliveryClaim> ClaimDueAsync(int max, TimeSpan lease, CancellationToken ct);
}

/// <summary>The deliveries one claim took, all under one lease token.</summary>
public sealed record DeliveryClaim(Guid LeaseToken, IReadOnlyList<Guid> DeliveryIds);

/// <summary>PostgreSQL: one statement; <c>FOR UPDATE SKIP LOCKED</c> lets concurrent claimers pass each other's rows.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue: the IDeliveryQueue seam of docs/architecture.md, \"How a delivery flows\".")]
public sealed class PostgresDeliveryQueue(AperturDb db, TimeProvider time) : IDeliveryQueue
{
    private const string Sql = """
        UPDATE deliveries SET status = 'sending', lease_token = @token, lease_expires_at = @until, updated_at = @now
        WHERE id IN (
            SELECT id FROM deliveries
            WHERE (status IN ('pending', 'retrying') AND next_attempt_at <= @now) OR (status = 'sending' AND lease_expires_at < @now)
            ORDER BY next_attempt_at
            LIMIT @max
            FOR UPDATE SKIP LOCKED)
        RETURNING id
        """;

    public async Task<DeliveryClaim> ClaimDueAsync(int max, TimeSpan lease, CancellationToken ct)
    {
        var now = Hosting.Iso.Millis(time.GetUtcNow());
        var token = Guid.NewGuid();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = new NpgsqlCommand(Sql, connection);
            cmd.Parameters.AddWithValue("token", token);
            cmd.Parameters.AddWithValue("until", now + lease);
            cmd.Parameters.AddWithValue("now", now);
            cmd.Parameters.AddWithValue("max", max);
            var ids = new List<Guid>();
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                ids.Add(reader.GetGuid(0));
            }
            return new DeliveryClaim(token, ids);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}

/// <summary>
/// SQLite: the same update inside <c>BEGIN IMMEDIATE</c>, which takes the database's write lock before the rows are
/// read, so two claimers (threads or processes) serialise instead of both reading the same due rows. Times are unix
/// milliseconds and ids upper-case text, as EF stores them.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue: the IDeliveryQueue seam of docs/architecture.md, \"How a delivery flows\".")]
public sealed class SqliteDeliveryQueue(AperturDb db, WriteGate gate, TimeProvider time) : IDeliveryQueue
{
    private const string Sql = """
        UPDATE deliveries SET status = 'sending', lease_token = @token, lease_expires_at = @until, updated_at = @now
        WHERE id IN (
            SELECT id FROM deliveries
            WHERE (status IN ('pending', 'retrying') AND next_attempt_at <= @now) OR (status = 'sending' AND lease_expires_at < @now)
            ORDER BY next_attempt_at
            LIMIT @max)
        RETURNING id
        """;

    public async Task<DeliveryClaim> ClaimDueAsync(int max, TimeSpan lease, CancellationToken ct)
    {
        var token = Guid.NewGuid();
        var connection = (SqliteConnection)db.Database.GetDbConnection();
        using var writing = await gate.EnterAsync(ct);
        var now = Hosting.Iso.Millis(time.GetUtcNow());
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var tx = connection.BeginTransaction(deferred: false);
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = Sql;
            cmd.Parameters.AddWithValue("@token", token.ToString().ToUpperInvariant());
            cmd.Parameters.AddWithValue("@until", (now + lease).ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("@now", now.ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("@max", max);
            var ids = new List<Guid>();
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    ids.Add(Guid.Parse(reader.GetString(0)));
                }
            }
            await tx.CommitAsync(ct);
            return new DeliveryClaim(token, ids);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
