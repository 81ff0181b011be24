using System.Data.Common;
using Apertur.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Queues;

/// <summary>
/// An outbox table seen as a queue of leases (docs/architecture.md "The lease queue"): which rows are due, in which
/// order, and what a claim writes. The SQL pieces are the table's own; <see cref="LeaseQueue"/> puts them into the one
/// claim statement. <see cref="Claim"/> may use <c>@token</c> (the claim's lease token), <c>@until</c> (now + lease) and
/// <c>@now</c>; <see cref="Due"/> may use <c>@now</c>.
/// </summary>
public sealed record LeaseTable(string Table, string Due, string OrderBy, string Claim);

/// <summary>The rows one claim took, all under one lease token.</summary>
public sealed record LeaseClaim(Guid LeaseToken, IReadOnlyList<Guid> Ids);

/// <summary>
/// The one lease claim of every outbox (image deliveries, event webhook deliveries): marks up to <c>max</c> due rows of a
/// <see cref="LeaseTable"/> with a fresh lease token until <c>now + lease</c>, oldest due first, and never returns a row
/// another live lease holds. Everything after a claim (outcome, release) is an ordinary update guarded by the lease token,
/// so a worker whose lease ran out and was reclaimed writes nothing. What differs per database is in
/// <see cref="LeaseDialect"/>, chosen in <c>Data/DataServices.cs</c>. Scoped: it uses the scope's <see cref="AperturDb"/>;
/// two scopes are two independent claimers.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1711", Justification = "It is a queue: docs/architecture.md \"The lease queue\".")]
public sealed class LeaseQueue(AperturDb db, LeaseDialect dialect, TimeProvider time)
{
    public async Task<LeaseClaim> ClaimAsync(LeaseTable table, int max, TimeSpan lease, CancellationToken ct)
    {
        var sql = $"""
            UPDATE {table.Table} SET {table.Claim}
            WHERE id IN (
                SELECT id FROM {table.Table}
                WHERE {table.Due}
                ORDER BY {table.OrderBy}
                LIMIT @max{dialect.LockDueRows})
            RETURNING id
            """;
        var token = Guid.NewGuid();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var writing = await dialect.BeginAsync(connection, ct);
            var now = Hosting.Iso.Millis(time.GetUtcNow());
            await using var cmd = connection.CreateCommand();
            cmd.Transaction = writing.Transaction;
            cmd.CommandText = sql;
            Add(cmd, "@token", dialect.Id(token));
            Add(cmd, "@until", dialect.Time(now + lease));
            Add(cmd, "@now", dialect.Time(now));
            Add(cmd, "@max", max);
            var ids = new List<Guid>();
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    ids.Add(dialect.ReadId(reader, 0));
                }
            }
            await writing.CommitAsync(ct);
            return new LeaseClaim(token, ids);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static void Add(DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }
}
