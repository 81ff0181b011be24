using System.Data.Common;
using Apertur.Server.Data;

namespace Apertur.Server.Queues;

/// <summary>
/// What the lease claim does differently per database, as named hooks (docs/architecture.md "The lease queue"). One
/// instance per process, chosen on the provider in <c>Data/DataServices.cs</c>.
/// </summary>
public abstract class LeaseDialect
{
    /// <summary>Appended to the sub-select of due rows: how concurrent claimers pass each other's rows.</summary>
    public abstract string LockDueRows { get; }

    /// <summary>How the claim statement runs: in autocommit, or in a write transaction taken before the rows are read.</summary>
    public abstract ValueTask<ClaimWrite> BeginAsync(DbConnection connection, CancellationToken ct);

    /// <summary>A lease token as the database stores ids.</summary>
    public abstract object Id(Guid id);

    /// <summary>A time as the database stores times.</summary>
    public abstract object Time(DateTimeOffset time);

    /// <summary>A claimed row's id read back.</summary>
    public abstract Guid ReadId(DbDataReader reader, int ordinal);

    /// <summary>
    /// PostgreSQL: one statement in autocommit; <c>FOR UPDATE SKIP LOCKED</c> lets concurrent claimers (threads or
    /// replicas) pass over each other's rows. Native uuid and timestamptz parameters.
    /// </summary>
    public sealed class Postgres : LeaseDialect
    {
        public override string LockDueRows => "\n    FOR UPDATE SKIP LOCKED";

        public override ValueTask<ClaimWrite> BeginAsync(DbConnection connection, CancellationToken ct) => ValueTask.FromResult(new ClaimWrite(null, default));

        public override object Id(Guid id) => id;

        public override object Time(DateTimeOffset time) => time;

        public override Guid ReadId(DbDataReader reader, int ordinal) => reader.GetGuid(ordinal);
    }

    /// <summary>
    /// SQLite: the statement inside <c>BEGIN IMMEDIATE</c>, which takes the database's write lock before the rows are
    /// read, so two claimers (threads or processes) serialise instead of both reading the same due rows; in this process
    /// the <see cref="WriteGate"/> is taken first (this transaction is raw ADO.NET, which the gate's EF Core interceptor
    /// does not see). Times are unix milliseconds and ids upper-case text, as EF stores them.
    /// </summary>
    public sealed class Sqlite(WriteGate gate) : LeaseDialect
    {
        public override string LockDueRows => "";

        public override async ValueTask<ClaimWrite> BeginAsync(DbConnection connection, CancellationToken ct)
        {
            var held = await gate.EnterAsync(ct);
            try
            {
                return new ClaimWrite(((Microsoft.Data.Sqlite.SqliteConnection)connection).BeginTransaction(deferred: false), held);
            }
            catch
            {
                held.Dispose();
                throw;
            }
        }

        public override object Id(Guid id) => id.ToString().ToUpperInvariant();

        public override object Time(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

        public override Guid ReadId(DbDataReader reader, int ordinal) => Guid.Parse(reader.GetString(ordinal));
    }
}

/// <summary>The claim's transaction (none in autocommit) and the write gate it holds; disposing rolls back what was not committed.</summary>
public sealed class ClaimWrite(DbTransaction? transaction, WriteGate.Held held) : IAsyncDisposable
{
    public DbTransaction? Transaction => transaction;

    public async Task CommitAsync(CancellationToken ct)
    {
        if (transaction is not null)
        {
            await transaction.CommitAsync(ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (transaction is not null)
            {
                await transaction.DisposeAsync();
            }
        }
        finally
        {
            held.Dispose();
        }
    }
}
