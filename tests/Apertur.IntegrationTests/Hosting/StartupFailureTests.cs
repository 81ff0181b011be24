using System.Net;
using System.Net.Sockets;
using Apertur.IntegrationTests.Infrastructure;
using Npgsql;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// Runs the real executable on a PostgreSQL database it cannot use: it stops at once with a non-zero exit code and one line
/// on standard error that names the database, its host and port, and what to check; no stack trace anywhere. So does
/// <c>keys create</c>.
/// </summary>
public sealed class StartupFailureTests
{
    [Fact]
    public async Task Start_DatabaseDoesNotExist_OneLineOnStandardErrorAndNonZeroExit()
    {
        var missing = "apertur_missing_" + Guid.NewGuid().ToString("N");
        var connection = new NpgsqlConnectionStringBuilder(TestApp.PostgresAdminConnectionString) { Database = missing };

        var (exit, stdout, stderr) = await StartAsync(connection.ToString());

        exit.ShouldNotBe(0);
        var line = ServerProcess.RefusalLine(stdout, stderr);
        line.ShouldContain($"\"{missing}\"");
        line.ShouldContain($"{connection.Host}:{connection.Port}");
        line.ShouldContain("3D000");
        line.ShouldContain("Apertur:Database:ConnectionString");
    }

    [Fact]
    public async Task Start_NothingListensOnThePort_OneLineOnStandardErrorAndNonZeroExit()
    {
        var port = Loopback.FreePort();

        var (exit, stdout, stderr) = await StartAsync($"Host=127.0.0.1;Port={port};Username=postgres;Database=apertur");

        exit.ShouldNotBe(0);
        var line = ServerProcess.RefusalLine(stdout, stderr);
        line.ShouldContain($"127.0.0.1:{port}");
        line.ShouldContain("\"apertur\"");
    }

    [Fact]
    public async Task KeysCreate_DatabaseDoesNotExist_OneLineOnStandardErrorAndNonZeroExit()
    {
        var missing = "apertur_missing_" + Guid.NewGuid().ToString("N");
        var connection = new NpgsqlConnectionStringBuilder(TestApp.PostgresAdminConnectionString) { Database = missing };

        var (exit, stdout, stderr) = await StartAsync(connection.ToString(), "keys", "create", "--project", "Default");

        exit.ShouldNotBe(0);
        stdout.ShouldNotContain("aptr_");
        var line = ServerProcess.RefusalLine(stdout, stderr);
        line.ShouldContain($"\"{missing}\"");
        line.ShouldContain("3D000");
    }

    private static Task<(int Exit, string Out, string Err)> StartAsync(string connectionString, params string[] args) =>
        ServerProcess.RunToExitAsync(args, new Dictionary<string, string>
        {
            ["Apertur__Database__Provider"] = "Postgres",
            ["Apertur__Database__ConnectionString"] = connectionString,
            ["Urls"] = "http://127.0.0.1:0",
        });
}
