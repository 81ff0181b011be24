using System.Text.Json;
using Apertur.Tests;
using Apertur.Tests.CloudDrives;

namespace Apertur.Destinations.Tests.CloudDrives;

/// <summary>The dropbox adapter against the Dropbox fake on loopback.</summary>
public sealed class DropboxTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private readonly HttpClient _http = Drives.GuardedClient();
    private FakeDropbox _dropbox = null!;

    public async Task InitializeAsync() => _dropbox = await FakeDropbox.StartAsync(_clock);

    public async Task DisposeAsync()
    {
        await _dropbox.DisposeAsync();
        _http.Dispose();
    }

    private static bool IsSession(FakeCall call) => call.Path.StartsWith("/content/2/files/upload_session/", StringComparison.Ordinal);

    private static long CursorOffset(FakeCall call) => JsonDocument.Parse(call.ApiArg!).RootElement.GetProperty("cursor").GetProperty("offset").GetInt64();

    [Fact]
    public async Task DeliverAsync_SmallImage_UploadedUnderAppsAperturFolderSession_AndRepeatOverwritesTheSameFile()
    {
        var drive = Drives.Dropbox(_http, _dropbox, Drives.Connected(_dropbox));
        var bytes = Drives.Bytes(30_000);
        var image = Drives.Image(bytes, index: 2);
        var request = Drives.Request(DestinationKinds.Dropbox, image, new { folder = "Wedding" });

        var delivered = await Drives.DeliverOkAsync(drive, request);
        await Drives.DeliverOkAsync(drive, request);

        var path = $"/Apps/Apertur/Wedding/{Drives.SessionId}/2.jpg";
        var file = _dropbox.Files().ShouldHaveSingleItem();
        file.Key.ShouldBe(path);
        file.Value.ShouldBe(bytes);
        delivered.RemoteRef.ShouldStartWith(path + " (id id:fake");
        var uploads = _dropbox.Calls.Where(c => c.Path == "/content/2/files/upload").ToList();
        uploads.Count.ShouldBe(2);
        using var arg = JsonDocument.Parse(uploads[0].ApiArg!);
        arg.RootElement.GetProperty("mode").GetString().ShouldBe("overwrite");
        arg.RootElement.GetProperty("autorename").GetBoolean().ShouldBeFalse();
    }

    [Fact]
    public async Task DeliverAsync_NonAsciiFolder_EscapedInTheHeaderAndStoredByItsName()
    {
        var drive = Drives.Dropbox(_http, _dropbox, Drives.Connected(_dropbox));

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.Dropbox, Drives.Image(Drives.Bytes(100)), new { folder = "Mariage été", root = "/" }));

        _dropbox.Files().Keys.ShouldBe([$"/Mariage été/{Drives.SessionId}/0.jpg"]);
        _dropbox.Calls.Single(c => c.Path == "/content/2/files/upload").ApiArg!.ShouldContain("\\u00E9", Case.Sensitive);
    }

    [Fact]
    public async Task DeliverAsync_AboveThreshold_UploadSessionStartAppendFinish_ByteForByte()
    {
        var drive = Drives.Dropbox(_http, _dropbox, Drives.Connected(_dropbox), threshold: 200_000, chunk: 256 * 1024);
        var bytes = Drives.Bytes(700_000, seed: 9);

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.Dropbox, Drives.Image(bytes)));

        _dropbox.Files().ShouldHaveSingleItem().Value.ShouldBe(bytes);
        _dropbox.SessionChunks().ShouldHaveSingleItem().ShouldBe([262144, 262144, 700_000 - 2 * 262144]);
        _dropbox.Calls.Where(IsSession).Select(c => c.Path[(c.Path.LastIndexOf('/') + 1)..]).ShouldBe(["start", "append_v2", "finish"]);
    }

    [Fact]
    public async Task DeliverAsync_TokenExpiresMidSession_RefreshesOnceAndContinuesAtTheSameOffset()
    {
        var store = Drives.Connected(_dropbox);
        var drive = Drives.Dropbox(_http, _dropbox, store, threshold: 200_000, chunk: 256 * 1024);
        var bytes = Drives.Bytes(1_000_000, seed: 10);
        _dropbox.AfterCall = call =>
        {
            if (call.Path.EndsWith("/start", StringComparison.Ordinal) && call.Status == 200)
            {
                _dropbox.OAuth.ExpireAccessTokens();
            }
        };

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.Dropbox, Drives.Image(bytes)));

        _dropbox.Files().ShouldHaveSingleItem().Value.ShouldBe(bytes);
        _dropbox.OAuth.Refreshes.ShouldBe(1);
        store.Saves.ShouldBe(1);
        var calls = _dropbox.Calls.Where(IsSession).ToList();
        calls.Select(c => c.Status).ShouldBe([200, 401, 200, 200, 200]);
        calls.Skip(1).Select(CursorOffset).ShouldBe([262144L, 262144, 524288, 786432]);
        _dropbox.SessionChunks().ShouldHaveSingleItem().Sum().ShouldBe(1_000_000);
    }

    [Fact]
    public async Task DeliverAsync_AppendAnswerLost_ResumesAtDropboxsCorrectOffsetWithoutDuplicating()
    {
        var drive = Drives.Dropbox(_http, _dropbox, Drives.Connected(_dropbox), threshold: 200_000, chunk: 256 * 1024);
        var bytes = Drives.Bytes(900_000, seed: 11);
        _dropbox.LoseAppendAnswers = 1;

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.Dropbox, Drives.Image(bytes)));

        _dropbox.Files().ShouldHaveSingleItem().Value.ShouldBe(bytes);
        var calls = _dropbox.Calls.Where(IsSession).ToList();
        // start, append (stored, answer lost), the same append again (409 incorrect_offset), then on from the correct offset.
        calls.Select(c => c.Status).ShouldBe([200, 503, 409, 200, 200]);
        calls.Skip(1).Select(CursorOffset).ShouldBe([262144L, 262144, 524288, 786432]);
        _dropbox.SessionChunks().ShouldHaveSingleItem().ShouldBe([262144, 262144, 262144, 900_000 - 3 * 262144]);
    }

    [Fact]
    public async Task DeliverAsync_429WithShortRetryAfterMidSession_WaitsItOutAndContinues()
    {
        var drive = Drives.Dropbox(_http, _dropbox, Drives.Connected(_dropbox), threshold: 200_000, chunk: 256 * 1024);
        var bytes = Drives.Bytes(600_000, seed: 12);
        _dropbox.Inject(c => c.Path.EndsWith("/append_v2", StringComparison.Ordinal), 1, context => FakeDropbox.TooManyRequests(context, 1, "too_many_write_operations"));

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.Dropbox, Drives.Image(bytes)));

        _dropbox.Files().ShouldHaveSingleItem().Value.ShouldBe(bytes);
        var appends = _dropbox.Calls.Where(c => c.Path.EndsWith("/append_v2", StringComparison.Ordinal)).ToList();
        appends.Select(c => c.Status).ShouldBe([429, 200]);
        (appends[1].Elapsed - appends[0].Elapsed).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(990));
        appends.Select(CursorOffset).ShouldBe([262144L, 262144]);
    }

    [Fact]
    public async Task DeliverAsync_429WithLongRetryAfter_ThrottledRetryLaterNoSoonerThanAsked()
    {
        var drive = Drives.Dropbox(_http, _dropbox, Drives.Connected(_dropbox));
        _dropbox.Inject(c => c.Path == "/content/2/files/upload", 1, context => FakeDropbox.TooManyRequests(context, 300));

        var result = await drive.DeliverAsync(Drives.Request(DestinationKinds.Dropbox, Drives.Image(Drives.Bytes(100))), CancellationToken.None);

        var retry = result.ShouldBeOfType<DeliveryResult.RetryLater>();
        retry.Throttled.ShouldBeTrue();
        retry.MinimumWait.ShouldBe(TimeSpan.FromSeconds(300));
        retry.StatusCode.ShouldBe(429);
        retry.Reason.ShouldBe("Dropbox answered 429 Too Many Requests: too_many_requests");
    }

    [Fact]
    public async Task DeliverAsync_InsufficientSpace_Rejected()
    {
        var drive = Drives.Dropbox(_http, _dropbox, Drives.Connected(_dropbox));
        _dropbox.Inject(c => c.Path == "/content/2/files/upload", 1, context =>
        {
            context.Response.StatusCode = 409;
            context.Response.ContentType = "application/json";
            return Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response,
                """{"error_summary":"path/insufficient_space/..","error":{".tag":"path","path":{".tag":"insufficient_space"}}}""");
        });

        var result = await drive.DeliverAsync(Drives.Request(DestinationKinds.Dropbox, Drives.Image(Drives.Bytes(100))), CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldEndWith("(path/insufficient_space/..) while uploading " +
            $"/Apps/Apertur/{Drives.SessionId}/0.jpg: the Dropbox is full");
    }

    [Fact]
    public async Task DeliverAsync_SessionExpiredMidUpload_StartsOneNewSession()
    {
        var drive = Drives.Dropbox(_http, _dropbox, Drives.Connected(_dropbox), threshold: 200_000, chunk: 256 * 1024);
        var bytes = Drives.Bytes(700_000, seed: 13);
        var expired = false;
        _dropbox.AfterCall = call =>
        {
            if (call.Path.EndsWith("/start", StringComparison.Ordinal) && !expired)
            {
                expired = true;
                _dropbox.ExpireSessions();
            }
        };

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.Dropbox, Drives.Image(bytes)));

        _dropbox.Files().ShouldHaveSingleItem().Value.ShouldBe(bytes);
        _dropbox.SessionChunks().Count.ShouldBe(2);
    }

    [Fact]
    public async Task TestAsync_Connected_ReportsAccountFolderAndWriteCheck()
    {
        var drive = Drives.Dropbox(_http, _dropbox, Drives.Connected(_dropbox));

        var result = await drive.TestAsync(Drives.Target(DestinationKinds.Dropbox, new { folder = "Wedding" }), new ProjectSigning("x", null), CancellationToken.None);

        result.Success.ShouldBeTrue(result.Message);
        result.Message.ShouldBe("Connected to Dropbox as Grace Hopper (grace@example.com); folder /Apps/Apertur/Wedding is writable (a test file was written and deleted)");
        _dropbox.Files().ShouldBeEmpty();
        // Run again: the folder exists now, which is fine.
        (await drive.TestAsync(Drives.Target(DestinationKinds.Dropbox, new { folder = "Wedding" }), new ProjectSigning("x", null), CancellationToken.None))
            .Success.ShouldBeTrue();
    }
}
