using System.Data.Common;
using Apertur.Server.Data;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Apertur.Server.Hosting;

/// <summary>
/// Tells a database that cannot be used right now (PostgreSQL stopped, restarting or unreachable, a connection lost,
/// SQLite busy or locked, a command timeout) from a bug. <see cref="ApiErrorHandler"/> answers the first with 503 and
/// <c>Retry-After</c>, so clients retry instead of giving up on a 500; the start-up says in one line why it stopped.
/// </summary>
public static partial class DatabaseUnavailable
{
    /// <summary>What a 503 asks the client to wait: a restart or a failover takes seconds.</summary>
    public const int RetryAfterSeconds = 5;

    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    /// <summary>The answer to a request that failed because the database is unavailable.</summary>
    public static ApiException Answer() =>
        new(503, "DATABASE_UNAVAILABLE", "The database is unavailable at the moment; try again shortly.", RetryAfterSeconds);

    /// <summary>True when <paramref name="exception"/> or one it wraps says the database cannot be used right now.</summary>
    public static bool Is(Exception exception) => Chain(exception).Any(e => e switch
    {
        // Class 08 (connection exception) and 57P0x (shut down, restarting, cannot connect now), whatever Npgsql's list says.
        PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("57P", StringComparison.Ordinal),
        // Refused or broken connections, I/O errors and timeouts.
        NpgsqlException npgsql => npgsql.IsTransient,
        SqliteException sqlite => sqlite.SqliteErrorCode is SqliteBusy or SqliteLocked,
        DbException { InnerException: TimeoutException } => true,
        _ => false,
    });

    /// <summary>True when the database driver raised <paramref name="exception"/> (or one it wraps): a database problem, not a bug.</summary>
    public static bool IsDatabaseError(Exception exception) => Chain(exception).Any(e => e is DbException);

    /// <summary>
    /// Logs a failed pass of a background job (a worker's claim, a sweep): while the database is unavailable one warning line
    /// without a stack trace (the job tries again at its next pass), otherwise <paramref name="logBug"/>, with its stack trace.
    /// </summary>
    public static void LogJobFailure(ILogger logger, Exception exception, string job, Action<ILogger, Exception> logBug)
    {
        if (Is(exception))
        {
            LogJobPaused(logger, job, exception.GetBaseException().Message);
        }
        else
        {
            logBug(logger, exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Job}: the database is unavailable ({Reason}); trying again at the next pass")]
    private static partial void LogJobPaused(ILogger logger, string job, string reason);

    /// <summary>
    /// One line for an operator whose server could not start on its database: what failed, where, and what to check.
    /// </summary>
    public static string StartFailure(DatabaseSettings settings, Exception exception)
    {
        var reason = Chain(exception).OfType<PostgresException>().FirstOrDefault() is { } pg
            ? $"{pg.SqlState}: {pg.MessageText}"
            : Chain(exception).Last().Message;
        reason = reason.ReplaceLineEndings(" ");
        if (settings.Provider == DatabaseProvider.Postgres)
        {
            var where = new NpgsqlConnectionStringBuilder(settings.ConnectionString);
            return $"Apertur could not start: the PostgreSQL database \"{where.Database}\" on {where.Host}:{where.Port} cannot be used ({reason}). "
                + "Check Apertur:Database:ConnectionString, that the server runs and accepts connections from here, and that the database exists.";
        }
        var file = new SqliteConnectionStringBuilder(settings.ConnectionString).DataSource;
        return $"Apertur could not start: the SQLite database {file} cannot be used ({reason}). "
            + "Check Apertur:DataDirectory (or Apertur:Database:ConnectionString) and that the server may write there.";
    }

    /// <summary><paramref name="exception"/> and the exceptions it wraps, outermost first.</summary>
    internal static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
