namespace Apertur.Server.Hosting;

/// <summary>
/// SQLite serves one process per data directory (docs/scale-out.md): a serving process holds <c>{DataDirectory}/apertur.lock</c>
/// open with no sharing while it serves, and a second process on the same directory is refused at start. Servers hosted
/// in the same process (the tests' restarts and second apps) share the one lock, closed when the last of them stops.
/// </summary>
public static class DataDirectoryLock
{
    public const string FileName = "apertur.lock";
    private static readonly Dictionary<string, (FileStream File, int Holders)> Held = new(StringComparer.Ordinal);
    private static readonly Lock Gate = new();

    /// <summary>
    /// Takes the lock of <paramref name="dataDirectory"/> (dispose <paramref name="release"/> when the server stops), or
    /// answers the one line that says another process holds it.
    /// </summary>
    public static bool TryAcquire(string dataDirectory, out IDisposable? release, out string? refusal)
    {
        var path = Path.GetFullPath(Path.Combine(dataDirectory, FileName));
        refusal = null;
        release = new Release(path);
        lock (Gate)
        {
            if (Held.TryGetValue(path, out var held))
            {
                Held[path] = (held.File, held.Holders + 1);
                return true;
            }
            try
            {
                var file = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None };
                if (!OperatingSystem.IsWindows())
                {
                    file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }
                Held[path] = (new FileStream(path, file), 1);
                return true;
            }
            catch (IOException)
            {
                refusal = $"Apertur could not start: another Apertur process already serves the data directory {Path.GetDirectoryName(path)} " +
                    $"({path} is locked). SQLite serves one process per data directory: stop the other one, or run several replicas on PostgreSQL (docs/scale-out.md).";
                release = null;
                return false;
            }
        }
    }

    private sealed class Release(string path) : IDisposable
    {
        private int _done;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 1)
            {
                return;
            }
            lock (Gate)
            {
                if (!Held.TryGetValue(path, out var held))
                {
                    return;
                }
                if (held.Holders > 1)
                {
                    Held[path] = (held.File, held.Holders - 1);
                    return;
                }
                Held.Remove(path);
                held.File.Dispose();
            }
        }
    }
}
