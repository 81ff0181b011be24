// Memory after a burst of SSE streams (docs/performance.md "Memory after load: the GC settings"): for each GC configuration
// a fresh Release server (SQLite, local disk, rate limits off) gets N concurrent streams on GET /api/v1/upload/{uuid}/events
// spread over M sessions, one upload per session so events flow; then every stream closes and the server idles. Prints its
// resident memory (VmRSS) at start, at peak, right after the close and after the idle period, its VmHWM, the managed heap
// after the last GC (from /metrics) and the server's CPU time. Each configuration is chosen by the runtime's environment
// variables only (they take precedence over the runtimeconfig.json the build writes), so no rebuild is needed to compare.
// The server's "Idle collection" log lines are echoed on standard error with the seconds since its start.
// Usage: StreamsBench --server-dll <Apertur.Server.dll> [--streams 2000] [--sessions 200] [--idle 30] [--fixtures dir]
//                     [--configs as-built,server,server-datas-off,server-conserve,workstation,workstation-nonconcurrent,
//                      idle-collection-off]
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using Apertur.Bench;

var configurations = new Dictionary<string, Dictionary<string, string>>
{
    ["as-built"] = [],
    ["server"] = new() { ["DOTNET_gcServer"] = "1" },
    ["server-datas-off"] = new() { ["DOTNET_gcServer"] = "1", ["DOTNET_GCDynamicAdaptationMode"] = "0" },
    ["server-conserve"] = new() { ["DOTNET_gcServer"] = "1", ["DOTNET_GCConserveMemory"] = "5" },
    ["workstation"] = new() { ["DOTNET_gcServer"] = "0", ["DOTNET_gcConcurrent"] = "1" },
    ["workstation-nonconcurrent"] = new() { ["DOTNET_gcServer"] = "0", ["DOTNET_gcConcurrent"] = "0" },
    ["workstation-conserve"] = new() { ["DOTNET_gcServer"] = "0", ["DOTNET_GCConserveMemory"] = "5" },
    // The build's GC settings without the server's own collection once quiet (Hosting/IdleCollection.cs).
    ["idle-collection-off"] = new() { ["Apertur__IdleCollection__Enabled"] = "false" },
};
string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
var serverDll = Arg("--server-dll", "src/Apertur.Server/bin/Release/net10.0/Apertur.Server.dll");
var streams = int.Parse(Arg("--streams", "2000"), CultureInfo.InvariantCulture);
var sessionCount = int.Parse(Arg("--sessions", "200"), CultureInfo.InvariantCulture);
var idleSeconds = int.Parse(Arg("--idle", "30"), CultureInfo.InvariantCulture);
var photo = File.ReadAllBytes(Path.Combine(Arg("--fixtures", "tests/Apertur.IntegrationTests/Fixtures"), "small.jpg"));
var names = Arg("--configs", string.Join(',', configurations.Keys)).Split(',', StringSplitOptions.RemoveEmptyEntries);

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}, load average {LoadAverage()}");
Console.WriteLine($"{streams} streams over {sessionCount} sessions, idle {idleSeconds}s after the close");
Console.WriteLine();
Console.WriteLine("| GC configuration | RSS start MB | RSS peak MB | RSS after close MB | RSS after idle MB | VmHWM MB | heap start → peak → idle MB | server CPU s | streams with events |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
foreach (var name in names)
{
    var r = await RunAsync(name, configurations[name]);
    Console.WriteLine($"| {name} | {r.Start:F0} | {r.Peak:F0} | {r.AfterClose:F0} | {r.AfterIdle:F0} | {r.Hwm:F0} | {r.HeapStart:F0} → {r.HeapPeak:F0} → {r.HeapIdle:F0} | {r.CpuSeconds:F1} | {r.StreamsWithEvents}/{streams} |");
}
Console.WriteLine();
Console.WriteLine($"load average at the end: {LoadAverage()}");
return 0;

async Task<Result> RunAsync(string name, Dictionary<string, string> gc)
{
    var port = BenchServer.FreePort();
    var dataDirectory = Path.Combine(Path.GetTempPath(), "apertur-bench", Guid.NewGuid().ToString("N"));
    var key = "aptr_live_" + new string('s', 32);
    var start = BenchServer.StartInfo(serverDll, port, dataDirectory, key);
    start.Environment["Apertur__Metrics__Enabled"] = "true";
    foreach (var (variable, value) in gc)
    {
        start.Environment[variable] = value;
    }
    var started = Stopwatch.StartNew();
    var server = BenchServer.Start(start, line => Console.Error.WriteLine($"{name} [{started.Elapsed.TotalSeconds:F0} s]: {line}"));
    try
    {
        using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
        await server.WaitUntilUpAsync(api, TimeSpan.FromSeconds(60));
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var sessions = new string[sessionCount];
        for (var i = 0; i < sessionCount; i++)
        {
            sessions[i] = await BenchServer.CreateSessionAsync(api, """{"max_images":10,"expires_in_hours":24}""");
        }
        await Task.Delay(TimeSpan.FromSeconds(3));
        var rssStart = server.StatusMb("VmRSS");
        var heapStart = await HeapMbAsync(api);
        var cpuStart = server.CpuSeconds();

        // The streams: each on a connection of its own, read until the bench closes it; counts the events it saw.
        using var streamClient = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue, UseCookies = false })
        {
            BaseAddress = api.BaseAddress, Timeout = Timeout.InfiniteTimeSpan,
        };
        using var close = new CancellationTokenSource();
        var events = new int[streams];
        var opened = 0;
        using var opening = new SemaphoreSlim(100);
        var readers = Enumerable.Range(0, streams).Select(async i =>
        {
            await opening.WaitAsync();
            try
            {
                using var response = await streamClient.GetAsync($"/api/v1/upload/{sessions[i % sessionCount]}/events",
                    HttpCompletionOption.ResponseHeadersRead, close.Token);
                response.EnsureSuccessStatusCode();
                using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(close.Token));
                Interlocked.Increment(ref opened);
                opening.Release();
                while (await reader.ReadLineAsync(close.Token) is { } line)
                {
                    if (line.StartsWith("event:", StringComparison.Ordinal))
                    {
                        Interlocked.Increment(ref events[i]);
                    }
                }
            }
            catch (OperationCanceledException) when (close.IsCancellationRequested)
            {
            }
        }).ToList();
        for (var wait = Stopwatch.StartNew(); Volatile.Read(ref opened) < streams && wait.Elapsed < TimeSpan.FromMinutes(2);)
        {
            await Task.Delay(200);
        }

        // One upload per session (16 at a time): every stream of that session gets the image's events.
        using var uploading = new SemaphoreSlim(16);
        await Task.WhenAll(sessions.Select(async uuid =>
        {
            await uploading.WaitAsync();
            try
            {
                using var content = new MultipartFormDataContent();
                var part = new ByteArrayContent(photo);
                part.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
                content.Add(part, "file", "photo.jpg");
                using var response = await api.PostAsync($"/api/v1/upload/{uuid}/images", content);
                response.EnsureSuccessStatusCode();
            }
            finally
            {
                uploading.Release();
            }
        }));
        for (var wait = Stopwatch.StartNew(); events.Count(e => e > 1) < streams && wait.Elapsed < TimeSpan.FromSeconds(60);)
        {
            await Task.Delay(200);
        }
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rssPeak = server.StatusMb("VmRSS");
        var heapPeak = await HeapMbAsync(api);
        var withEvents = events.Count(e => e > 1);

        // Close every stream, then let the server idle, sampling its resident memory every 3 s.
        await close.CancelAsync();
        await Task.WhenAll(readers);
        Console.Error.WriteLine($"{name} [{started.Elapsed.TotalSeconds:F0} s]: every stream closed");
        await Task.Delay(TimeSpan.FromSeconds(1));
        var rssAfterClose = server.StatusMb("VmRSS");
        var samples = new List<double>();
        for (var t = 0; t < idleSeconds; t += 3)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            samples.Add(server.StatusMb("VmRSS"));
        }
        Console.Error.WriteLine($"{name}: idle RSS samples {string.Join(' ', samples.Select(s => s.ToString("F0", CultureInfo.InvariantCulture)))}");
        return new Result(rssStart, rssPeak, rssAfterClose, samples.LastOrDefault(rssAfterClose), server.StatusMb("VmHWM"),
            heapStart, heapPeak, await HeapMbAsync(api), server.CpuSeconds() - cpuStart, withEvents);
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
    }
}

// The managed heap after the last GC, all generations: the runtime's dotnet.gc.last_collection.heap.size on /metrics.
static async Task<double> HeapMbAsync(HttpClient api)
{
    var text = await api.GetStringAsync("/metrics");
    return text.Split('\n').Where(l => l.StartsWith("dotnet_gc_last_collection_heap_size_bytes{", StringComparison.Ordinal))
        .Sum(l => double.Parse(l.Split(' ')[1], CultureInfo.InvariantCulture)) / (1024 * 1024);
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

internal sealed record Result(double Start, double Peak, double AfterClose, double AfterIdle, double Hwm, double HeapStart, double HeapPeak,
    double HeapIdle, double CpuSeconds, int StreamsWithEvents);
