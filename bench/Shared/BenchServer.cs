// The real server as a child process, started the same way by every benchmark in bench/ that measures it (docs/performance.md):
// a free loopback port, `dotnet Apertur.Server.dll` with the settings they all share, the idle collection's log lines echoed
// (docs/performance.md "Memory after load"), and a wait until /healthz answers. Each bench adds its own settings to the
// start info (database, workers, delivery concurrency, metrics, GC variables, an admin account) before it starts the process.
// Also the calls more than one bench makes on it: a session created, the process's memory and CPU time read from /proc.
// Linked into each bench's project (<Compile Include="../Shared/BenchServer.cs" Link=... />).
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Apertur.Bench;

/// <summary>A server process a bench started: its standard output read for the marked lines, its standard error kept.</summary>
internal sealed class BenchServer : IDisposable
{
    /// <summary>What the server's idle collection logs (Hosting/IdleCollection.cs): the lines echoed.</summary>
    private const string IdleCollectionMark = "Idle collection";

    private readonly Task<string> _standardError;
    private bool _disposed;

    private BenchServer(Process process)
    {
        Process = process;
        _standardError = process.StandardError.ReadToEndAsync();
    }

    public Process Process { get; }

    /// <summary>A loopback port nobody listens on (the OS picks it; free again once the listener is closed).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// <c>dotnet serverDll</c> on http://127.0.0.1:port, with what every bench sets: warnings only in the log (but the idle
    /// collection's lines), the data directory, the bootstrap API key, the public base URL, every rate limit off, sessions of
    /// up to a million images, and outbound calls allowed to loopback (the benches' receivers and services run there).
    /// </summary>
    public static ProcessStartInfo StartInfo(string serverDll, int port, string dataDirectory, string apiKey)
    {
        var start = new ProcessStartInfo("dotnet");
        start.ArgumentList.Add(serverDll);
        var env = start.Environment;
        var url = $"http://127.0.0.1:{port}";
        env["ASPNETCORE_URLS"] = url;
        env["Urls"] = url;
        env["Logging__LogLevel__Default"] = "Warning";
        env["Logging__LogLevel__Apertur.Server.Hosting.IdleCollectionJob"] = "Information";
        env["Apertur__DataDirectory"] = dataDirectory;
        env["Apertur__Bootstrap__ApiKey"] = apiKey;
        env["Apertur__PublicBaseUrl"] = url;
        foreach (var policy in new[] { "Api", "SessionRead", "SessionCreate", "Upload", "UploadPerIp", "PublicSession", "UploadPage", "PasswordCheck" })
        {
            env[$"Apertur__RateLimits__{policy}"] = "0";
        }
        env["Apertur__Sessions__MaxImagesCap"] = "1000000";
        env["Apertur__Outbound__AllowedNetworks__0"] = "127.0.0.0/8";
        return start;
    }

    /// <summary>
    /// Starts <paramref name="start"/> with its output redirected: each standard output line with the idle collection's mark
    /// goes, trimmed, to <paramref name="echo"/> (the bench writes it on standard error); the other lines are read and dropped
    /// (a full pipe would stall the server), and standard error is kept for the message should it exit before it is up.
    /// </summary>
    public static BenchServer Start(ProcessStartInfo start, Action<string> echo)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        var server = new BenchServer(Process.Start(start)!);
        _ = Task.Run(async () =>
        {
            while (await server.Process.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line.Contains(IdleCollectionMark, StringComparison.Ordinal))
                {
                    echo(line.Trim());
                }
            }
        });
        return server;
    }

    /// <summary>
    /// Waits until GET <paramref name="path"/> answers, whatever the status (the server's /healthz answers 200 once it is
    /// migrated and listens; a bench's baseline, without that route, 404). Fails at once if the process exits, with its
    /// standard error; after <paramref name="timeout"/>, with a <see cref="TimeoutException"/>.
    /// </summary>
    public async Task WaitUntilUpAsync(HttpClient http, TimeSpan timeout, string path = "/healthz")
    {
        var waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var answer = await http.GetAsync(path);
                return;
            }
            catch (HttpRequestException) when (!Process.HasExited && waited.Elapsed < timeout)
            {
                await Task.Delay(100);
            }
            catch (HttpRequestException) when (Process.HasExited)
            {
                throw new InvalidOperationException($"the server did not start: it exited with code {Process.ExitCode}: {await _standardError}");
            }
            catch (HttpRequestException)
            {
                throw new TimeoutException($"the server did not start: GET {path} did not answer within {timeout.TotalSeconds:F0} s");
            }
        }
    }

    /// <summary>POST /api/v1/upload-sessions with <paramref name="json"/>: the new session's uuid (an exception with the answer if not 201).</summary>
    public static async Task<string> CreateSessionAsync(HttpClient api, string json)
    {
        using var response = await api.PostAsync("/api/v1/upload-sessions", new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"create session answered {(int)response.StatusCode}: {text}");
        }
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("uuid").GetString()!;
    }

    /// <summary>A size field of the process's /proc status in MB: VmRSS (resident now), VmHWM (the peak over its life).</summary>
    public double StatusMb(string field)
    {
        var line = File.ReadLines($"/proc/{Process.Id}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
    }

    /// <summary>The process's CPU time so far: utime + stime (fields 14 and 15 of /proc/pid/stat, in clock ticks of 1/100 s).</summary>
    public double CpuSeconds() => CpuTicks(Process.Id, withExitedChildren: false) / 100.0;

    /// <summary>
    /// A process's CPU time in clock ticks from /proc/pid/stat: utime + stime, plus cutime + cstime (what its exited and
    /// waited-for children used) when <paramref name="withExitedChildren"/>.
    /// </summary>
    public static long CpuTicks(int pid, bool withExitedChildren)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var last = withExitedChildren ? 14 : 12;
        long ticks = 0;
        for (var i = 11; i <= last; i++)
        {
            ticks += long.Parse(fields[i], CultureInfo.InvariantCulture);
        }
        return ticks;
    }

    /// <summary>Stops the process (and any it started) and waits for it to end.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (!Process.HasExited)
        {
            Process.Kill(entireProcessTree: true);
        }
        Process.WaitForExit();
        Process.Dispose();
    }
}
