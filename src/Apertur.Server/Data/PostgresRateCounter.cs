using Apertur.Server.Hosting;
using Npgsql;

namespace Apertur.Server.Data;

/// <summary>
/// Rate limits counted in PostgreSQL (docs/scale-out.md): the same fixed one-minute windows as <see cref="RateLimiter"/>,
/// but every replica bumps the same row, so a limit holds for the deployment rather than per process. One upsert per
/// check; the first check of a new window in this process deletes the windows before it.
/// </summary>
public sealed class PostgresRateCounter(DatabaseSettings database, TimeProvider time) : IRateCounter
{
    private long _sweptWindow;

    public async ValueTask<RateLimiter.Decision> AcquireAsync(string partition, int limit, CancellationToken ct)
    {
        var windowStart = RateLimiter.WindowStart(time.GetUtcNow());
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync(ct);
        if (Interlocked.Exchange(ref _sweptWindow, windowStart) != windowStart)
        {
            await using var sweep = new NpgsqlCommand("DELETE FROM rate_counters WHERE window_start < @window", connection);
            sweep.Parameters.AddWithValue("window", windowStart);
            await sweep.ExecuteNonQueryAsync(ct);
        }
        await using var count = new NpgsqlCommand(
            """
            INSERT INTO rate_counters (partition_key, window_start, count) VALUES (@partition, @window, 1)
            ON CONFLICT (partition_key, window_start) DO UPDATE SET count = rate_counters.count + 1
            RETURNING count
            """, connection);
        count.Parameters.AddWithValue("partition", partition);
        count.Parameters.AddWithValue("window", windowStart);
        var counted = (int)(await count.ExecuteScalarAsync(ct))!;
        return RateLimiter.Decide(windowStart, counted, limit);
    }
}
