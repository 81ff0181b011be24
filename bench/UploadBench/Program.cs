// Upload throughput benchmark: N concurrent clients upload images to a server for a fixed time; reports images/s,
// MB/s and the server's peak resident memory (VmHWM). Four targets, each a separate process on loopback:
//   apertur   the real server (Release build), SQLite + local disk, rate limits off
//   baseline       a trivial Kestrel endpoint that only drains the request body
//   baseline-disk  the same endpoint writing the body to a file and flushing it to disk (what durable storage costs)
//   tus            the tus project's Node server (@tus/server + @tus/file-store, bench/tus), creation-with-upload:
//                  one POST per file with Upload-Length and the file as body
// Also the server's CPU time per stored image and per MB (user + system), figures that hold up when the machine is busy.
// Usage: UploadBench --server-dll <Apertur.Server.dll> [--clients 32] [--seconds 20] [--sizes 1,20] [--fixtures dir]
//                    [--warmup 30] [--targets baseline,baseline-disk,tus,apertur] [--tus-dir bench/tus]
//                    [--database-provider postgres --database-connection <connection string>] [--server-env NAME=VALUE,...]
//        (PostgreSQL: each apertur run creates a fresh database on that server, with that connection's rights, and drops it)
//                    [--idempotency-keys]
//        (--server-env: environment of the apertur server only, e.g. DOTNET_gcServer=1 to compare GC settings)
//        (--idempotency-keys: every apertur upload carries a new Idempotency-Key, as the upload page sends them)
//        UploadBench --serve-baseline <port> [disk]   (internal: runs a baseline server)
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Apertur.Bench;
using Npgsql;

if (args is ["--serve-baseline", var baselinePort, ..])
{
    var toDisk = args.Length > 2 && args[2] == "disk";
    var spool = Path.Combine(Path.GetTempPath(), "apertur-bench-baseline-" + baselinePort);
    Directory.CreateDirectory(spool);
    var builder = WebApplication.CreateSlimBuilder();
    builder.Logging.ClearProviders();
    builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
    builder.WebHost.UseUrls($"http://127.0.0.1:{baselinePort}");
    var baseline = builder.Build();
    baseline.MapPost("/api/v1/upload/{uuid}/images", async (HttpRequest request) =>
    {
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        var path = Path.Combine(spool, Guid.NewGuid().ToString("N"));
        await using (var file = toDisk ? new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.Asynchronous) : null)
        {
            while ((read = await request.Body.ReadAsync(buffer)) > 0)
            {
                total += read;
                if (file is not null)
                {
                    await file.WriteAsync(buffer.AsMemory(0, read));
                }
            }
            file?.Flush(flushToDisk: true);
        }
        if (toDisk)
        {
            File.Delete(path);
        }
        return Results.Json(new { id = Guid.NewGuid(), size_bytes = total }, statusCode: 201);
    });
    await baseline.RunAsync();
    return 0;
}

var options = Options.Parse(args);
string[] samplePhotos = ["phone-photo.jpg", "small.jpg", "screenshot.png", "photo.webp", "photo.heic"];
var fixtures = samplePhotos.Select(name => Path.Combine(options.FixturesDirectory, name)).ToArray();
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
Console.WriteLine($"clients: {options.Clients}, duration: {options.Seconds}s per run, server environment: {string.Join(' ', options.ServerEnvironment)}");
Console.WriteLine();
Console.WriteLine("| target | payload | images/s | MB/s | server CPU ms/image | server CPU ms/MB | database CPU ms/image | server peak RSS (MB) | errors |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");

var results = new List<Result>();
foreach (var (label, files) in Payloads(options, fixtures))
{
    foreach (var target in options.Targets)
    {
        var result = await RunAsync(target, label, files, options);
        results.Add(result);
        Console.WriteLine($"| {result.Target} | {result.Payload} | {result.ImagesPerSecond:F1} | {result.MegabytesPerSecond:F1} | {result.ServerCpuMsPerImage:F2} | {result.ServerCpuMsPerMb:F2} | {(result.DatabaseCpuMsPerImage is { } db ? db.ToString("F2", CultureInfo.InvariantCulture) : "–")} | {result.PeakRssMb:F0} | {result.Errors} |");
    }
}
Console.WriteLine();
foreach (var group in results.GroupBy(r => r.Payload))
{
    if (group.SingleOrDefault(r => r.Target == "apertur") is not { } a)
    {
        continue;
    }
    var ratios = new List<string>();
    foreach (var (other, name) in new[] { ("baseline", "the drain baseline's"), ("baseline-disk", "the drain-to-disk baseline's"), ("tus", "the tus server's") })
    {
        if (group.SingleOrDefault(r => r.Target == other) is { MegabytesPerSecond: > 0 } o)
        {
            ratios.Add($"{100 * a.MegabytesPerSecond / o.MegabytesPerSecond:F0}% of {name} MB/s");
        }
    }
    if (group.SingleOrDefault(r => r.Target == "tus") is { ImagesPerSecond: > 0 } t)
    {
        ratios.Add($"{a.ImagesPerSecond / t.ImagesPerSecond:F2}× the tus server's images/s");
    }
    if (ratios.Count > 0)
    {
        Console.WriteLine($"{group.Key}: apertur reaches {string.Join(", ", ratios)}");
    }
}
return results.Any(r => r.Errors > 0) ? 1 : 0;

static IEnumerable<(string Label, byte[][] Files)> Payloads(Options options, string[] fixtures)
{
    // The sample photos as they are, then a real JPEG padded with random bytes after its end marker to each size.
    yield return ("sample photos", fixtures.Select(File.ReadAllBytes).ToArray());
    var jpeg = File.ReadAllBytes(fixtures.First(f => f.EndsWith("small.jpg", StringComparison.Ordinal)));
    foreach (var mb in options.PaddedSizesMb)
    {
        var padded = new byte[mb * 1024 * 1024];
        Random.Shared.NextBytes(padded);
        jpeg.CopyTo(padded, 0);
        yield return ($"{mb} MB JPEG", [padded]);
    }
}

static async Task<Result> RunAsync(string target, string payload, byte[][] files, Options options)
{
    var port = BenchServer.FreePort();
    var dataDirectory = Path.Combine(Path.GetTempPath(), "apertur-bench", Guid.NewGuid().ToString("N"));
    var key = "aptr_live_" + new string('b', 32);
    // PostgreSQL: a fresh database per run, dropped after it (the server did not start on a database an earlier run had used).
    var postgresDatabase = target == "apertur" && IsPostgres(options) ? await CreatePostgresDatabaseAsync(options.DatabaseConnection!) : null;
    var start = target switch
    {
        "baseline" => new ProcessStartInfo(Environment.ProcessPath!, $"--serve-baseline {port}"),
        "baseline-disk" => new ProcessStartInfo(Environment.ProcessPath!, $"--serve-baseline {port} disk"),
        "tus" => new ProcessStartInfo("node", $"\"{Path.Combine(options.TusDirectory, "server.mjs")}\" {port} \"{dataDirectory}\""),
        _ => AperturStartInfo(options, port, dataDirectory, key, postgresDatabase),
    };
    // The server's idle collection must never run under load (docs/performance.md "Memory after load"): said if it does.
    var server = BenchServer.Start(start, line => Console.Error.WriteLine($"{target}: {line}"));
    try
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = options.Clients, UseCookies = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromMinutes(2),
        };
        // The baselines and tus have no /healthz: any answer on / says they listen.
        await server.WaitUntilUpAsync(http, TimeSpan.FromSeconds(30), target == "apertur" ? "/healthz" : "/");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var sessions = new string[options.Clients];
        for (var i = 0; i < options.Clients; i++)
        {
            sessions[i] = target == "apertur" ? await BenchServer.CreateSessionAsync(http, """{"max_images":1000000,"expires_in_hours":24}""") : Guid.NewGuid().ToString();
        }

        // A warm-up at full load first (not counted), so tiered JIT and pools have settled before the measured run. On a
        // busy 2-core machine the tier-up of the real server takes tens of seconds (docs/performance.md, issue 21).
        long images = 0, bytes = 0, errors = 0;
        await LoadAsync(TimeSpan.FromSeconds(options.WarmupSeconds));
        (images, bytes) = (0, 0);
        var cpuBefore = server.CpuSeconds();
        var databaseCpuBefore = postgresDatabase is null ? 0 : PostgresCpuSeconds();
        var stopAt = Stopwatch.StartNew();
        await LoadAsync(TimeSpan.FromSeconds(options.Seconds));
        var elapsed = stopAt.Elapsed.TotalSeconds;
        var cpuMs = (server.CpuSeconds() - cpuBefore) * 1000;
        var cpuMsPerImage = images == 0 ? 0 : cpuMs / images;
        var cpuMsPerMb = bytes == 0 ? 0 : cpuMs / (bytes / (1024.0 * 1024));
        double? databaseCpuMsPerImage = postgresDatabase is null || images == 0 ? null : (PostgresCpuSeconds() - databaseCpuBefore) * 1000 / images;
        return new Result(target, payload, images / elapsed, bytes / elapsed / (1024 * 1024), cpuMsPerImage, cpuMsPerMb, databaseCpuMsPerImage,
            server.StatusMb("VmHWM"), errors);

        Task LoadAsync(TimeSpan duration) => Task.WhenAll(Enumerable.Range(0, options.Clients).Select(async client =>
        {
            var runFor = Stopwatch.StartNew();
            var n = client;
            while (runFor.Elapsed < duration)
            {
                var file = files[n++ % files.Length];
                using var request = target == "tus" ? TusCreateWithUpload(file) : Multipart(file, sessions[client], options.IdempotencyKeys);
                using var response = await http.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    Interlocked.Increment(ref images);
                    Interlocked.Add(ref bytes, file.Length);
                }
                else if (Interlocked.Increment(ref errors) <= 3)
                {
                    Console.Error.WriteLine($"{target}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
    }
    finally
    {
        server.Dispose();
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
        if (postgresDatabase is not null)
        {
            await ExecutePostgresAsync(options.DatabaseConnection!, $"DROP DATABASE IF EXISTS \"{postgresDatabase}\" WITH (FORCE)");
        }
    }
}

// The real server: the benches' shared settings (bench/Shared/BenchServer.cs), the database of --database-provider, then --server-env.
static ProcessStartInfo AperturStartInfo(Options options, int port, string dataDirectory, string key, string? postgresDatabase)
{
    var start = BenchServer.StartInfo(options.ServerDll, port, dataDirectory, key);
    if (options.DatabaseProvider is { } provider)
    {
        start.Environment["Apertur__Database__Provider"] = provider;
        start.Environment["Apertur__Database__ConnectionString"] = postgresDatabase is null ? options.DatabaseConnection
            : new NpgsqlConnectionStringBuilder(options.DatabaseConnection) { Database = postgresDatabase }.ConnectionString;
    }
    foreach (var variable in options.ServerEnvironment)
    {
        start.Environment[variable[..variable.IndexOf('=', StringComparison.Ordinal)]] = variable[(variable.IndexOf('=', StringComparison.Ordinal) + 1)..];
    }
    return start;
}

// The CPU time of every PostgreSQL process on the machine (the server's backends, the writer, the WAL writer, and what exited
// backends left in their parent's cumulative fields), so the database's share of a PostgreSQL run is seen: it runs on the same cores.
static double PostgresCpuSeconds()
{
    long ticks = 0;
    foreach (var directory in Directory.EnumerateDirectories("/proc"))
    {
        try
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && File.ReadAllText(Path.Combine(directory, "comm")).Trim() == "postgres")
            {
                ticks += BenchServer.CpuTicks(pid, withExitedChildren: true);
            }
        }
        catch (IOException)
        {
            // The process ended while being read.
        }
    }
    return ticks / 100.0;
}

static bool IsPostgres(Options options) => options.DatabaseProvider?.Equals("postgres", StringComparison.OrdinalIgnoreCase) == true;

static async Task<string> CreatePostgresDatabaseAsync(string adminConnection)
{
    var name = "apertur_upload_bench_" + Guid.NewGuid().ToString("N");
    await ExecutePostgresAsync(adminConnection, $"CREATE DATABASE \"{name}\"");
    return name;
}

static async Task ExecutePostgresAsync(string connectionString, string sql)
{
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(sql, connection);
    await command.ExecuteNonQueryAsync();
}

static HttpRequestMessage Multipart(byte[] file, string session, bool idempotencyKey)
{
    var content = new MultipartFormDataContent();
    var part = new ByteArrayContent(file);
    part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
    content.Add(part, "file", "photo.jpg");
    var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/upload/{session}/images") { Content = content };
    if (idempotencyKey)
    {
        // As the upload page sends every photo (docs/architecture.md "How the upload page works").
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
    }
    return request;
}

static HttpRequestMessage TusCreateWithUpload(byte[] file)
{
    // tus 1.0.0 creation-with-upload: the POST that creates the upload carries all of its bytes; 201 when stored.
    var content = new ByteArrayContent(file);
    content.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
    var request = new HttpRequestMessage(HttpMethod.Post, "/files") { Content = content };
    request.Headers.Add("Tus-Resumable", "1.0.0");
    request.Headers.Add("Upload-Length", file.Length.ToString(CultureInfo.InvariantCulture));
    return request;
}

internal sealed record Result(string Target, string Payload, double ImagesPerSecond, double MegabytesPerSecond, double ServerCpuMsPerImage,
    double ServerCpuMsPerMb, double? DatabaseCpuMsPerImage, double PeakRssMb, long Errors);

internal sealed record Options(string ServerDll, int Clients, int Seconds, int WarmupSeconds, int[] PaddedSizesMb, string FixturesDirectory, string[] Targets,
    string TusDirectory, string? DatabaseProvider, string? DatabaseConnection, string[] ServerEnvironment, bool IdempotencyKeys)
{
    public static Options Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        return new Options(
            Get("--server-dll", "src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll"),
            int.Parse(Get("--clients", "32"), CultureInfo.InvariantCulture),
            int.Parse(Get("--seconds", "20"), CultureInfo.InvariantCulture),
            int.Parse(Get("--warmup", "30"), CultureInfo.InvariantCulture),
            Get("--sizes", "1,20").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(),
            Get("--fixtures", "tests/Apertur.IntegrationTests/Fixtures"),
            Get("--targets", "baseline,baseline-disk,tus,apertur").Split(',', StringSplitOptions.RemoveEmptyEntries),
            Get("--tus-dir", "bench/tus"),
            args.Contains("--database-provider") ? Get("--database-provider", "") : null,
            args.Contains("--database-connection") ? Get("--database-connection", "") : null,
            Get("--server-env", "").Split(',', StringSplitOptions.RemoveEmptyEntries),
            args.Contains("--idempotency-keys"));
    }
}
