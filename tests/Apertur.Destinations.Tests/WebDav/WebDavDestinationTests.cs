using System.Net;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Tests.Files;
using Apertur.Destinations.WebDav;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.WebDav;

/// <summary>The webdav adapter against Apache mod_dav on loopback; files are read back with a client of the test's own.</summary>
public sealed class WebDavDestinationTests : IAsyncLifetime, IDisposable
{
    private readonly string _folder = $"apertur-tests/{Guid.NewGuid():N}";
    private readonly HttpClient _http = new(FileKit.LoopbackGuard().CreateHandler());
    private readonly HttpClient _reader = LoopbackFiles.WebDavClient();
    private WebDavDestination _dav = null!;

    public Task InitializeAsync()
    {
        _dav = new WebDavDestination(_http, new ManualClock());
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => LoopbackFiles.DeleteWebDavAsync(_folder);

    public void Dispose()
    {
        _http.Dispose();
        _reader.Dispose();
    }

    private Dictionary<string, object?> Config(string? password = null, string? url = null) => new()
    {
        ["url"] = url ?? LoopbackFiles.WebDavRoot.AbsoluteUri,
        ["username"] = LoopbackFiles.User,
        ["password"] = password ?? LoopbackFiles.Password,
        ["remote_dir"] = _folder + "/photos",
    };

    private Task<DeliveryResult> DeliverAsync(object config, DeliveryImage image, WebDavDestination? dav = null) =>
        (dav ?? _dav).DeliverAsync(FileKit.Request(DestinationKinds.WebDav, FileKit.Config(config), image), CancellationToken.None);

    private Task<ConnectionTestResult> TestAsync(object config) =>
        _dav.TestAsync(FileKit.Target(DestinationKinds.WebDav, FileKit.Config(config)), new ProjectSigning("x", null), CancellationToken.None);

    [Fact]
    public async Task DeliverAsync_MissingFolders_MakesThemAndPutsTheExactBytes()
    {
        var bytes = FileKit.Bytes(600_000);
        var config = Config();
        config["path_template"] = "{session_id}/{date:yyyy}/{image_index} {tag:user}.{ext}";

        var result = await DeliverAsync(config, FileKit.Image(bytes, index: 4));

        var delivered = result.ShouldBeOfType<DeliveryResult.Delivered>();
        var path = $"{_folder}/photos/{FileKit.SessionId}/2026/4%2042.jpg";
        delivered.RemoteRef.ShouldBe(new Uri(LoopbackFiles.WebDavRoot, path).AbsoluteUri);
        delivered.StatusCode.ShouldBe(201);
        (await _reader.GetByteArrayAsync(path)).ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_Redelivery_OverwritesTheSameResource()
    {
        var id = Guid.CreateVersion7();
        var second = FileKit.Bytes(3000, seed: 5);

        (await DeliverAsync(Config(), FileKit.Image(FileKit.Bytes(9000), id: id))).ShouldBeOfType<DeliveryResult.Delivered>();
        var again = (await DeliverAsync(Config(), FileKit.Image(second, id: id))).ShouldBeOfType<DeliveryResult.Delivered>();

        again.StatusCode.ShouldBe(204);
        (await _reader.GetByteArrayAsync($"{_folder}/photos/{FileKit.SessionId}/3.jpg")).ShouldBe(second);
        using var listing = new HttpRequestMessage(new HttpMethod("PROPFIND"), $"{_folder}/photos/{FileKit.SessionId}/");
        listing.Headers.Add("Depth", "1");
        using var answer = await _reader.SendAsync(listing);
        var body = await answer.Content.ReadAsStringAsync();
        System.Text.RegularExpressions.Regex.Count(body, "<D:href>").ShouldBe(2); // the folder and one file
    }

    [Fact]
    public async Task DeliverAsync_WrongPassword_RejectedLoginFailed()
    {
        var result = await DeliverAsync(Config(password: "wrong"), FileKit.Image([1, 2, 3]));

        var rejected = result.ShouldBeOfType<DeliveryResult.Rejected>();
        rejected.Reason.ShouldStartWith($"Login failed at 127.0.0.1:{LoopbackFiles.WebDavPort} for user '{LoopbackFiles.User}'");
    }

    [Fact]
    public async Task DeliverAsync_UrlFolderMissing_RejectedSayingSo()
    {
        var result = await DeliverAsync(Config(url: new Uri(LoopbackFiles.WebDavRoot, "no-such-root/deeper/").AbsoluteUri), FileKit.Image([1, 2, 3]));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith($"The folder {LoopbackFiles.WebDavRoot}no-such-root/deeper/ does not exist");
    }

    [Fact]
    public async Task DeliverAsync_NothingListening_RetriesLater()
    {
        var port = LoopbackFiles.ClosedPort();

        var result = await DeliverAsync(Config(url: $"http://127.0.0.1:{port}/dav/"), FileKit.Image([1]));

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldBe($"Could not connect to 127.0.0.1:{port} (connection refused)");
    }

    [Fact]
    public async Task DeliverAsync_LoopbackNotAllowed_RejectedByTheGuard()
    {
        using var unguarded = new HttpClient(new OutboundGuard().CreateHandler());

        var result = await DeliverAsync(Config(), FileKit.Image([1]), new WebDavDestination(unguarded, new ManualClock()));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith("Refused to connect to 127.0.0.1");
    }

    [Fact]
    public async Task DeliverAsync_ImageLongerThanRecorded_RetriesAndStoresNothing()
    {
        var image = FileKit.Image(FileKit.Bytes(5000)) with { SizeBytes = 100 };

        var result = await DeliverAsync(Config(), image);

        result.ShouldBeOfType<DeliveryResult.RetryLater>();
        using var head = await _reader.GetAsync($"{_folder}/photos/{FileKit.SessionId}/3.jpg");
        head.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TestAsync_GoodConfig_WritesAndDeletesAProbe()
    {
        var result = await TestAsync(Config());

        result.Success.ShouldBeTrue(result.Message);
        result.Message.ShouldBe($"Connected to 127.0.0.1:{LoopbackFiles.WebDavPort} as {LoopbackFiles.User} and wrote a test file in /dav/{_folder}/photos/. " +
            WebDavConfig.ClearTextWarning);
        using var listing = new HttpRequestMessage(new HttpMethod("PROPFIND"), $"{_folder}/photos/");
        listing.Headers.Add("Depth", "1");
        using var answer = await _reader.SendAsync(listing);
        ((int)answer.StatusCode).ShouldBe(207);
        System.Text.RegularExpressions.Regex.Count(await answer.Content.ReadAsStringAsync(), "<D:href>").ShouldBe(1);
    }

    [Fact]
    public async Task TestAsync_WrongPassword_FailsLoginFailed()
    {
        var result = await TestAsync(Config(password: "wrong"));

        result.Success.ShouldBeFalse();
        result.StatusCode.ShouldBe(401);
        result.Message.ShouldStartWith("Login failed");
    }

    [Fact]
    public async Task TestAsync_MissingFolder_FailsNamingIt()
    {
        var url = new Uri(LoopbackFiles.WebDavRoot, "no-such-root/").AbsoluteUri;

        var result = await TestAsync(Config(url: url));

        result.Success.ShouldBeFalse();
        result.StatusCode.ShouldBe(404);
        result.Message.ShouldBe($"The folder {url} does not exist on the server (404 Not Found): check url");
    }

    [Fact]
    public async Task TestAsync_UnreachableHost_FailsCouldNotConnect()
    {
        var port = LoopbackFiles.ClosedPort();

        var result = await TestAsync(Config(url: $"http://127.0.0.1:{port}/dav/"));

        result.Success.ShouldBeFalse();
        result.Message.ShouldBe($"Could not connect to 127.0.0.1:{port} (connection refused)");
    }

    [Fact]
    public void Validate_BadConfig_SaysWhatToFix()
    {
        WebDavDestination.Validate(FileKit.Config(new { url = "ftp://x/" })).ShouldContain(p => p.StartsWith("config.url must be an absolute http or https URL", StringComparison.Ordinal));
        WebDavDestination.Validate(FileKit.Config(new { url = "https://u:p@cloud.example.com/remote.php/dav/files/u/" })).ShouldNotBeEmpty();
        WebDavDestination.Validate(FileKit.Config(new { url = "https://cloud.example.com/remote.php/dav/files/alice/", user = "alice", password = "app-password", dir = "Photos/Apertur" }))
            .ShouldBeEmpty();
        WebDavConfig.Warnings(FileKit.Config(new { url = "https://cloud.example.com/dav/", user = "a", password = "p" })).ShouldBeEmpty();
        WebDavConfig.Warnings(FileKit.Config(new { url = "http://cloud.example.com/dav/", user = "a", password = "p" })).ShouldBe([WebDavConfig.ClearTextWarning]);
    }
}
