using Apertur.Server.Hosting;
using Microsoft.Data.Sqlite;

namespace Apertur.Server.Storage;

/// <summary>
/// Tells a full disk from a bug (docs/deploy.md "A full disk"): a write that failed with ENOSPC (or a quota, EDQUOT), and
/// SQLite's "database or disk is full" (SQLITE_FULL). <see cref="ApiErrorHandler"/> answers both with 507
/// <c>INSUFFICIENT_STORAGE</c> and <c>Retry-After</c>, and logs one line: nothing is broken, the server keeps serving
/// what it holds, and uploads work again once space is freed.
/// </summary>
public static class StorageFull
{
    /// <summary>What a 507 asks the client to wait: freeing space takes an operator, not a moment.</summary>
    public const int RetryAfterSeconds = 60;

    // .NET on Unix gives the errno as the IOException's HResult (Linux numbers); on Windows the HRESULT of the Win32 error.
    private const int Enospc = 28;
    private const int Edquot = 122;
    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);
    private const int SqliteFull = 13;

    /// <summary>The answer to an upload refused or failed because the server's storage is full.</summary>
    public static ApiException Answer() =>
        new(507, "INSUFFICIENT_STORAGE", "The server's storage is full; try again later.", RetryAfterSeconds);

    /// <summary>True when <paramref name="exception"/> or one it wraps says the disk (or SQLite's file) is full.</summary>
    public static bool Is(Exception exception) => DatabaseUnavailable.Chain(exception).Any(e => e switch
    {
        SqliteException sqlite => sqlite.SqliteErrorCode == SqliteFull,
        IOException io => io.HResult is Enospc or Edquot or WindowsDiskFull or WindowsHandleDiskFull,
        _ => false,
    });
}
