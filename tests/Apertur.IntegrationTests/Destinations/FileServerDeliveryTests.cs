using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Shouldly;

namespace Apertur.IntegrationTests.Destinations;

/// <summary>
/// sftp, ftp and webdav end to end: a destination made through the API, a session, the sample photos uploaded through the
/// public endpoint, the worker delivering them to the real server on loopback, and every file read back byte for byte at its
/// templated path with a client of the test's own (the test user's home on disk, or plain HTTP GETs). The database plays no
/// part in what is tested here, so these run on SQLite.
/// </summary>
public sealed class FileServerDeliveryTests : IAsyncLifetime
{
    private static readonly string[] Photos = ["phone-photo.jpg", "photo.webp", "photo.heic", "small.jpg"];
    private static readonly string[] Extensions = ["jpg", "webp", "heic", "jpg"];

    private readonly (string Remote, string Local) _folder = LoopbackFiles.NewFolder();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        LoopbackFiles.DeleteLocal(_folder.Local);
        await LoopbackFiles.DeleteWebDavAsync(_folder.Remote);
    }

    public static TheoryData<string> Kinds => ["sftp", "ftp", "webdav"];

    /// <summary>A working config of the kind, writing under this test's folder.</summary>
    private async Task<Dictionary<string, object?>> ConfigAsync(string kind)
    {
        return kind switch
        {
            "sftp" => new()
            {
                ["host"] = "127.0.0.1", ["port"] = LoopbackFiles.SftpPort, ["username"] = LoopbackFiles.User,
                ["private_key"] = LoopbackFiles.Key(LoopbackFiles.Ed25519WithPassphrase), ["private_key_passphrase"] = LoopbackFiles.KeyPassphrase,
                ["host_key_fingerprint"] = LoopbackFiles.SftpHostKeyFingerprint, ["remote_dir"] = _folder.Remote,
            },
            "ftp" => new()
            {
                ["host"] = "127.0.0.1", ["port"] = LoopbackFiles.FtpsExplicitPort, ["username"] = LoopbackFiles.User, ["password"] = LoopbackFiles.Password,
                ["tls"] = "explicit", ["tls_certificate"] = await LoopbackFiles.FtpsCertificatePemAsync(@implicit: false), ["remote_dir"] = _folder.Remote,
            },
            _ => new()
            {
                ["url"] = LoopbackFiles.WebDavRoot.AbsoluteUri, ["username"] = LoopbackFiles.User, ["password"] = LoopbackFiles.Password,
                ["remote_dir"] = _folder.Remote,
            },
        };
    }

    private static async Task<JsonElement> CreateAsync(TestApp app, string kind, Dictionary<string, object?> config) =>
        await app.Client.CreateDestinationAsync(JsonSerializer.Serialize(new { type = kind, name = $"Files over {kind}", config }));

    private async Task<byte[]> ReadBackAsync(string kind, string relative)
    {
        if (kind == "webdav")
        {
            using var client = LoopbackFiles.WebDavClient();
            return await client.GetByteArrayAsync($"{_folder.Remote}/{relative}");
        }
        return await File.ReadAllBytesAsync(Path.Combine(_folder.Local, relative));
    }

    /// <summary>Waits until the image's delivery is sent; a failed or retried attempt fails the test at once, with its error.</summary>
    private static async Task<Delivery> SentAsync(TestApp app, Guid imageId)
    {
        Delivery? delivery = null;
        await Wait.UntilAsync(async () =>
        {
            delivery = await DeliveryKit.DeliveryOfAsync(app, imageId);
            if (delivery.Status is DeliveryStatus.Failed or DeliveryStatus.Retrying)
            {
                throw new ShouldAssertException($"delivery of {imageId} is {delivery.Status} after {delivery.Attempts} attempts: {delivery.LastError}");
            }
            return delivery.Status == DeliveryStatus.Sent;
        }, TimeSpan.FromSeconds(60), $"delivery of image {imageId}");
        return delivery!;
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Upload_SamplePhotos_DeliveredAndReadBackByteForByteAtTheTemplatedPath(string kind)
    {
        await using var app = await DeliveryKit.StartAsync(Databases.Sqlite);
        var destination = await CreateAsync(app, kind, await ConfigAsync(kind));
        var sessionId = await DeliveryKit.SessionAsync(app, Guid.Parse(destination.GetProperty("id").GetString()!));

        var images = new List<Guid>();
        foreach (var photo in Photos)
        {
            images.Add(await DeliveryKit.UploadAsync(app, sessionId, photo));
        }

        for (var i = 0; i < Photos.Length; i++)
        {
            var delivery = await SentAsync(app, images[i]);
            var relative = $"{sessionId}/{i}.{Extensions[i]}";
            (await ReadBackAsync(kind, relative)).ShouldBe(Fixture.Bytes(Photos[i]), $"{Photos[i]} at {relative}");
            delivery.RemoteRef!.ShouldEndWith($"{_folder.Remote}/{relative}");
        }
        if (kind != "webdav")
        {
            LoopbackFiles.FilesUnder(_folder.Local).ShouldBe(Photos.Select((_, i) => $"{sessionId}/{i}.{Extensions[i]}").Order(StringComparer.Ordinal).ToArray());
        }
    }

    [Theory, MemberData(nameof(Kinds))]
    public async Task Redelivery_AfterALostLease_WritesTheSameRemoteFileAgain(string kind)
    {
        await using var app = await DeliveryKit.StartAsync(Databases.Sqlite);
        var destination = await CreateAsync(app, kind, await ConfigAsync(kind));
        var sessionId = await DeliveryKit.SessionAsync(app, Guid.Parse(destination.GetProperty("id").GetString()!));
        var imageId = await DeliveryKit.UploadAsync(app, sessionId, "photo.webp");
        var first = await SentAsync(app, imageId);

        // As if the worker had died after writing the file but before recording it: the row is claimed again.
        await Manage.DbAsync(app, db => db.Deliveries.Where(d => d.Id == first.Id).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Status, DeliveryStatus.Sending)
            .SetProperty(d => d.LeaseToken, Guid.NewGuid())
            .SetProperty(d => d.LeaseExpiresAt, DateTimeOffset.UnixEpoch)));
        DeliveryKit.Nudge(app);
        var second = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 2, TimeSpan.FromSeconds(60));

        second.Status.ShouldBe(DeliveryStatus.Sent);
        second.RemoteRef.ShouldBe(first.RemoteRef);
        (await ReadBackAsync(kind, $"{sessionId}/0.webp")).ShouldBe(Fixture.Bytes("photo.webp"));
        if (kind != "webdav")
        {
            LoopbackFiles.FilesUnder(_folder.Local).ShouldBe([$"{sessionId}/0.webp"]);
        }
    }

    public static TheoryData<string, string> TestCases()
    {
        var cases = new TheoryData<string, string>();
        foreach (var kind in new[] { "sftp", "ftp", "webdav" })
        {
            foreach (var situation in new[] { "good", "wrong-credentials", "missing-folder", "unreachable" })
            {
                cases.Add(kind, situation);
            }
        }
        return cases;
    }

    [Theory, MemberData(nameof(TestCases))]
    public async Task TestEndpoint_AnswersSomethingAPersonCanActOn(string kind, string situation)
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite);
        var config = await ConfigAsync(kind);
        var port = LoopbackFiles.ClosedPort();
        switch (situation)
        {
            case "wrong-credentials" when kind == "sftp":
                config["private_key"] = LoopbackFiles.Key(LoopbackFiles.Stranger);
                config.Remove("private_key_passphrase");
                break;
            case "wrong-credentials":
                config["password"] = "not-the-password";
                break;
            case "missing-folder" when kind == "webdav":
                config["url"] = new Uri(LoopbackFiles.WebDavRoot, "no-such-root/").AbsoluteUri;
                break;
            case "missing-folder":
                config["remote_dir"] = "/apertur-no-such-root/photos";
                break;
            case "unreachable" when kind == "webdav":
                config["url"] = $"http://127.0.0.1:{port}/dav/";
                break;
            case "unreachable":
                config["port"] = port;
                break;
        }
        var destination = await CreateAsync(app, kind, config);
        var projectId = await app.Client.ProjectIdAsync();

        using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/destinations/{destination.GetProperty("id").GetString()}/test", null);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var result = await response.ReadJsonAsync();
        var message = result.GetProperty("message").GetString()!;
        result.GetProperty("success").GetBoolean().ShouldBe(situation == "good", message);
        switch (situation)
        {
            case "good":
                message.ShouldContain("wrote a test file");
                result.TryGetProperty("error", out _).ShouldBeFalse();
                break;
            case "wrong-credentials":
                message.ShouldStartWith("Login failed");
                break;
            case "missing-folder":
                message.ShouldContain(kind == "webdav" ? "no-such-root/ does not exist" : "/apertur-no-such-root/photos");
                break;
            case "unreachable":
                message.ShouldStartWith($"Could not connect to 127.0.0.1:{port}");
                break;
        }
        if (situation != "good")
        {
            result.GetProperty("error").GetString().ShouldBe(message);
            message.ShouldNotContain(LoopbackFiles.Password);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_PlainFtp_AnswersWithAClearTextWarningAndMasksThePassword(string database)
    {
        await using var app = await TestApp.StartAsync(database);

        var plain = await app.Client.CreateDestinationAsync("""
            {"type":"ftp","name":"Old NAS","config":{"host":"nas.example.com","user":"scanner","password":"s3cret","tls":"none"}}
            """);
        var secure = await app.Client.CreateDestinationAsync("""
            {"type":"ftp","name":"FTPS","config":{"host":"nas.example.com","user":"scanner","password":"s3cret"}}
            """);

        plain.GetProperty("warnings").EnumerateArray().Single().GetString()!.ShouldStartWith("Plain FTP (tls: none) sends the username, the password");
        plain.GetProperty("config").GetProperty("password").GetString().ShouldBe("********");
        secure.TryGetProperty("warnings", out _).ShouldBeFalse();
        var projectId = await app.Client.ProjectIdAsync();
        using var list = await app.Client.GetAsync($"/api/v1/projects/{projectId}/destinations");
        var listed = (await list.ReadJsonAsync()).EnumerateArray().Single(d => d.GetProperty("name").GetString() == "Old NAS");
        listed.GetProperty("warnings").GetArrayLength().ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_InvalidFileServerConfigs_Answer400InWords(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var projectId = await app.Client.ProjectIdAsync();

        foreach (var (body, expected) in new[]
        {
            ("""{"type":"sftp","name":"x","config":{"host":"h","username":"u"}}""", "config.password or config.private_key is required"),
            ("""{"type":"ftp","name":"x","config":{"host":"h","user":"u","tls":"ssl"}}""", "config.tls must be one of explicit, implicit, none"),
            ("""{"type":"webdav","name":"x","config":{"url":"ftp://h/"}}""", "config.url must be an absolute http or https URL"),
        })
        {
            using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/destinations", Http.Json(body));
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await response.ReadJsonAsync()).GetProperty("message").GetString()!.ShouldContain(expected);
        }
    }
}
