using System.Security.Cryptography;
using System.Text;
using Apertur.Server.Hosting;
using Npgsql;

namespace Apertur.Server.Data;

/// <summary>
/// A pass of a periodic job holds <c>pg_try_advisory_lock(key of the job)</c> on a connection of its own for its length:
/// another replica that tries meanwhile skips its pass (docs/scale-out.md). A session lock rather than a transaction
/// lock because a pass commits several transactions of its own; the lock goes with the connection if the replica dies.
/// </summary>
public sealed class PostgresJobLock(DatabaseSettings database) : IJobLock
{
    public async Task<bool> TryRunAsync(string job, Func<CancellationToken, Task> pass, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync(ct);
        var key = Key(job);
        await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection))
        {
            take.Parameters.AddWithValue("key", key);
            if (!(bool)(await take.ExecuteScalarAsync(ct))!)
            {
                return false;
            }
        }
        try
        {
            await pass(ct);
            return true;
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            release.Parameters.AddWithValue("key", key);
            await release.ExecuteScalarAsync(CancellationToken.None);
        }
    }

    /// <summary>A stable 64-bit key per job name, the same in every replica.</summary>
    internal static long Key(string job) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("apertur:" + job)), 0);
}
