using Apertur.Destinations.OAuth;
using Apertur.Tests;
using Apertur.Tests.CloudDrives;

namespace Apertur.Destinations.Tests.CloudDrives;

/// <summary>The onedrive adapter against the Microsoft Graph fake on loopback.</summary>
public sealed class OneDriveTests : IAsyncLifetime
{
    private const int Unit = 320 * 1024;
    private readonly ManualClock _clock = new();
    private readonly HttpClient _http = Drives.GuardedClient();
    private FakeOneDrive _onedrive = null!;

    public async Task InitializeAsync() => _onedrive = await FakeOneDrive.StartAsync(_clock);

    public async Task DisposeAsync()
    {
        await _onedrive.DisposeAsync();
        _http.Dispose();
    }

    private static bool IsFragment(FakeCall call) => call.Method == "PUT" && call.Path.StartsWith("/upload/", StringComparison.Ordinal);

    [Fact]
    public async Task DeliverAsync_SmallImage_OnePutByPathWithReplace_FoldersCreated()
    {
        var drive = Drives.OneDrive(_http, _onedrive, Drives.Connected(_onedrive));
        var bytes = Drives.Bytes(50_000);
        var request = Drives.Request(DestinationKinds.OneDrive, Drives.Image(bytes, index: 1));

        var delivered = await Drives.DeliverOkAsync(drive, request);
        await Drives.DeliverOkAsync(drive, request);

        var file = _onedrive.Files().ShouldHaveSingleItem();
        file.Key.ShouldBe($"Apertur/{Drives.SessionId}/1.jpg");
        file.Value.ShouldBe(bytes);
        delivered.RemoteRef.ShouldStartWith($"/Apertur/{Drives.SessionId}/1.jpg (id 01FAKE");
        var puts = _onedrive.Calls.Where(c => c.Method == "PUT").ToList();
        puts.Count.ShouldBe(2);
        puts.ShouldAllBe(c => c.Path == $"/v1.0/me/drive/root:/Apertur/{Drives.SessionId}/1.jpg:/content"
            && c.Query == "?@microsoft.graph.conflictBehavior=replace");
        puts.Select(c => c.Status).ShouldBe([201, 200]);
    }

    [Fact]
    public async Task DeliverAsync_AboveThreshold_UploadSessionInMultiplesOf320KiB_NoAuthorizationOnTheUploadUrl()
    {
        var drive = Drives.OneDrive(_http, _onedrive, Drives.Connected(_onedrive), threshold: 500_000, chunk: 2 * Unit);
        var bytes = Drives.Bytes(1_500_000, seed: 21);

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.OneDrive, Drives.Image(bytes), new { folder = "/Events/2026" }));

        _onedrive.Files().ShouldHaveSingleItem().Key.ShouldBe($"Events/2026/{Drives.SessionId}/0.jpg");
        _onedrive.Files().Single().Value.ShouldBe(bytes);
        _onedrive.SessionChunks().ShouldHaveSingleItem().ShouldBe([2 * Unit, 2 * Unit, 1_500_000 - 4 * Unit]);
        var fragments = _onedrive.Calls.Where(IsFragment).ToList();
        fragments.ShouldAllBe(c => c.Authorization == null);
        fragments.Select(c => c.Status).ShouldBe([202, 202, 201]);
        _onedrive.Calls.Single(c => c.Path.EndsWith(":/createUploadSession", StringComparison.Ordinal)).Authorization!.ShouldStartWith("Bearer ");
    }

    [Fact]
    public async Task DeliverAsync_FolderById_AddressesItemsBelowTheFolder()
    {
        var folderId = _onedrive.AddFolder("Shared/Photos");
        var drive = Drives.OneDrive(_http, _onedrive, Drives.Connected(_onedrive));

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.OneDrive, Drives.Image(Drives.Bytes(1000)),
            new { folder_id = folderId, subfolder_template = "{date:yyyy-MM-dd}", filename_template = "{image_index}-{name}.{ext}" }));

        _onedrive.Files().Keys.ShouldBe(["Shared/Photos/2026-11-01/0-IMG_0001.jpg"]);
        _onedrive.Calls.Single(c => c.Method == "PUT").Path.ShouldBe($"/v1.0/me/drive/items/{folderId}:/2026-11-01/0-IMG_0001.jpg:/content");
    }

    [Fact]
    public async Task DeliverAsync_429OnAFragmentWithShortRetryAfter_WaitsAndResumesFromNextExpectedRange()
    {
        var drive = Drives.OneDrive(_http, _onedrive, Drives.Connected(_onedrive), threshold: 500_000, chunk: Unit);
        var bytes = Drives.Bytes(1_000_000, seed: 22);
        var fragments = 0;
        _onedrive.Inject(c => IsFragment(c) && ++fragments == 2, 1, context => FakeOneDrive.Throttled(context, 1));

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.OneDrive, Drives.Image(bytes)));

        _onedrive.Files().Single().Value.ShouldBe(bytes);
        var calls = _onedrive.Calls.Where(IsFragment).ToList();
        calls.Select(c => c.Status).ShouldBe([202, 429, 202, 202, 201]);
        calls.Select(c => c.ContentRange).ShouldBe([
            "bytes 0-327679/1000000", "bytes 327680-655359/1000000", "bytes 327680-655359/1000000",
            "bytes 655360-983039/1000000", "bytes 983040-999999/1000000"]);
        (calls[2].Elapsed - calls[1].Elapsed).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(990));
    }

    [Fact]
    public async Task DeliverAsync_503WithLongRetryAfter_ThrottledRetryLaterNoSoonerThanAsked()
    {
        var drive = Drives.OneDrive(_http, _onedrive, Drives.Connected(_onedrive));
        _onedrive.Inject(c => c.Method == "PUT", 1, context => FakeOneDrive.Throttled(context, 120, status: 503));

        var result = await drive.DeliverAsync(Drives.Request(DestinationKinds.OneDrive, Drives.Image(Drives.Bytes(100))), CancellationToken.None);

        var retry = result.ShouldBeOfType<DeliveryResult.RetryLater>();
        retry.Throttled.ShouldBeTrue();
        retry.MinimumWait.ShouldBe(TimeSpan.FromSeconds(120));
        retry.Reason.ShouldBe("OneDrive answered 503 Service Unavailable: activityLimitReached");
    }

    [Fact]
    public async Task DeliverAsync_UploadSessionExpiresMidway_CreatesOneNewSession()
    {
        var drive = Drives.OneDrive(_http, _onedrive, Drives.Connected(_onedrive), threshold: 500_000, chunk: Unit);
        var bytes = Drives.Bytes(800_000, seed: 23);
        var expired = false;
        _onedrive.AfterCall = call =>
        {
            if (IsFragment(call) && call.Status == 202 && !expired)
            {
                expired = true;
                _onedrive.ExpireSessions();
            }
        };

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.OneDrive, Drives.Image(bytes)));

        _onedrive.Files().Single().Value.ShouldBe(bytes);
        _onedrive.SessionChunks().Count.ShouldBe(2);
        _onedrive.Calls.Count(c => c.Path.EndsWith(":/createUploadSession", StringComparison.Ordinal)).ShouldBe(2);
    }

    [Fact]
    public async Task DeliverAsync_ExpiredToken_RefreshedWithTheRotatedRefreshTokenStored()
    {
        var store = Drives.Connected(_onedrive);
        var drive = Drives.OneDrive(_http, _onedrive, store);
        var before = store.Grant!.RefreshToken;
        _clock.Advance(TimeSpan.FromMinutes(58));

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.OneDrive, Drives.Image(Drives.Bytes(100))));

        _onedrive.OAuth.Refreshes.ShouldBe(1);
        store.Grant!.RefreshToken.ShouldNotBe(before);
        store.Grant.AccessExpiresAt.ShouldBe(_clock.GetUtcNow() + TimeSpan.FromHours(1));
        _onedrive.Calls.ShouldNotContain(c => c.Status == 401);
    }

    [Fact]
    public async Task DeliverAsync_NotConnected_RetriesLaterSayingHowToConnect()
    {
        var drive = Drives.OneDrive(_http, _onedrive, new MemoryGrantStore());

        var result = await drive.DeliverAsync(Drives.Request(DestinationKinds.OneDrive, Drives.Image(Drives.Bytes(100))), CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldBe(
            $"Not connected to a Microsoft account yet: connect it with POST /api/v1/projects/{{projectId}}/destinations/{Drives.DestinationId}/oauth/start");
        _onedrive.Calls.ShouldBeEmpty();
    }

    [Fact]
    public async Task TestAsync_Connected_ReportsAccountFolderAndWriteCheck()
    {
        var drive = Drives.OneDrive(_http, _onedrive, Drives.Connected(_onedrive));

        var result = await drive.TestAsync(Drives.Target(DestinationKinds.OneDrive), new ProjectSigning("x", null), CancellationToken.None);

        result.Success.ShouldBeTrue(result.Message);
        result.Message.ShouldBe("Connected to OneDrive as Katherine Johnson (OneDrive business); folder /Apertur did not exist and was created (a test file was written and deleted)");
        _onedrive.Files().ShouldBeEmpty();
    }

    [Fact]
    public void AuthorizeUrl_HasPkceS256StateScopesAndQueryResponseMode()
    {
        var drive = Drives.OneDrive(_http, _onedrive, new MemoryGrantStore());
        var challenge = Pkce.Challenge("verifier-verifier-verifier-verifier-verifier");

        var url = drive.OAuth.AuthorizeUrl("the-state", challenge, new Uri("https://photos.example.com/oauth/microsoft/callback"));

        var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(url.Query);
        url.GetLeftPart(UriPartial.Path).ShouldBe(_onedrive.AuthorizeUrl.AbsoluteUri);
        query["client_id"].ToString().ShouldBe(Apertur.Tests.CloudDrives.FakeOAuthServer.ClientId);
        query["redirect_uri"].ToString().ShouldBe("https://photos.example.com/oauth/microsoft/callback");
        query["response_type"].ToString().ShouldBe("code");
        query["scope"].ToString().ShouldBe("Files.ReadWrite offline_access");
        query["state"].ToString().ShouldBe("the-state");
        query["code_challenge"].ToString().ShouldBe(challenge);
        query["code_challenge_method"].ToString().ShouldBe("S256");
        query["response_mode"].ToString().ShouldBe("query");
    }
}
