namespace Apertur.Server.Data;

/// <summary>
/// Queues write transactions in-process when the database is SQLite. SQLite allows one writer at a time, and
/// Microsoft.Data.Sqlite answers a busy lock by sleeping and retrying; under concurrent uploads that sleeping, not the
/// work, sets the pace. Waiting on an async gate instead hands the lock over at once. PostgreSQL needs no gate.
/// <para>
/// The rule (docs/architecture.md, Seams, "WriteGate"): on SQLite every EF Core write transaction holds the gate for its
/// life, and every EF Core write outside one holds it for its statement. <see cref="WriteGateInterceptors"/> takes it,
/// so no feature does: an explicit take around EF work would deadlock against the interceptor's (the gate is not
/// re-entrant). The only explicit take is the lease claim's raw ADO.NET transaction (<c>Queues/LeaseDialect.cs</c>).
/// </para>
/// </summary>
public sealed class WriteGate(DatabaseSettings settings) : IDisposable
{
    private readonly SemaphoreSlim? _gate = settings.Provider == DatabaseProvider.Sqlite ? new SemaphoreSlim(1, 1) : null;

    /// <summary>How many independent write transactions are worth running at once: 1 on SQLite, a few on PostgreSQL.</summary>
    public int ParallelWriters => _gate is null ? 4 : 1;

    /// <summary>Waits for the gate; dispose the result to release it. Keep what runs inside short: database work only.</summary>
    public async ValueTask<Held> EnterAsync(CancellationToken ct)
    {
        if (_gate is null)
        {
            return default;
        }
        await _gate.WaitAsync(ct);
        return new Held(_gate);
    }

    /// <summary>The same, blocking: for EF Core's synchronous calls.</summary>
    public Held Enter()
    {
        if (_gate is null)
        {
            return default;
        }
        _gate.Wait();
        return new Held(_gate);
    }

    public void Dispose() => _gate?.Dispose();

    public readonly struct Held(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
