namespace Apertur.Server.Data;

/// <summary>
/// Queues write transactions in-process when the database is SQLite. SQLite allows one writer at a time, and
/// Microsoft.Data.Sqlite answers a busy lock by sleeping and retrying; under concurrent uploads that sleeping, not the
/// work, sets the pace. Waiting on an async gate instead hands the lock over at once. PostgreSQL needs no gate.
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

    public void Dispose() => _gate?.Dispose();

    public readonly struct Held(SemaphoreSlim? gate) : IDisposable
    {
        public void Dispose() => gate?.Release();
    }
}
