// The cost of the pages an operator opens first as a project's history grows (docs/performance.md "History"). For each
// database: the real server as a child process on a fresh database, one project with one webhook destination; its history is
// grown to each size in turn (default 1,000, 50,000 and 200,000 images: 5 images per session, a delivery for every second image,
// one in ten failed) by bulk INSERTs straight into the server's tables, cloned from a real session, image and delivery made
// through the API, so the server's triggers keep the daily usage exactly as uploads do. The history grows backwards in time
// (200 sessions a day), so the last 30 days look the same at every size and only the history changes. At each size, each
// endpoint is requested --requests times one after the other (after --warmup), and p50/p99 are printed.
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apertur.Bench;
using Microsoft.Data.Sqlite;
using Npgsql;

var options = Options.Parse(args);
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; "
    + $"load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
Console.WriteLine("| database | images | sessions | deliveries | endpoint | p50 ms | p99 ms |");
Console.WriteLine("|---|---|---|---|---|---|---|");
foreach (var database in options.Databases)
{
    await History.RunAsync(options, database);
}

internal sealed record Options(string ServerDll, string[] Databases, int[] Sizes, int Requests, int Warmup, string PostgresAdmin)
{
    public static Options Parse(string[] args)
    {
        string Arg(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        return new Options(Arg("--server-dll", "src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll"),
            Arg("--databases", "sqlite,postgres").Split(','),
            Arg("--sizes", "1000,50000,200000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
            int.Parse(Arg("--requests", "200"), CultureInfo.InvariantCulture),
            int.Parse(Arg("--warmup", "20"), CultureInfo.InvariantCulture),
            Arg("--postgres", "Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres"));
    }
}

internal static class History
{
    private const int ImagesPerSession = 5;
    private const int SessionsPerDay = 200;

    public static async Task RunAsync(Options options, string database)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("apertur-history-").FullName;
        var postgresName = $"apertur_history_{Environment.ProcessId}";
        string? connectionString = null;
        if (database == "postgres")
        {
            await using var admin = new NpgsqlConnection(options.PostgresAdmin);
            await admin.OpenAsync();
            await Execute(admin, $"DROP DATABASE IF EXISTS {postgresName}");
            await Execute(admin, $"CREATE DATABASE {postgresName}");
            connectionString = new NpgsqlConnectionStringBuilder(options.PostgresAdmin) { Database = postgresName }.ConnectionString;
        }
        var server = await Server.StartAsync(options.ServerDll, dataDirectory, connectionString);
        try
        {
            await using DbConnection db = database == "postgres"
                ? new NpgsqlConnection(connectionString)
                : new SqliteConnection($"Data Source={Path.Combine(dataDirectory, "apertur.db")};Default Timeout=60");
            await db.OpenAsync();
            if (db is SqliteConnection)
            {
                await Execute(db, "PRAGMA busy_timeout = 60000");
            }
            var projectId = await server.ProjectIdAsync();
            var destination = await server.CreateDestinationAsync();
            var template = await server.CreateSessionAsync(destination);
            await server.UploadAsync(template);
            var grower = new Grower(db, database == "postgres", template);
            await server.SignInAsync();
            var grown = 0;
            foreach (var size in options.Sizes)
            {
                var sessions = (size - grown) / ImagesPerSession;
                await grower.AddSessionsAsync(grown / ImagesPerSession, sessions);
                grown += sessions * ImagesPerSession;
                var deliveries = Convert.ToInt64(await Scalar(db, "SELECT COUNT(*) FROM deliveries"), CultureInfo.InvariantCulture);
                var sessionCount = Convert.ToInt64(await Scalar(db, "SELECT COUNT(*) FROM sessions"), CultureInfo.InvariantCulture);
                // The server runs without workers (its periodic jobs would retain and purge the back-dated history), so its usage
                // roll-up does not run: the bench runs the same statements once the history is grown, as the job would within
                // Apertur:Usage:RollupInterval, so the stats read day rows, not every delta of the growth.
                await RollUpUsageAsync(db);
                if (database == "postgres")
                {
                    // What autovacuum does after a bulk load, which a live server has had time for: statistics, and the
                    // visibility map that lets the counts be index-only scans instead of visiting every row's page.
                    await Execute(db, "VACUUM ANALYZE");
                }
                else
                {
                    await Execute(db, "PRAGMA optimize");
                }
                var lastPage = (int)Math.Max(1, (sessionCount + 19) / 20);
                var endpoints = new (string Name, string Path, bool Dashboard)[]
                {
                    ("GET /api/v1/stats", "/api/v1/stats", false),
                    ("dashboard overview", $"/dashboard/projects/{projectId}", true),
                    ("dashboard deliveries", $"/dashboard/projects/{projectId}/deliveries", true),
                    ("sessions list, last page", $"/api/v1/sessions?page={lastPage}&pageSize=20", false),
                };
                foreach (var (name, path, dashboard) in endpoints)
                {
                    var times = await server.TimeAsync(path, dashboard, options.Warmup, options.Requests);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {database} | {grown + 1} | {sessionCount} | {deliveries} | {name} | {Percentile(times, 0.50):0.0} | {Percentile(times, 0.99):0.0} |"));
                }
            }
        }
        finally
        {
            server.Dispose();
            if (database == "postgres")
            {
                await using var admin = new NpgsqlConnection(options.PostgresAdmin);
                await admin.OpenAsync();
                await Execute(admin, $"DROP DATABASE IF EXISTS {postgresName} WITH (FORCE)");
            }
            Directory.Delete(dataDirectory, recursive: true);
        }
    }

    private static async Task RollUpUsageAsync(DbConnection db)
    {
        await using var tx = await db.BeginTransactionAsync();
        if (db is NpgsqlConnection)
        {
            await Execute(db, Apertur.Server.Stats.UsageRollupSql.PostgresMove, tx);
        }
        else
        {
            await Execute(db, Apertur.Server.Stats.UsageRollupSql.SqliteAdd, tx);
            await Execute(db, Apertur.Server.Stats.UsageRollupSql.SqliteDelete, tx);
        }
        await tx.CommitAsync();
    }

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    internal static async Task Execute(DbConnection db, string sql, DbTransaction? tx = null)
    {
        await using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        cmd.CommandTimeout = 600;
        await cmd.ExecuteNonQueryAsync();
    }

    internal static async Task<object?> Scalar(DbConnection db, string sql)
    {
        await using var cmd = db.CreateCommand();
        cmd.CommandText = sql;
        cmd.CommandTimeout = 600;
        return await cmd.ExecuteScalarAsync();
    }

    /// <summary>
    /// Clones the template session, its image and its delivery: every column copied, except those that make a row new (id,
    /// times, counts, statuses). Session number n (0 the newest) is created n / 200 days before the template.
    /// </summary>
    private sealed class Grower(DbConnection db, bool postgres, string templateSession)
    {
        private const int Batch = 2000;

        public async Task AddSessionsAsync(int first, int count)
        {
            for (var start = first; start < first + count; start += Batch)
            {
                var n = Math.Min(Batch, first + count - start);
                await using var tx = await db.BeginTransactionAsync();
                var label = $"history-{start}";
                await Execute(db, await CloneAsync("sessions", "t.id = " + Literal(templateSession), new()
                {
                    ["id"] = NewId(),
                    ["label"] = $"'{label}'",
                    ["created_at"] = Before("t.created_at", $"(g.i + {start} + 1)"),
                    ["last_changed_at"] = Before("t.created_at", $"(g.i + {start} + 1)"),
                    ["expires_at"] = Before("t.created_at", $"(g.i + {start})"),
                    ["image_count"] = ImagesPerSession.ToString(CultureInfo.InvariantCulture),
                }, n), tx);
                await Execute(db, await CloneAsync("images", $"t.session_id = {Literal(templateSession)}", new()
                {
                    ["id"] = NewId(),
                    ["session_id"] = "s.id",
                    ["image_index"] = "g.i",
                    ["created_at"] = Plus("s.created_at", "g.i"),
                    ["in_poll_queue"] = postgres ? "false" : "0",
                }, ImagesPerSession, $"JOIN sessions s ON s.label = '{label}'"), tx);
                await Execute(db, await CloneAsync("deliveries", $"t.session_id = {Literal(templateSession)}", new()
                {
                    ["id"] = NewId(),
                    ["image_id"] = "i.id",
                    ["session_id"] = "i.session_id",
                    ["status"] = "CASE WHEN i.image_index = 2 THEN 'failed' ELSE 'sent' END",
                    ["attempts"] = "1",
                    ["created_at"] = "i.created_at",
                    ["updated_at"] = Plus("i.created_at", "1"),
                    ["next_attempt_at"] = "i.created_at",
                }, 1, $"JOIN images i ON i.session_id IN (SELECT id FROM sessions WHERE label = '{label}') AND i.image_index % 2 = 0"), tx);
                await tx.CommitAsync();
            }
        }

        private string NewId() => postgres
            ? "gen_random_uuid()"
            : "upper(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-8' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))";

        private string Literal(string uuid) => postgres ? $"'{uuid}'::uuid" : $"'{uuid.ToUpperInvariant()}'";

        private string Before(string at, string sessions) => postgres
            ? $"{at} - ({sessions}) * interval '{86400 / SessionsPerDay} seconds'"
            : $"{at} - ({sessions}) * {86400_000 / SessionsPerDay}";

        private string Plus(string at, string seconds) => postgres ? $"{at} + ({seconds}) * interval '1 second'" : $"{at} + ({seconds}) * 1000";

        private async Task<string> CloneAsync(string table, string template, Dictionary<string, string> set, int copies, string join = "")
        {
            var columns = new List<string>();
            await using (var cmd = db.CreateCommand())
            {
                cmd.CommandText = postgres
                    ? $"SELECT column_name FROM information_schema.columns WHERE table_name = '{table}' AND table_schema = 'public' ORDER BY ordinal_position"
                    : $"SELECT name FROM pragma_table_info('{table}')";
                await using var reader = await cmd.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    columns.Add(reader.GetString(0));
                }
            }
            var series = postgres
                ? $"generate_series(0, {copies - 1}) AS g(i)"
                : $"(WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {copies}) SELECT i FROM n) g";
            return $"INSERT INTO {table} ({string.Join(", ", columns)}) SELECT {string.Join(", ", columns.Select(c => set.GetValueOrDefault(c, "t." + c)))} "
                + $"FROM {table} t CROSS JOIN {series} {join} WHERE {template}";
        }
    }
}

/// <summary>The real server as a child process, with an API key and a signed-in dashboard account.</summary>
internal sealed partial class Server : IDisposable
{
    private const string Key = "aptr_live_cccccccccccccccccccccccccccccccc";
    private readonly BenchServer _process;
    private readonly HttpClient _api;
    private readonly HttpClient _dashboard;
    private readonly CookieContainer _cookies = new();

    private Server(BenchServer process, Uri address)
    {
        _process = process;
        _api = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
        _api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        _dashboard = new HttpClient(new SocketsHttpHandler { CookieContainer = _cookies, AllowAutoRedirect = false })
        {
            BaseAddress = address, Timeout = TimeSpan.FromMinutes(2),
        };
    }

    public static async Task<Server> StartAsync(string serverDll, string dataDirectory, string? postgres)
    {
        var port = BenchServer.FreePort();
        var start = BenchServer.StartInfo(serverDll, port, dataDirectory, Key);
        var env = start.Environment;
        env["Apertur__Database__Provider"] = postgres is null ? "Sqlite" : "Postgres";
        if (postgres is not null)
        {
            env["Apertur__Database__ConnectionString"] = postgres;
        }
        env["Apertur__Bootstrap__AdminUsername"] = "bench";
        env["Apertur__Bootstrap__AdminPassword"] = "bench-password-123456";
        env["Apertur__Workers__Enabled"] = "false";
        var server = new Server(BenchServer.Start(start, line => Console.Error.WriteLine($"server: {line}")), new Uri($"http://127.0.0.1:{port}"));
        try
        {
            await server._process.WaitUntilUpAsync(server._api, TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public async Task<string> ProjectIdAsync() => (await JsonAsync(HttpMethod.Get, "/api/v1/project", null)).GetProperty("id").GetString()!;

    public async Task<Guid> CreateDestinationAsync()
    {
        var body = JsonSerializer.Serialize(new { type = "webhook", name = "Receiver", config = new { url = "http://127.0.0.1:9/hook" } });
        var created = await JsonAsync(HttpMethod.Post, $"/api/v1/projects/{await ProjectIdAsync()}/destinations", body);
        return Guid.Parse(created.GetProperty("id").GetString()!);
    }

    public async Task<string> CreateSessionAsync(Guid destination)
    {
        var body = JsonSerializer.Serialize(new { destination_ids = new[] { destination.ToString() }, max_images = 10 });
        return (await JsonAsync(HttpMethod.Post, "/api/v1/upload-sessions", body)).GetProperty("uuid").GetString()!;
    }

    public async Task UploadAsync(string session)
    {
        using var content = new MultipartFormDataContent();
        // A real photo (the upload checks the JPEG's structure); the bench runs from the repository's root.
        var part = new ByteArrayContent(await File.ReadAllBytesAsync("tests/Apertur.IntegrationTests/Fixtures/small.jpg"));
        part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        content.Add(part, "file", "photo.jpg");
        using var response = await _api.PostAsync($"/api/v1/upload/{session}/images", content);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"upload answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    public async Task SignInAsync()
    {
        var page = await _dashboard.GetStringAsync("/dashboard/login");
        var token = AntiforgeryToken().Match(page).Groups[1].Value;
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["username"] = "bench", ["password"] = "bench-password-123456", ["__RequestVerificationToken"] = token,
        });
        using var response = await _dashboard.PostAsync("/dashboard/login", form);
        if (response.StatusCode != HttpStatusCode.Redirect && response.StatusCode != HttpStatusCode.Found)
        {
            throw new InvalidOperationException($"sign-in answered {(int)response.StatusCode}");
        }
    }

    /// <summary>Requests <paramref name="path"/> one after the other; the times of the measured ones in ms, sorted.</summary>
    public async Task<List<double>> TimeAsync(string path, bool dashboard, int warmup, int requests)
    {
        var client = dashboard ? _dashboard : _api;
        var times = new List<double>(requests);
        for (var i = 0; i < warmup + requests; i++)
        {
            var watch = Stopwatch.StartNew();
            using var response = await client.GetAsync(path);
            await response.Content.ReadAsByteArrayAsync();
            watch.Stop();
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{path} answered {(int)response.StatusCode}");
            }
            if (i >= warmup)
            {
                times.Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        times.Sort();
        return times;
    }

    private async Task<JsonElement> JsonAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }
        using var response = await _api.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path} answered {(int)response.StatusCode}: {text}");
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();

    public void Dispose()
    {
        _api.Dispose();
        _dashboard.Dispose();
        _process.Dispose();
    }
}
