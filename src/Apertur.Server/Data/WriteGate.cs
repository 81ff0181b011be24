namespace Apertur.Server.Data;

/// <summary>
/// The provider hook for write concurrency. SQLite has one writer at a time, and Microsoft.Data.Sqlite waits for the
/// write lock synchronously, holding a thread in SQLite's sleeping busy handler: the delivery engine's own writes
/// (claims, outcomes, releases, notification marks) therefore queue here, in memory and asynchronously, one at a time.
/// PostgreSQL writers lock rows, not the database: there the gate is open.
/// </summary>
public sealed class WriteGate(bool serialise)
{
    private readonly SemaphoreSlim? _gate = serialise ? new SemaphoreSlim(1, 1) : null;

    /// <summary>How many independent write transactions are worth running at once: 1 on SQLite, a few on PostgreSQL.</summary>
    public int ParallelWriters => _gate is null ? 4 : 1;

    public async ValueTask<Releaser> EnterAsync(CancellationToken ct)
    {
        if (_gate is not null)
        {
            await _gate.WaitAsync(ct);
        }
        return new Releaser(_gate);
    }

    public readonly struct Releaser(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
