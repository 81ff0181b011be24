using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Microsoft.Data.Sqlite;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// The server run as docs/deploy.md tells operators to: the published build (scripts/test.sh publishes it
/// self-contained first) as a process of its own, its command line, the phone-on-the-network start, HTTPS from
/// certificate files, and a SIGTERM in the middle of uploads.
/// </summary>
public sealed partial class DeploymentTests
{
    [Fact]
    public async Task Help_PrintsTheCommandsAndSettings_AndDoesNotStart()
    {
        await using var server = ServerProcess.Start(["--help"]);

        (await server.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(0);

        var output = server.Output;
        output.ShouldContain("keys create --project <name>");
        output.ShouldContain("backup <directory>");
        output.ShouldContain("restore <directory>");
        output.ShouldContain("--lan");
        output.ShouldContain("Apertur:PublicBaseUrl");
        output.ShouldContain("Apertur:ReverseProxy:TrustedProxies");
        output.ShouldNotContain("Now listening");
        Directory.EnumerateFileSystemEntries(server.DataDirectory).ShouldBeEmpty();
    }

    [Theory]
    [InlineData("Apertur__ReverseProxy__TrustedProxies__0", "nginx.local", "Apertur:ReverseProxy:TrustedProxies: 'nginx.local'")]
    [InlineData("Apertur__Polling__DeliveryStatusHold", "soon", "'soon' at 'Apertur:Polling:DeliveryStatusHold'")]
    [InlineData("Apertur__Database__Provider", "Oracle", "'Oracle' at 'Apertur:Database:Provider'")]
    public async Task ABadSetting_StopsTheStartInOneLine_BeforeAnythingIsWritten(string name, string value, string named)
    {
        await using var server = ServerProcess.Start(["--urls", "http://127.0.0.1:0"], new Dictionary<string, string> { [name] = value });

        (await server.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(1, server.Output);

        var lines = server.Lines.Where(l => l.Trim().Length > 0).ToList();
        lines.Count.ShouldBe(1, server.Output);
        lines[0].ShouldStartWith("Apertur could not start:");
        lines[0].ShouldContain(named);
        // No first start happened: no database, no master key, no keys printed.
        Directory.EnumerateFileSystemEntries(server.DataDirectory).ShouldBeEmpty();
    }

    [Fact]
    public async Task Lan_PrintsThisMachinesNetworkAddress_AndTheQrCodeDecodesToALinkThere()
    {
        var port = Loopback.FreePort();
        await using var server = ServerProcess.Start(["--lan", "--urls", $"http://127.0.0.1:{port}"]);

        var origin = (await server.WaitForLineAsync(NetworkLine())).Groups["origin"].Value;
        var key = (await server.WaitForLineAsync(LiveKey())).Groups["key"].Value;

        var lanHost = new Uri(origin).Host;
        IPAddress.IsLoopback(IPAddress.Parse(lanHost)).ShouldBeFalse(origin);
        new Uri(origin).Port.ShouldBe(port);
        // Listening on every interface: the network address answers, as it would to a phone.
        using var phone = new HttpClient { BaseAddress = new Uri(origin) };
        (await phone.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var business = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        business.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var session = await business.CreateSessionAsync();
        var uploadUrl = session.GetProperty("upload_url").GetString()!;
        uploadUrl.ShouldBe($"{origin}/u/{session.SessionId()}");
        var qr = await business.GetByteArrayAsync(session.GetProperty("qr_url").GetString());
        (await Zbar.DecodeAsync(qr)).ShouldBe(uploadUrl);
        (await phone.GetAsync(new Uri(uploadUrl).PathAndQuery)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task FirstStart_TheBoxShowsTheCommandThatCreatesMoreKeysForThisVeryBinary()
    {
        await using var server = ServerProcess.Start(["--urls", "http://127.0.0.1:0"]);
        await server.ListeningAsync();

        var command = (await server.WaitForLineAsync(KeysCommandLine())).Groups["command"].Value;

        if (Environment.GetEnvironmentVariable("APERTUR_PUBLISHED_SERVER") is { Length: > 0 } published)
        {
            command.ShouldBe($"{published} keys create --project <name> [--test]");
        }
        else
        {
            command.ShouldBe($"dotnet {Path.Combine(AppContext.BaseDirectory, "Apertur.Server.dll")} keys create --project <name> [--test]");
        }
    }

    [Fact]
    public async Task Https_FromPemAndFromPfxSettings_ServesTls()
    {
        using var certificate = Loopback.Certificate();
        var directory = Directory.CreateTempSubdirectory("apertur-tls-").FullName;
        try
        {
            var pem = Path.Combine(directory, "fullchain.pem");
            var key = Path.Combine(directory, "privkey.pem");
            var pfx = Path.Combine(directory, "site.pfx");
            await File.WriteAllTextAsync(pem, certificate.ExportCertificatePem());
            using (var rsa = certificate.GetRSAPrivateKey()!)
            {
                await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem());
            }
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "pfx-password"));

            foreach (var settings in new[]
            {
                new Dictionary<string, string> { ["Kestrel__Endpoints__Https__Certificate__Path"] = pem, ["Kestrel__Endpoints__Https__Certificate__KeyPath"] = key },
                new Dictionary<string, string> { ["Kestrel__Endpoints__Https__Certificate__Path"] = pfx, ["Kestrel__Endpoints__Https__Certificate__Password"] = "pfx-password" },
            })
            {
                var port = Loopback.FreePort();
                settings["Kestrel__Endpoints__Https__Url"] = $"https://127.0.0.1:{port}";
                await using var server = ServerProcess.Start([], settings);
                (await server.ListeningAsync()).ShouldBe(new Uri($"https://127.0.0.1:{port}"));

                using var handler = new SocketsHttpHandler
                {
                    SslOptions = new SslClientAuthenticationOptions
                    {
                        RemoteCertificateValidationCallback = (_, presented, _, _) => presented?.GetCertHashString() == certificate.GetCertHashString(),
                    },
                };
                using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
                using var health = await client.GetAsync("/healthz");
                health.StatusCode.ShouldBe(HttpStatusCode.OK, server.Output);
                var key2 = (await server.WaitForLineAsync(LiveKey())).Groups["key"].Value;
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key2);
                (await client.CreateSessionAsync()).GetProperty("upload_url").GetString().ShouldStartWith($"https://127.0.0.1:{port}/u/");
            }
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Sigterm_DuringUploads_EveryAnsweredImageIsStoredWhole_AndNothingIsHalfWritten()
    {
        await using var server = ServerProcess.Start(["--urls", "http://127.0.0.1:0"]);
        var address = await server.ListeningAsync();
        var key = (await server.WaitForLineAsync(LiveKey())).Groups["key"].Value;
        using var business = new HttpClient { BaseAddress = address };
        business.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var uuid = (await business.CreateSessionAsync("""{"max_images":50}""")).SessionId();

        // Six phones on a slow network, each halfway through a 1.5 MB photo when the server is told to stop.
        var photo = Fixture.Bytes("phone-photo.jpg");
        var uploads = Enumerable.Range(0, 6).Select(i =>
        {
            var padding = new byte[1_500_000 - photo.Length];
            new Random(i).NextBytes(padding);
            return new SlowUpload([.. photo, .. padding]);
        }).ToList();
        using var phones = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(90) };
        var answers = uploads.Select(async u =>
        {
            var form = new MultipartFormDataContent();
            u.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
            form.Add(u, "file", "photo.jpg");
            try
            {
                using var response = await phones.UploadAsync(uuid, form);
                return (StatusCode: response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }
            catch (HttpRequestException e)
            {
                return (StatusCode: (HttpStatusCode)0, Body: e.Message);
            }
        }).ToList();
        await Task.WhenAll(uploads.Select(u => u.HalfSent));

        var exit = await server.TerminateAsync();

        var results = await Task.WhenAll(answers);
        exit.ShouldBe(0, server.Output);
        // Requests already in flight are let finish: all six were answered 201.
        results.ShouldAllBe(r => r.StatusCode == HttpStatusCode.Created, string.Join('\n', results.Select(r => $"{r.StatusCode} {r.Body}")));
        var answered = results.Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("id").GetString()!).ToHashSet();

        var rows = new Dictionary<string, long>();
        await using (var db = new SqliteConnection($"Data Source={Path.Combine(server.DataDirectory, "apertur.db")};Pooling=false"))
        {
            await db.OpenAsync();
            await using var cmd = db.CreateCommand();
            cmd.CommandText = "SELECT id, size_bytes FROM images";
            await using var reader = await cmd.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows[reader.GetString(0).ToLowerInvariant()] = reader.GetInt64(1);
            }
        }
        rows.Keys.ToHashSet().SetEquals(answered.Select(a => a.ToLowerInvariant())).ShouldBeTrue(string.Join(", ", rows.Keys));
        var files = Directory.EnumerateFiles(Path.Combine(server.DataDirectory, "images"), "*", SearchOption.AllDirectories).ToList();
        files.Count.ShouldBe(answered.Count);
        foreach (var file in files)
        {
            new FileInfo(file).Length.ShouldBe(1_500_000);
        }
        Directory.EnumerateFiles(Path.Combine(server.DataDirectory, "tmp")).ShouldBeEmpty();
        server.Output.ShouldContain("Application is shutting down");
        server.Output.ShouldNotContain("   at ");
        // Its appsettings.json was read although started from another folder: EF Core's statements are not logged.
        server.Output.ShouldNotContain("Executed DbCommand");
    }

    /// <summary>A request body sent in 64 KB pieces 25 ms apart; <see cref="HalfSent"/> completes at the middle.</summary>
    private sealed class SlowUpload(byte[] bytes) : HttpContent
    {
        private readonly TaskCompletionSource _halfSent = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task HalfSent => _halfSent.Task;

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            const int piece = 64 * 1024;
            for (var offset = 0; offset < bytes.Length; offset += piece)
            {
                await stream.WriteAsync(bytes.AsMemory(offset, Math.Min(piece, bytes.Length - offset)));
                await stream.FlushAsync();
                if (offset >= bytes.Length / 2)
                {
                    _halfSent.TrySetResult();
                }
                await Task.Delay(25);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = bytes.Length;
            return true;
        }
    }

    [GeneratedRegex(@"Apertur on this network: (?<origin>http://\S+)/dashboard")]
    private static partial Regex NetworkLine();

    [GeneratedRegex(@"^\s*live\s+(?<key>aptr_live_\w+)")]
    private static partial Regex LiveKey();

    [GeneratedRegex(@"^\s+(?<command>.+ keys create --project <name> \[--test\])\s*$")]
    private static partial Regex KeysCommandLine();
}
