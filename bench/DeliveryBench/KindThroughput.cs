using System.Diagnostics;
using System.Globalization;
using Apertur.Destinations.AzureBlob;
using Azure.Storage;
using Azure.Storage.Blobs;
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
        Console.WriteLine("| kind | images | MB | seconds | MB/s | attempt p50 ms | attempts retried | failed |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        rows.ForEach(Console.WriteLine);
        return failed ? 1 : 0;
    }

    private static async Task<(string Row, bool Ok)> RunAsync(string kind, BenchOptions options, byte[] image, Receiver receiver)
    {
        await using var storage = await Storage.CreateAsync("sqlite", options);
        var folder = "apertur-bench-" + Guid.NewGuid().ToString("N")[..12];
        try
        {
            return await RunAsync(kind, options, image, receiver, storage, folder);
        }
        finally
        {
            await BenchDestinations.CleanUpAsync(kind, folder);
        }
    }

    private static async Task<(string Row, bool Ok)> RunAsync(string kind, BenchOptions options, byte[] image, Receiver receiver, Storage storage,
        string folder)
    {
        using (var loader = await Server.StartAsync(options, storage, workerEnabled: false))
        {
            var (type, config) = await BenchDestinations.ConfigAsync(kind, receiver, folder);
            var destination = await loader.CreateDestinationAsync(type, $"bench {kind}", config);
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
        var (unsuccessful, firstError) = await UnsuccessfulAttemptsAsync(storage);
        Console.WriteLine($"{kind}: {counts.Sent} sent, {counts.Failed} failed, {megabytes:F0} MB in {span.TotalSeconds:F2} s = {rate:F1} MB/s" +
            (unsuccessful > 0 ? $"; {unsuccessful} attempts to retry, e.g. {firstError}" : ""));
        var ok = counts.Sent == options.KindImages;
        return ($"| {kind} | {counts.Sent} | {megabytes:F0} | {span.TotalSeconds:F2} | {rate:F1} | {p50:F0} | {unsuccessful} | {counts.Failed} |", ok);
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

    /// <summary>Attempts that did not deliver (each waits for the retry schedule), with the first error seen.</summary>
    private static async Task<(int Count, string? FirstError)> UnsuccessfulAttemptsAsync(Storage storage)
    {
        await using var connection = Open(storage);
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = "SELECT count(*), min(error) FROM delivery_attempts WHERE outcome <> 'sent'";
        await using var reader = await cmd.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt32(0), reader.IsDBNull(1) ? null : reader.GetString(1));
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

    // The file servers' test user (scripts/services.sh sftp ftp webdav).
    private static string User => Env("APERTUR_FILES_USER", "apertur-test");
    private static string Password => Env("APERTUR_FILES_PASSWORD", "apertur-test-password");

    /// <summary>The destination type and config for a benchmark kind; <c>ftps</c> is the ftp type over explicit TLS.</summary>
    public static async Task<(string Type, object Config)> ConfigAsync(string kind, Receiver receiver, string folder) => kind switch
    {
        "webhook" => ("webhook", new { url = receiver.Url("/kind").ToString(), format = "multipart" }),
        "s3" => ("s3", await S3Async()),
        "azure_blob" => ("azure_blob", await AzureBlobAsync()),
        "sftp" => ("sftp", new { host = "127.0.0.1", port = int.Parse(Env("APERTUR_SFTP_PORT", "52222"), CultureInfo.InvariantCulture), username = User,
            password = Password, remote_dir = folder }),
        "ftp" => ("ftp", new { host = "127.0.0.1", port = int.Parse(Env("APERTUR_FTP_PORT", "52121"), CultureInfo.InvariantCulture), username = User,
            password = Password, tls = "none", remote_dir = folder }),
        "ftps" => ("ftp", new { host = "127.0.0.1", port = int.Parse(Env("APERTUR_FTPS_PORT", "52122"), CultureInfo.InvariantCulture), username = User,
            password = Password, tls = "explicit", tls_verify = false, remote_dir = folder }),
        "webdav" => ("webdav", new { url = $"http://127.0.0.1:{Env("APERTUR_WEBDAV_PORT", "58080")}/dav/", username = User, password = Password,
            remote_dir = folder }),
        _ => throw new ArgumentException($"no benchmark configuration for destination kind '{kind}'"),
    };

    /// <summary>Removes what a file-server run wrote (sftp/ftp land in the test user's home; webdav is deleted over HTTP).</summary>
    public static async Task CleanUpAsync(string kind, string folder)
    {
        if (kind is "sftp" or "ftp" or "ftps")
        {
            var local = Path.Combine(Env("APERTUR_FILES_HOME", $"/home/{User}"), folder);
            if (Directory.Exists(local))
            {
                Directory.Delete(local, recursive: true);
            }
        }
        else if (kind == "webdav")
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, $"http://127.0.0.1:{Env("APERTUR_WEBDAV_PORT", "58080")}/dav/{folder}/");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{User}:{Password}")));
            using var _ = await Http.SendAsync(request);
        }
    }

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
        await new BlobContainerClient(new Uri($"{endpoint}/{container}"),
            new StorageSharedKeyCredential(AzureBlobConfig.DevelopmentAccount, AzureBlobConfig.DevelopmentKey)).CreateAsync();
        return new
        {
            account_name = AzureBlobConfig.DevelopmentAccount, container_name = container,
            account_key = AzureBlobConfig.DevelopmentKey, endpoint,
        };
    }

    internal static string Env(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
