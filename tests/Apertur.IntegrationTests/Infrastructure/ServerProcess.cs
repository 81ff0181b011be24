using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Shouldly;
using Xunit.Abstractions;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// The server as an operator runs it: a separate process (the published self-contained build that scripts/test.sh makes,
/// named by <c>APERTUR_PUBLISHED_SERVER</c>, else <c>dotnet Apertur.Server.dll</c> from this build) with its own data
/// directory on SQLite, settings in environment variables, output read line by line, stopped with a real SIGTERM.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private ServerProcess(Process process, string dataDirectory)
    {
        _process = process;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    /// <summary>Every line written so far, standard output and standard error together.</summary>
    public IReadOnlyList<string> Lines => _lines.ToList();

    public string Output => string.Join('\n', _lines);

    /// <summary>The executable that runs: the published build when scripts/test.sh made one.</summary>
    public static string Description => Environment.GetEnvironmentVariable("APERTUR_PUBLISHED_SERVER") is { Length: > 0 } published
        ? published : "dotnet Apertur.Server.dll (this build)";

    /// <summary>Settings as a server reads them from its environment: <c>Apertur:Storage:Kind</c> becomes <c>Apertur__Storage__Kind</c>; empty ones are left out.</summary>
    public static Dictionary<string, string> AsEnvironment(IEnumerable<KeyValuePair<string, string?>> settings) =>
        settings.Where(s => s.Value is not null).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value!);

    /// <summary>
    /// The environment of a server process that takes a seeded server's storage over (its <paramref name="settings"/>): a
    /// free loopback port, warnings only besides the "Now listening" line <see cref="ListeningAsync"/> reads, the
    /// background workers on.
    /// </summary>
    public static Dictionary<string, string> TakingOver(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        var env = AsEnvironment(settings);
        env["Urls"] = "http://127.0.0.1:0";
        env["Logging__LogLevel__Default"] = "Warning";
        env["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information";
        env["Apertur__Workers__Enabled"] = "true";
        return env;
    }

    /// <summary>Starts the server with <paramref name="args"/> and settings <paramref name="environment"/> on a new data directory.</summary>
    public static ServerProcess Start(IEnumerable<string> args, IDictionary<string, string>? environment = null)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        var process = new Process { StartInfo = StartInfo(args, environment, dataDirectory) };
        var server = new ServerProcess(process, dataDirectory);
        process.OutputDataReceived += (_, e) => server.Add(e.Data);
        process.ErrorDataReceived += (_, e) => server.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    /// <summary>
    /// <see cref="Start"/>, then waits until it listens. One that does not is disposed after writing its output to
    /// <paramref name="output"/>, and the failure is thrown.
    /// </summary>
    public static async Task<ServerProcess> StartListeningAsync(IEnumerable<string> args, IDictionary<string, string>? environment, ITestOutputHelper output)
    {
        var server = Start(args, environment);
        try
        {
            await server.ListeningAsync();
            return server;
        }
        catch
        {
            output.WriteLine(server.Output);
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Runs the server with <paramref name="args"/> until it exits: a command (<c>keys create</c>, <c>storage migrate</c>)
    /// or a start that must be refused. Standard output and standard error come back apart. In
    /// <paramref name="dataDirectory"/>, which the caller keeps, or in a new one deleted afterwards. A server still running
    /// after <paramref name="timeout"/> (default 90 s) is killed and fails the test with its output.
    /// </summary>
    public static async Task<(int Exit, string Out, string Err)> RunToExitAsync(IEnumerable<string> args,
        IDictionary<string, string>? environment = null, string? dataDirectory = null, TimeSpan? timeout = null)
    {
        var ownDirectory = dataDirectory is null;
        dataDirectory ??= Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        using var process = Process.Start(StartInfo(args, environment, dataDirectory))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(90));
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
                throw new TimeoutException($"the server was still running after {timeout ?? TimeSpan.FromSeconds(90)}:\n{await stdout}\n{await stderr}");
            }
            return (process.ExitCode, await stdout, await stderr);
        }
        finally
        {
            if (ownDirectory)
            {
                try
                {
                    Directory.Delete(dataDirectory, recursive: true);
                }
                catch (DirectoryNotFoundException)
                {
                }
            }
        }
    }

    /// <summary>
    /// The one line a refused start prints (<see cref="RunToExitAsync"/>'s output): no stack trace anywhere, exactly one line
    /// on standard error, starting "Apertur could not start:". Returns that line.
    /// </summary>
    public static string RefusalLine(string stdout, string stderr)
    {
        var output = stdout + stderr;
        output.ShouldNotContain("Unhandled exception", customMessage: output);
        output.ShouldNotContain("   at ", customMessage: output);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        lines.Length.ShouldBe(1, output);
        lines[0].ShouldStartWith("Apertur could not start:");
        return lines[0];
    }

    // The executable (the published build when scripts/test.sh made one), run from the data directory as an operator's shell
    // or a service manager would, on SQLite unless the environment says otherwise.
    private static ProcessStartInfo StartInfo(IEnumerable<string> args, IDictionary<string, string>? environment, string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        ProcessStartInfo start;
        if (Environment.GetEnvironmentVariable("APERTUR_PUBLISHED_SERVER") is { Length: > 0 } published)
        {
            File.Exists(published).ShouldBeTrue($"APERTUR_PUBLISHED_SERVER names {published}, which does not exist");
            start = new ProcessStartInfo(published);
        }
        else
        {
            start = new ProcessStartInfo("dotnet");
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Apertur.Server.dll"));
        }
        start.WorkingDirectory = dataDirectory;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["Apertur__DataDirectory"] = dataDirectory;
        start.Environment["Apertur__Database__Provider"] = "Sqlite";
        start.Environment["DOTNET_NOLOGO"] = "1";
        // Plain console lines, whatever the machine's terminal settings.
        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }
        return start;
    }

    private void Add(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
            _lineArrived.Release();
        }
    }

    /// <summary>Waits for a line matching <paramref name="pattern"/>; fails with the output so far after <paramref name="timeout"/>.</summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            foreach (var line in _lines)
            {
                if (pattern.Match(line) is { Success: true } match)
                {
                    return match;
                }
            }
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the server exited with {_process.ExitCode} before printing /{pattern}/:\n{Output}");
            }
            try
            {
                await _lineArrived.WaitAsync(TimeSpan.FromMilliseconds(200), cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no line /{pattern}/ in {timeout ?? TimeSpan.FromSeconds(60)}:\n{Output}");
            }
        }
    }

    /// <summary>The first address it listens on, from Kestrel's "Now listening on:" line.</summary>
    public async Task<Uri> ListeningAsync() => new((await WaitForLineAsync(NowListening())).Groups["url"].Value);

    /// <summary>Sends SIGTERM, as systemd's stop and Ctrl+C do, and waits for the exit code.</summary>
    public async Task<int> TerminateAsync(TimeSpan? timeout = null)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        return await WaitForExitAsync(timeout ?? TimeSpan.FromSeconds(60));
    }

    /// <summary>Kills the process with SIGKILL, as a crash or the OOM killer would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cts.Token);
        return _process.ExitCode;
    }

    [GeneratedRegex(@"Now listening on: (?<url>\S+)")]
    private static partial Regex NowListening();

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _lineArrived.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
