// Delivery benchmark: the real server (Release) as a child process on SQLite, then on PostgreSQL, delivering to a Kestrel
// webhook receiver in this process that answers 200 at once and notes when each image arrived (X-Aptr-Image-Id).
//   latency     uploads at a steady rate (default 50/s for 20 s); per image, upload answered → receiver got it: p50/p95/p99
//   throughput  a backlog is uploaded with the worker off, then the server restarts with it on: deliveries/s at the receiver
// Usage: DeliveryBench --server-dll <Apertur.Server.dll> [--rate 50] [--seconds 20] [--backlog 6000] [--destinations 4]
//        [--databases sqlite,postgres] [--postgres "Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres"]
//        [--uploads-only]   (the latency run's uploads with the worker off: what the upload path alone costs)
//   per kind    --kinds webhook,s3,...: for each destination kind, a backlog of --kind-images images of --kind-size-mb MB
//               (default 40 × 5 MB) is queued with the worker off, then delivered to the kind's real server on loopback
//               (scripts/services.sh start): MB/s from the first attempt's start to the last attempt's end (SQLite).
//   replicas    --replicas 1,3: for each count N, the latency run against N server processes on one fresh PostgreSQL
//               database and one fresh S3 bucket (--s3, default http://127.0.0.1:54566: fauxqs of scripts/services.sh),
//               one master key file, a data directory and port each. N = 1: one server; N = 3, two rows: "spread" (uploads
//               round-robin over A, B, C, all deliver) and "split" (uploads to A, workers off there; B and C deliver).
//               Per row: uploads/s, upload (→ 201) p50/p99, delivery p50/p95/p99/max, errors, every image delivered once.
//               Replaces the latency and throughput runs; PostgreSQL only. [--replicas 1,3] [--s3 <url>]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Apertur.Bench;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Npgsql;

var options = BenchOptions.Parse(args);
var image = File.ReadAllBytes(Path.Combine(options.FixturesDirectory, "small.jpg"));
await using var receiver = await Receiver.StartAsync();
if (options.Kinds.Length > 0)
{
    return await KindThroughput.RunAllAsync(options, image, receiver);
}
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
Console.WriteLine($"image: small.jpg ({image.Length} bytes), webhook format multipart, receiver answers 200 at once");
Console.WriteLine();
if (options.Replicas.Length > 0)
{
    return await ReplicaRunsAsync(options, image, receiver);
}

var latencies = new List<string>();
var throughputs = new List<string>();
var failed = false;
foreach (var database in options.Databases)
{
    var latency = await LatencyRunAsync(database, options, image, receiver);
    latencies.Add(latency.Row);
    failed |= latency.Failed;
    if (options.UploadsOnly)
    {
        continue;
    }
    var throughput = await ThroughputRunAsync(database, options, image, receiver);
    throughputs.Add(throughput.Row);
    failed |= throughput.Failed;
}

Console.WriteLine();
Console.WriteLine($"Latency: {options.Rate} uploads/s for {options.Seconds} s, one webhook destination; upload answered (201 received by the client) → receiver got the request.");
Console.WriteLine();
Console.WriteLine("| database | uploads | p50 ms | p95 ms | p99 ms | max ms | upload p50 / p99 ms | lost |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");
latencies.ForEach(Console.WriteLine);
Console.WriteLine();
Console.WriteLine($"Throughput: a backlog of {options.Backlog} deliveries ({options.Destinations} webhook destinations per session), worker concurrency {options.Concurrency}.");
Console.WriteLine();
Console.WriteLine("| database | deliveries | seconds | deliveries/s |");
Console.WriteLine("|---|---|---|---|");
throughputs.ForEach(Console.WriteLine);
return failed ? 1 : 0;

static async Task<(string Row, bool Failed)> LatencyRunAsync(string database, BenchOptions options, byte[] image, Receiver receiver)
{
    await using var storage = await Storage.CreateAsync(database, options);
    using var server = await Server.StartAsync(options, storage, workerEnabled: !options.UploadsOnly);
    var destination = await storage.AddWebhookAsync(receiver.Url("/latency"));
    var session = await server.CreateSessionAsync([destination]);
    var run = await MeasureLatencyAsync(options, image, receiver, [server], session, deliveries: !options.UploadsOnly);
    var (ms, upload) = (run.Delivery, run.Ingest);
    var row = $"| {database} | {run.Uploads} | {P(ms, 50):F1} | {P(ms, 95):F1} | {P(ms, 99):F1} | {ms.LastOrDefault():F1} | {P(upload, 50):F1} / {P(upload, 99):F1} | {run.Lost} |";
    Console.WriteLine($"latency {database}: {run.Uploads} uploads ({run.Errors} errors), p50 {P(ms, 50):F1} ms, p99 {P(ms, 99):F1} ms");
    return (row, run.Errors > 0 || run.Lost > 0);
}

/// The latency run's measurement, on one server or several: 50 warm-up uploads per server uploaded to (JIT, connection pools,
/// first delivery; not measured), then options.Rate uploads/s for options.Seconds s, round-robin over uploadTo, each to
/// the session; then, with deliveries, waits (up to 60 s) until the receiver has every image.
static async Task<LatencyRun> MeasureLatencyAsync(BenchOptions options, byte[] image, Receiver receiver, IReadOnlyList<Server> uploadTo,
    string session, bool deliveries)
{
    for (var i = 0; i < 50 * uploadTo.Count; i++)
    {
        await uploadTo[i % uploadTo.Count].UploadAsync(session, image);
    }
    await Task.Delay(1000);
    receiver.Reset();

    var total = options.Rate * options.Seconds;
    var interval = TimeSpan.FromSeconds(1.0 / options.Rate);
    var answered = new ConcurrentDictionary<string, long>();
    var uploadTimes = new ConcurrentBag<double>();
    var errors = 0;
    var start = Stopwatch.GetTimestamp();
    var uploads = new List<Task>(total);
    for (var i = 0; i < total; i++)
    {
        var due = start + (long)(i * interval.TotalSeconds * Stopwatch.Frequency);
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
        var server = uploadTo[i % uploadTo.Count];
        uploads.Add(Task.Run(async () =>
        {
            var sent = Stopwatch.GetTimestamp();
            var id = await server.UploadAsync(session, image);
            var done = Stopwatch.GetTimestamp();
            if (id is null)
            {
                Interlocked.Increment(ref errors);
                return;
            }
            answered[id] = done;
            uploadTimes.Add(Stopwatch.GetElapsedTime(sent, done).TotalMilliseconds);
        }));
    }
    await Task.WhenAll(uploads);
    var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
    var deadline = Stopwatch.StartNew();
    while (deliveries && answered.Keys.Any(id => !receiver.Arrivals.ContainsKey(id)) && deadline.Elapsed < TimeSpan.FromSeconds(60))
    {
        await Task.Delay(50);
    }
    if (deliveries)
    {
        // A second delivery of an image (a retry, two replicas' workers on one delivery) would come soon after the first.
        await Task.Delay(1000);
    }
    var lost = deliveries ? answered.Keys.Count(id => !receiver.Arrivals.ContainsKey(id)) : 0;
    var twice = answered.Keys.Count(id => receiver.Deliveries.TryGetValue(id, out var n) && n > 1);
    var ms = answered.Where(a => receiver.Arrivals.ContainsKey(a.Key))
        // Signed: the worker, nudged at commit, can reach the receiver before the client has read its 201.
        .Select(a => Stopwatch.GetElapsedTime(a.Value, receiver.Arrivals[a.Key]).TotalMilliseconds)
        .Order().ToArray();
    return new LatencyRun(answered.Count, errors, seconds, [.. uploadTimes.Order()], ms, lost, twice);
}

/// --replicas: for each count N, the latency run against N server processes on one fresh PostgreSQL database and one fresh
/// S3 bucket (Replicas). N = 1: uploads and deliveries on the one server. N > 1: "spread", uploads round-robin over all and
/// every replica's workers on; "split", every upload to replica A, whose workers are off, so another process delivers.
static async Task<int> ReplicaRunsAsync(BenchOptions options, byte[] image, Receiver receiver)
{
    if (options.Databases.Contains("sqlite"))
    {
        Console.WriteLine("replicas: SQLite serves one process only (apertur.lock); the replica runs are on PostgreSQL");
    }
    var rows = new List<string>();
    var failed = false;
    foreach (var count in options.Replicas)
    {
        foreach (var split in count == 1 ? [false] : new[] { false, true })
        {
            var (row, rowFailed) = await ReplicaRunAsync(options, image, receiver, count, split);
            rows.Add(row);
            failed |= rowFailed;
        }
    }
    Console.WriteLine();
    Console.WriteLine($"Replicas: {options.Rate} uploads/s for {options.Seconds} s on PostgreSQL, images in one S3 bucket ({options.S3}), one webhook destination; " +
        "upload = request sent → 201 received by the client; delivery = 201 received by the client → receiver got the request.");
    Console.WriteLine();
    Console.WriteLine("| replicas | uploads to | delivered by | uploads | uploads/s | upload p50 / p99 ms | p50 ms | p95 ms | p99 ms | max ms | errors | delivered once |");
    Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
    rows.ForEach(Console.WriteLine);
    return failed ? 1 : 0;
}

static async Task<(string Row, bool Failed)> ReplicaRunAsync(BenchOptions options, byte[] image, Receiver receiver, int count, bool split)
{
    await using var storage = await Storage.CreateAsync("postgres", options);
    using var replicas = await Replicas.StartAsync(options, storage, count, workerEnabled: i => !(split && i == 0));
    var destination = await storage.AddWebhookAsync(receiver.Url("/replicas"));
    var session = await replicas[0].CreateSessionAsync([destination]);
    var run = await MeasureLatencyAsync(options, image, receiver, split ? [replicas[0]] : replicas.Servers, session, deliveries: true);
    var names = Enumerable.Range(0, count).Select(Replicas.Name).ToArray();
    var (layout, uploadsTo, deliveredBy) = (count, split) switch
    {
        (1, _) => ("1", "A", "A"),
        (_, false) => ($"{count} spread", $"{string.Join(", ", names)} round-robin", string.Join(", ", names)),
        (_, true) => ($"{count} split", "A (workers off)", string.Join(", ", names.Skip(1))),
    };
    var (ms, upload) = (run.Delivery, run.Ingest);
    var once = run.Lost == 0 && run.Twice == 0 ? "yes" : $"no: {run.Lost} lost, {run.Twice} twice";
    var row = $"| {layout} | {uploadsTo} | {deliveredBy} | {run.Uploads} | {run.Uploads / run.Seconds:F1} | {P(upload, 50):F1} / {P(upload, 99):F1} | " +
        $"{P(ms, 50):F1} | {P(ms, 95):F1} | {P(ms, 99):F1} | {ms.LastOrDefault():F1} | {run.Errors} | {once} |";
    Console.WriteLine($"replicas {layout}: {run.Uploads} uploads ({run.Errors} errors) in {run.Seconds:F1} s, upload p99 {P(upload, 99):F1} ms, " +
        $"delivery p50 {P(ms, 50):F1} ms, p99 {P(ms, 99):F1} ms, {run.Lost} lost, {run.Twice} twice");
    return (row, run.Errors > 0 || run.Lost > 0 || run.Twice > 0);
}

static async Task<(string Row, bool Failed)> ThroughputRunAsync(string database, BenchOptions options, byte[] image, Receiver receiver)
{
    await using var storage = await Storage.CreateAsync(database, options);
    var destinations = new List<Guid>();
    var uploads = options.Backlog / options.Destinations;
    using (var loader = await Server.StartAsync(options, storage, workerEnabled: false))
    {
        for (var i = 0; i < options.Destinations; i++)
        {
            destinations.Add(await storage.AddWebhookAsync(receiver.Url($"/throughput/{i}")));
        }
        var session = await loader.CreateSessionAsync(destinations);
        var next = -1;
        var clients = Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) < uploads)
            {
                if (await loader.UploadAsync(session, image) is null)
                {
                    throw new InvalidOperationException("an upload of the backlog failed");
                }
            }
        });
        await Task.WhenAll(clients);
    }
    receiver.Reset();
    var expected = uploads * options.Destinations;
    using var server = await Server.StartAsync(options, storage, workerEnabled: true);
    var deadline = Stopwatch.StartNew();
    while (receiver.Count < expected && deadline.Elapsed < TimeSpan.FromMinutes(5))
    {
        await Task.Delay(50);
    }
    var seconds = Stopwatch.GetElapsedTime(receiver.First, receiver.Last).TotalSeconds;
    var rate = receiver.Count / seconds;
    Console.WriteLine($"throughput {database}: {receiver.Count} of {expected} deliveries in {seconds:F2} s = {rate:F0}/s");
    return ($"| {database} | {receiver.Count} | {seconds:F2} | {rate:F0} |", receiver.Count < expected);
}

static double P(double[] sorted, double percentile) =>
    sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(percentile / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

/// <summary>What one latency run measured: ingest (request sent → 201) and delivery (201 → receiver) times in ms, sorted.</summary>
internal sealed record LatencyRun(int Uploads, int Errors, double Seconds, double[] Ingest, double[] Delivery, int Lost, int Twice);

/// <summary>The webhook receiver: answers 200 at once and notes the first arrival of each image and every arrival's time.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;
    private long _first;
    private long _last;

    private Receiver(WebApplication app) => _app = app;

    public ConcurrentDictionary<string, long> Arrivals { get; } = new();

    /// <summary>How many times each image arrived.</summary>
    public ConcurrentDictionary<string, int> Deliveries { get; } = new();
    public int Count => Volatile.Read(ref _count);
    public long First => Interlocked.Read(ref _first);
    public long Last => Interlocked.Read(ref _last);
    public int Port { get; private set; }

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}{path}");

    public void Reset()
    {
        Arrivals.Clear();
        Deliveries.Clear();
        Interlocked.Exchange(ref _count, 0);
        Interlocked.Exchange(ref _first, 0);
        Interlocked.Exchange(ref _last, 0);
    }

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.Run(async context =>
        {
            var buffer = new byte[16 * 1024];
            while (await context.Request.Body.ReadAsync(buffer) > 0)
            {
            }
            var now = Stopwatch.GetTimestamp();
            var id = context.Request.Headers["X-Aptr-Image-Id"].ToString();
            receiver.Arrivals.TryAdd(id, now);
            receiver.Deliveries.AddOrUpdate(id, 1, (_, n) => n + 1);
            Interlocked.CompareExchange(ref receiver._first, now, 0);
            Interlocked.Exchange(ref receiver._last, now);
            Interlocked.Increment(ref receiver._count);
            await context.Response.WriteAsync("ok");
        });
        await app.StartAsync();
        receiver.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single()).Port;
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>A fresh data directory and database for one run; inserts destination rows directly.</summary>
internal sealed class Storage : IAsyncDisposable
{
    private readonly string? _postgresDatabase;
    private readonly string _adminConnection;

    private Storage(string provider, string dataDirectory, string? connectionString, string? postgresDatabase, string adminConnection)
    {
        Provider = provider;
        DataDirectory = dataDirectory;
        ConnectionString = connectionString;
        _postgresDatabase = postgresDatabase;
        _adminConnection = adminConnection;
    }

    public string Provider { get; }
    public string DataDirectory { get; }
    public string? ConnectionString { get; }

    public static async Task<Storage> CreateAsync(string database, BenchOptions options)
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "apertur-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        if (database == "sqlite")
        {
            return new Storage("Sqlite", dataDirectory, null, null, options.Postgres);
        }
        var name = "apertur_bench_" + Guid.NewGuid().ToString("N");
        await using (var connection = new NpgsqlConnection(options.Postgres))
        {
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await cmd.ExecuteNonQueryAsync();
        }
        return new Storage("Postgres", dataDirectory, new NpgsqlConnectionStringBuilder(options.Postgres) { Database = name }.ToString(), name, options.Postgres);
    }

    /// <summary>A webhook destination of the (only) project, as the management API would store it.</summary>
    public async Task<Guid> AddWebhookAsync(Uri url)
    {
        var id = Guid.CreateVersion7();
        var config = JsonSerializer.Serialize(new { url = url.ToString(), format = "multipart" });
        if (Provider == "Sqlite")
        {
            await using var connection = new SqliteConnection($"Data Source={Path.Combine(DataDirectory, "apertur.db")};Default Timeout=30");
            await connection.OpenAsync();
            await using var cmd = connection.CreateCommand();
            cmd.CommandText = """
                INSERT INTO destinations (id, project_id, type, name, config, is_active, created_at, updated_at)
                SELECT @id, id, 'webhook', @name, @config, 1, @now, @now FROM projects LIMIT 1
                """;
            cmd.Parameters.AddWithValue("@id", id.ToString().ToUpperInvariant());
            cmd.Parameters.AddWithValue("@name", url.AbsolutePath);
            cmd.Parameters.AddWithValue("@config", config);
            cmd.Parameters.AddWithValue("@now", TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds());
            await cmd.ExecuteNonQueryAsync();
        }
        else
        {
            await using var connection = new NpgsqlConnection(ConnectionString);
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                INSERT INTO destinations (id, project_id, type, name, config, is_active, created_at, updated_at)
                SELECT @id, id, 'webhook', @name, @config, true, now(), now() FROM projects LIMIT 1
                """, connection);
            cmd.Parameters.AddWithValue("id", id);
            cmd.Parameters.AddWithValue("name", url.AbsolutePath);
            cmd.Parameters.AddWithValue("config", config);
            await cmd.ExecuteNonQueryAsync();
        }
        return id;
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgresDatabase is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_adminConnection);
            await connection.OpenAsync();
            await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresDatabase}\" WITH (FORCE)", connection);
            await cmd.ExecuteNonQueryAsync();
        }
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The real server as a child process, and the two API calls the bench makes.</summary>
internal sealed class Server : IDisposable
{
    public static readonly string Key = "aptr_live_" + new string('b', 32);
    private readonly BenchServer _process;
    private readonly HttpClient _http;

    private Server(BenchServer process, HttpClient http)
    {
        _process = process;
        _http = http;
    }

    /// <summary>Starts the server on <paramref name="storage"/>; <paramref name="settings"/> (environment) are set last, over the bench's.</summary>
    public static async Task<Server> StartAsync(BenchOptions options, Storage storage, bool workerEnabled,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var port = BenchServer.FreePort();
        var start = BenchServer.StartInfo(options.ServerDll, port, storage.DataDirectory, Key);
        var env = start.Environment;
        env["Apertur__Database__Provider"] = storage.Provider;
        if (storage.ConnectionString is not null)
        {
            env["Apertur__Database__ConnectionString"] = storage.ConnectionString;
        }
        env["Apertur__Workers__Enabled"] = workerEnabled ? "true" : "false";
        env["Apertur__Delivery__Concurrency"] = options.Concurrency.ToString(CultureInfo.InvariantCulture);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }
        var process = BenchServer.Start(start, line => Console.Error.WriteLine($"server: {line}"));
        var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseCookies = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromMinutes(1),
        };
        try
        {
            await process.WaitUntilUpAsync(http, TimeSpan.FromSeconds(60));
        }
        catch
        {
            http.Dispose();
            process.Dispose();
            throw;
        }
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return new Server(process, http);
    }

    public async Task<string> CreateSessionAsync(IEnumerable<Guid> destinations)
    {
        var body = JsonSerializer.Serialize(new { destination_ids = destinations.Select(d => d.ToString()), max_images = 1_000_000, expires_in_hours = 24 });
        return await BenchServer.CreateSessionAsync(_http, body);
    }

    /// <summary>A destination created through the management API, as an operator would (secrets protected at rest).</summary>
    public async Task<Guid> CreateDestinationAsync(string type, string name, object config)
    {
        using var project = await _http.GetAsync("/api/v1/project");
        using var projectDoc = JsonDocument.Parse(await project.Content.ReadAsStringAsync());
        var projectId = projectDoc.RootElement.GetProperty("id").GetString();
        var body = JsonSerializer.Serialize(new { type, name, config });
        using var response = await _http.PostAsync($"/api/v1/projects/{projectId}/destinations",
            new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new InvalidOperationException($"create destination answered {(int)response.StatusCode}: {text}");
        }
        using var doc = JsonDocument.Parse(text);
        return Guid.Parse(doc.RootElement.GetProperty("id").GetString()!);
    }

    /// <summary>Uploads one image; its id, or null when the server did not answer 201.</summary>
    public async Task<string?> UploadAsync(string session, byte[] image)
    {
        using var content = new MultipartFormDataContent();
        var part = new ByteArrayContent(image);
        part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        content.Add(part, "file", "photo.jpg");
        using var response = await _http.PostAsync($"/api/v1/upload/{session}/images", content);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Created)
        {
            Console.Error.WriteLine($"upload answered {(int)response.StatusCode}: {text}");
            return null;
        }
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.GetProperty("id").GetString();
    }

    public void Dispose()
    {
        _http.Dispose();
        _process.Dispose();
    }
}

internal sealed record BenchOptions(string ServerDll, int Rate, int Seconds, int Backlog, int Destinations, int Concurrency, string[] Databases,
    string Postgres, string FixturesDirectory, bool UploadsOnly, string[] Kinds, int KindImages, int KindSizeMb, int[] Replicas, string S3)
{
    public static BenchOptions Parse(string[] args)
    {
        string Get(string name, string fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        return new BenchOptions(
            Get("--server-dll", "src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll"),
            Int("--rate", 50),
            Int("--seconds", 20),
            Int("--backlog", 6000),
            Int("--destinations", 4),
            Int("--concurrency", 32),
            Get("--databases", "sqlite,postgres").Split(','),
            Get("--postgres", Environment.GetEnvironmentVariable("APERTUR_TEST_POSTGRES") ?? "Host=127.0.0.1;Port=55432;Username=postgres;Database=postgres"),
            Get("--fixtures", "tests/Apertur.IntegrationTests/Fixtures"),
            args.Contains("--uploads-only"),
            Get("--kinds", "").Split(',', StringSplitOptions.RemoveEmptyEntries),
            Int("--kind-images", 40),
            Int("--kind-size-mb", 5),
            [.. Get("--replicas", "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(n => int.Parse(n, CultureInfo.InvariantCulture))],
            Get("--s3", "http://127.0.0.1:54566"));
    }
}
