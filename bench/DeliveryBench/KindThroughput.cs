using System.Diagnostics;
using Apertur.Destinations.AzureBlob;
using Microsoft.Data.Sqlite;

/// <summary>
/// Delivery throughput per destination kind: a backlog of large images is queued with the worker off, then delivered by
/// the real server to the kind's real server on loopback. The figure is bytes delivered over the span from the first
/// attempt's start to the last attempt's end, read from the server's own attempt log.
/// </summary>
internal static class KindThroughput
{
    public static async Task<int> RunAllAsync(BenchOptions options, byte[] smallJpeg, Receiver receiver)
    {
        var image = Padded(smallJpeg, options.KindSizeMb);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
        Console.WriteLine($"per kind: {options.KindImages} images of {options.KindSizeMb} MB, SQLite, worker concurrency {options.Concurrency}");
        Console.WriteLine();
        var rows = new List<string>();
        var failed = false;
        foreach (var kind in options.Kinds)
        {
            var (row, ok) = await RunAsync(kind, options, image, receiver);
            rows.Add(row);
            failed |= !ok;
        }
        Console.WriteLine();
        Console.WriteLine("| kind | images | MB | seconds | MB/s | attempt p50 ms | failed |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        return failed ? 1 : 0;
    }

    private static async Task<(string Row, bool Ok)> RunAsync(string kind, BenchOptions options, byte[] image, Receiver receiver)
    {
        await using var storage = await Storage.CreateAsync("sqlite", options);
        using (var loader = await Server.StartAsync(options, storage, workerEnabled: false))
        {
            var config = await BenchDestinations.ConfigAsync(kind, receiver);
            var destination = await loader.CreateDestinationAsync(kind, $"bench {kind}", config);
            var session = await loader.CreateSessionAsync([destination]);
            for (var i = 0; i < options.KindImages; i++)
            {
                if (await loader.UploadAsync(session, image) is null)
                {
                    throw new InvalidOperationException("an upload of the backlog failed");
                }
            }
        }
        using var server = await Server.StartAsync(options, storage, workerEnabled: true);
        var deadline = Stopwatch.StartNew();
        (int Sent, int Failed) counts;
        while ((counts = await CountAsync(storage)).Sent + counts.Failed < options.KindImages && deadline.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(100);
        }
        var (span, p50) = await AttemptSpanAsync(storage);
        var megabytes = counts.Sent * (double)image.Length / (1024 * 1024);
        var rate = span.TotalSeconds > 0 ? megabytes / span.TotalSeconds : 0;
        Console.WriteLine($"{kind}: {counts.Sent} sent, {counts.Failed} failed, {megabytes:F0} MB in {span.TotalSeconds:F2} s = {rate:F1} MB/s");
        var ok = counts.Sent == options.KindImages;
        return ($"| {kind} | {counts.Sent} | {megabytes:F0} | {span.TotalSeconds:F2} | {rate:F1} | {p50:F0} | {counts.Failed} |", ok);
    }

    private static byte[] Padded(byte[] jpeg, int megabytes)
    {
        // A real JPEG followed by random bytes (incompressible), like the upload bench's large payloads.
        var padded = new byte[megabytes * 1024 * 1024];
        Random.Shared.NextBytes(padded);
        jpeg.CopyTo(padded, 0);
        return padded;
    }

    private static SqliteConnection Open(Storage storage) =>
        new($"Data Source={Path.Combine(storage.DataDirectory, "apertur.db")};Mode=ReadOnly;Default Timeout=30");

    private static async Task<(int Sent, int Failed)> CountAsync(Storage storage)
    {
        await using var connection = Open(storage);
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT coalesce(sum(status = 'sent'), 0), coalesce(sum(status = 'failed'), 0) FROM deliveries";
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt32(0), reader.GetInt32(1));
    }

    private static async Task<(TimeSpan Span, double P50)> AttemptSpanAsync(Storage storage)
    {
        await using var connection = Open(storage);
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT started_at, duration_ms FROM delivery_attempts WHERE outcome = 'sent'";
        var attempts = new List<(long Start, long Duration)>();
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                attempts.Add((reader.GetInt64(0), reader.GetInt64(1)));
            }
        }
        if (attempts.Count == 0)
        {
            return (TimeSpan.Zero, double.NaN);
        }
        var span = TimeSpan.FromMilliseconds(attempts.Max(a => a.Start + a.Duration) - attempts.Min(a => a.Start));
        var durations = attempts.Select(a => (double)a.Duration).Order().ToArray();
        return (span, durations[(durations.Length - 1) / 2]);
    }
}

/// <summary>The destination config of each kind, pointing at the servers scripts/services.sh starts on loopback.</summary>
internal static class BenchDestinations
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public static async Task<object> ConfigAsync(string kind, Receiver receiver) => kind switch
    {
        "webhook" => new { url = receiver.Url("/kind").ToString(), format = "multipart" },
        "s3" => await S3Async(),
        "azure_blob" => await AzureBlobAsync(),
        _ => throw new ArgumentException($"no benchmark configuration for destination kind '{kind}'"),
    };

    // fauxqs (scripts/services.sh fauxqs): any credentials, path-style, a fresh bucket.
    private static async Task<object> S3Async()
    {
        var endpoint = Env("APERTUR_S3_ENDPOINT", "http://127.0.0.1:54566").TrimEnd('/');
        var bucket = "apertur-bench-" + Guid.NewGuid().ToString("N")[..12];
        using var created = await Http.PutAsync($"{endpoint}/{bucket}", null);
        created.EnsureSuccessStatusCode();
        return new
        {
            bucket, region = "us-east-1", access_key_id = "AKIAAPERTURBENCH", secret_access_key = "bench-secret",
            endpoint, force_path_style = true,
        };
    }

    // Azurite (scripts/services.sh azurite): the well-known development account, a fresh container.
    private static async Task<object> AzureBlobAsync()
    {
        var endpoint = Env("APERTUR_AZURITE_ENDPOINT", "http://127.0.0.1:50000/devstoreaccount1").TrimEnd('/');
        var container = "apertur-bench-" + Guid.NewGuid().ToString("N")[..12];
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{endpoint}/{container}?restype=container");
        SharedKeySigner.Sign(request, AzureConnectionString.DevelopmentAccount, Convert.FromBase64String(AzureConnectionString.DevelopmentKey),
            TimeProvider.System.GetUtcNow());
        using var created = await Http.SendAsync(request);
        created.EnsureSuccessStatusCode();
        return new
        {
            account_name = AzureConnectionString.DevelopmentAccount, container_name = container,
            account_key = AzureConnectionString.DevelopmentKey, endpoint,
        };
    }

    internal static string Env(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
