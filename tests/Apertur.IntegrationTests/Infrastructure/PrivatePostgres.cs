using System.Net;
using System.Net.Sockets;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of one test's own, for tests that stop and start the database under a running server: the shared
/// server of scripts/services.sh serves every other test run and is never stopped. <c>initdb</c> into a temp directory,
/// <c>pg_ctl</c> on a free loopback port, trust authentication for user <c>postgres</c>. Tests run as root and PostgreSQL
/// refuses to, so each command runs as the <c>postgres</c> OS user (<c>runuser</c>), as scripts/services.sh does with su.
/// Start a <see cref="TestApp"/> on it with <c>postgresAdmin: cluster.AdminConnectionString</c>.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _directory;

    private PrivatePostgres(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public bool IsRunning { get; private set; }

    /// <summary>The cluster's <c>postgres</c> database as superuser: what <see cref="TestApp"/> creates its database with.</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=true";

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>Creates the cluster and starts it.</summary>
    public static async Task<PrivatePostgres> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "apertur-tests", "pg-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        await Command.RunAsync("chown", "postgres:postgres", directory);
        var cluster = new PrivatePostgres(directory, Loopback.FreePort());
        try
        {
            await Command.RunAsync("runuser", "-u", "postgres", "--", $"{Bin}/initdb", "-D", cluster.DataDirectory, "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8");
            await cluster.StartServerAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server (again) on the same port and data, and returns once it accepts connections.</summary>
    public async Task StartServerAsync()
    {
        // A disposable test server: durability off, as scripts/services.sh runs the shared one. The socket lives in our directory.
        var options = $"-c listen_addresses=127.0.0.1 -p {Port} -k {_directory} -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        await Command.RunAsync("runuser", "-u", "postgres", "--", $"{Bin}/pg_ctl", "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"),
            "-w", "-t", "60", "-o", options, "start");
        IsRunning = true;
    }

    /// <summary>Stops the server the way an operator restarting it does (<c>-m fast</c>: sessions are ended, nothing waits); returns once it is down.</summary>
    public async Task StopServerAsync()
    {
        await Command.RunAsync("runuser", "-u", "postgres", "--", $"{Bin}/pg_ctl", "-D", DataDirectory, "-m", "fast", "-w", "-t", "60", "stop");
        IsRunning = false;
    }

    /// <summary>The server's own log, for a failing test's message.</summary>
    public string ServerLog()
    {
        var path = Path.Combine(_directory, "server.log");
        return File.Exists(path) ? File.ReadAllText(path) : "";
    }

    public async ValueTask DisposeAsync()
    {
        if (IsRunning)
        {
            await Command.RunAsync("runuser", "-u", "postgres", "--", $"{Bin}/pg_ctl", "-D", DataDirectory, "-m", "immediate", "-w", "stop");
            IsRunning = false;
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // The temp directory is cleaned by the OS.
        }
    }
}
