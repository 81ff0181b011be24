using Apertur.Tests;
using Apertur.Tests.CloudDrives;

namespace Apertur.Destinations.Tests.CloudDrives;

/// <summary>The google_drive adapter against the Drive fake on loopback.</summary>
public sealed class GoogleDriveTests : IAsyncLifetime
{
    private readonly ManualClock _clock = new();
    private readonly HttpClient _http = Drives.GuardedClient();
    private FakeGoogleDrive _google = null!;

    public async Task InitializeAsync() => _google = await FakeGoogleDrive.StartAsync(_clock);

    public async Task DisposeAsync()
    {
        await _google.DisposeAsync();
        _http.Dispose();
    }

    private static bool IsChunk(FakeCall call) => call.Method == "PUT" && call.Path == "/upload/drive/v3/files";

    [Fact]
    public async Task DeliverAsync_SmallImage_OneMultipartUploadIntoFoundOrCreatedFolders()
    {
        var store = Drives.Connected(_google);
        var drive = Drives.Google(_http, _google, store);
        var bytes = Drives.Bytes(40_000);
        var image = Drives.Image(bytes, index: 3);

        var delivered = await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.GoogleDrive, image));

        var file = _google.FilesByPath().ShouldHaveSingleItem();
        file.Key.ShouldBe($"Apertur/{Drives.SessionId}/3.jpg");
        file.Value.Bytes.ShouldBe(bytes);
        file.Value.MimeType.ShouldBe("image/jpeg");
        file.Value.AppProperties["apertur_image_id"].ShouldBe(image.Id.ToString());
        delivered.RemoteRef.ShouldBe($"Apertur/{Drives.SessionId}/3.jpg (id {file.Value.Id})");
        _google.Calls.Count(c => c.Path == "/upload/drive/v3/files" && c.Query.Contains("uploadType=multipart", StringComparison.Ordinal)).ShouldBe(1);
        _google.Calls.ShouldAllBe(c => c.Path == "/token" || c.Authorization!.StartsWith("Bearer ", StringComparison.Ordinal));

        // A second image of the session reuses both folders (cached): no second folder named Apertur or {session}.
        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(Drives.Bytes(1000, 2), index: 4)));
        _google.Folders().Select(f => f.Name).ShouldBe(["Apertur", Drives.SessionId.ToString()], ignoreOrder: true);
    }

    [Fact]
    public async Task DeliverAsync_LargeImage_ResumableSessionInChunksOf256KiB_ByteForByte()
    {
        var store = Drives.Connected(_google);
        var drive = Drives.Google(_http, _google, store, threshold: 300_000, chunk: 256 * 1024);
        var bytes = Drives.Bytes(1_100_000);

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(bytes), new { folder = "Clients/Wedding" }));

        var file = _google.FilesByPath().ShouldHaveSingleItem();
        file.Key.ShouldBe($"Clients/Wedding/{Drives.SessionId}/0.jpg");
        file.Value.Bytes.ShouldBe(bytes);
        _google.SessionChunks().ShouldHaveSingleItem().ShouldBe([262144, 262144, 262144, 262144, 1_100_000 - 4 * 262144]);
    }

    [Fact]
    public async Task DeliverAsync_TokenExpiresMidUpload_RefreshesOnceAndResumesWithoutResendingChunks()
    {
        var store = Drives.Connected(_google);
        var drive = Drives.Google(_http, _google, store, threshold: 300_000, chunk: 256 * 1024);
        var bytes = Drives.Bytes(1_100_000, seed: 3);
        var accepted = 0;
        _google.AfterCall = call =>
        {
            if (IsChunk(call) && call.Status == 308 && ++accepted == 2)
            {
                // Google ends the token's life early (its clock, not ours): the next chunk is answered 401.
                _google.OAuth.ExpireAccessTokens();
            }
        };

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(bytes)));

        _google.FilesByPath().ShouldHaveSingleItem().Value.Bytes.ShouldBe(bytes);
        _google.OAuth.Refreshes.ShouldBe(1);
        store.Saves.ShouldBe(1);
        // Every chunk was accepted once, in order: nothing before the expiry was sent again.
        _google.SessionChunks().ShouldHaveSingleItem().ShouldBe([262144, 262144, 262144, 262144, 1_100_000 - 4 * 262144]);
        var chunks = _google.Calls.Where(IsChunk).ToList();
        chunks.Select(c => c.ContentRange).ShouldBe([
            "bytes 0-262143/1100000", "bytes 262144-524287/1100000",
            "bytes 524288-786431/1100000", "bytes 524288-786431/1100000",
            "bytes 786432-1048575/1100000", "bytes 1048576-1099999/1100000"]);
        chunks.Select(c => c.Status).ShouldBe([308, 308, 401, 308, 308, 200]);
    }

    [Fact]
    public async Task DeliverAsync_TokenAboutToExpireMidUpload_RefreshedBeforeTheNextChunkWithoutA401()
    {
        var store = Drives.Connected(_google);
        var drive = Drives.Google(_http, _google, store, threshold: 300_000, chunk: 256 * 1024);
        var bytes = Drives.Bytes(800_000, seed: 4);
        var accepted = 0;
        _google.AfterCall = call =>
        {
            if (IsChunk(call) && call.Status == 308 && ++accepted == 1)
            {
                // 56 minutes into the token's hour: within the 5-minute refresh margin.
                _clock.Advance(TimeSpan.FromMinutes(56));
            }
        };

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(bytes)));

        _google.FilesByPath().ShouldHaveSingleItem().Value.Bytes.ShouldBe(bytes);
        _google.OAuth.Refreshes.ShouldBe(1);
        _google.Calls.ShouldNotContain(c => c.Status == 401);
        _google.SessionChunks().ShouldHaveSingleItem().ShouldBe([262144, 262144, 262144, 800_000 - 3 * 262144]);
    }

    [Fact]
    public async Task DeliverAsync_403RateLimit_BacksOffExponentiallyInsideTheAttempt()
    {
        var store = Drives.Connected(_google);
        var drive = Drives.Google(_http, _google, store);
        _google.Inject(c => c.Path == "/upload/drive/v3/files", 2, context => FakeGoogleDrive.Forbidden(context, "rateLimitExceeded"));

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(Drives.Bytes(5000))));

        var uploads = _google.Calls.Where(c => c.Path == "/upload/drive/v3/files").ToList();
        uploads.Select(c => c.Status).ShouldBe([403, 403, 200]);
        // Backoff of 100 ms, then 200 ms (Drive: exponential backoff on rate limits), less 10 ms of timer slack.
        (uploads[1].Elapsed - uploads[0].Elapsed).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(90));
        (uploads[2].Elapsed - uploads[1].Elapsed).ShouldBeGreaterThanOrEqualTo(TimeSpan.FromMilliseconds(190));
    }

    [Fact]
    public async Task DeliverAsync_403RateLimitThatPersists_ThrottledRetryLater()
    {
        var drive = Drives.Google(_http, _google, Drives.Connected(_google));
        _google.Inject(c => c.Path == "/upload/drive/v3/files", 10, context => FakeGoogleDrive.Forbidden(context, "userRateLimitExceeded"));

        var result = await drive.DeliverAsync(Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(Drives.Bytes(5000))), CancellationToken.None);

        var retry = result.ShouldBeOfType<DeliveryResult.RetryLater>();
        retry.Throttled.ShouldBeTrue();
        retry.StatusCode.ShouldBe(403);
        retry.Reason.ShouldBe("Google Drive answered 403 Forbidden: rate limit exceeded");
        retry.MinimumWait.ShouldBeNull();
        // The first try and three backoffs inside the attempt.
        _google.Calls.Count(c => c.Path == "/upload/drive/v3/files").ShouldBe(4);
    }

    [Fact]
    public async Task DeliverAsync_DailyLimitExceeded_RetryLaterNoSoonerThanTheDailyWait()
    {
        var drive = Drives.Google(_http, _google, Drives.Connected(_google));
        _google.Inject(c => c.Path == "/upload/drive/v3/files", 1, context => FakeGoogleDrive.Forbidden(context, "dailyLimitExceeded"));

        var result = await drive.DeliverAsync(Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(Drives.Bytes(5000))), CancellationToken.None);

        var retry = result.ShouldBeOfType<DeliveryResult.RetryLater>();
        retry.Throttled.ShouldBeTrue();
        retry.MinimumWait.ShouldBe(TimeSpan.FromHours(1));
        retry.Reason.ShouldBe("Google Drive answered 403 Forbidden: daily limit exceeded; trying again in 1 h");
        _google.Calls.Count(c => c.Path == "/upload/drive/v3/files").ShouldBe(1);
    }

    [Fact]
    public async Task DeliverAsync_SameImageAgain_FindsTheFileAndUploadsNothing()
    {
        var drive = Drives.Google(_http, _google, Drives.Connected(_google));
        var image = Drives.Image(Drives.Bytes(5000));
        var first = await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.GoogleDrive, image));

        var again = await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.GoogleDrive, image));

        _google.FilesByPath().Count.ShouldBe(1);
        _google.Calls.Count(c => c.Path == "/upload/drive/v3/files").ShouldBe(1);
        again.RemoteRef.ShouldBe(first.RemoteRef.Replace(")", ", already there)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeliverAsync_ResumableSessionExpired_StartsOneNewSession()
    {
        var drive = Drives.Google(_http, _google, Drives.Connected(_google), threshold: 300_000);
        var bytes = Drives.Bytes(800_000, seed: 5);
        var expired = false;
        _google.AfterCall = call =>
        {
            if (IsChunk(call) && call.Status == 308 && !expired)
            {
                expired = true;
                _google.ExpireSessions();
            }
        };

        await Drives.DeliverOkAsync(drive, Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(bytes)));

        _google.FilesByPath().ShouldHaveSingleItem().Value.Bytes.ShouldBe(bytes);
        _google.SessionChunks().Count.ShouldBe(2);
    }

    [Fact]
    public async Task DeliverAsync_RevokedGrant_MarksNeedsReconnectAndRetriesLater()
    {
        var store = Drives.Connected(_google);
        var drive = Drives.Google(_http, _google, store);
        _google.OAuth.RevokeAll();
        _clock.Advance(TimeSpan.FromHours(2));

        var result = await drive.DeliverAsync(Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(Drives.Bytes(5000))), CancellationToken.None);

        var retry = result.ShouldBeOfType<DeliveryResult.RetryLater>();
        retry.Reason.ShouldStartWith("Google refused the stored authorization (invalid_grant: Token has been expired or revoked.)");
        store.Reconnects.ShouldHaveSingleItem();
        store.Grant!.NeedsReconnect.ShouldBeTrue();
        // Later attempts do not ask Google again: the grant waits for a reconnect.
        var later = await drive.DeliverAsync(Drives.Request(DestinationKinds.GoogleDrive, Drives.Image(Drives.Bytes(5000))), CancellationToken.None);
        later.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldStartWith("Needs reconnect: Google refused");
        _google.OAuth.RefusedRefreshes.ShouldBe(1);
    }

    [Fact]
    public async Task TestAsync_Connected_ReportsAccountFolderAndWriteCheckAndLeavesNothing()
    {
        var drive = Drives.Google(_http, _google, Drives.Connected(_google));

        var result = await drive.TestAsync(Drives.Target(DestinationKinds.GoogleDrive, new { folder = "Photos" }), new ProjectSigning("x", null), CancellationToken.None);

        result.Success.ShouldBeTrue(result.Message);
        var folder = _google.Folders().ShouldHaveSingleItem();
        result.Message.ShouldBe($"Connected to Google Drive as Ada Lovelace (ada@example.com); folder \"Photos\" ({folder.Id}) is writable (a test file was written and deleted)");
        _google.FilesByPath().ShouldBeEmpty();
    }

    [Fact]
    public async Task TestAsync_FolderIdNotVisible_SaysWhy()
    {
        var drive = Drives.Google(_http, _google, Drives.Connected(_google));

        var result = await drive.TestAsync(Drives.Target(DestinationKinds.GoogleDrive, new { folder_id = "1AbCdEfG" }), new ProjectSigning("x", null), CancellationToken.None);

        result.Success.ShouldBeFalse();
        result.Message.ShouldBe("Connected as Ada Lovelace (ada@example.com), but folder 1AbCdEfG was not found: with the drive.file scope Apertur only sees folders it created");
    }

    [Fact]
    public void Validate_BadTemplatesAndFolderId_ProblemsInWords()
    {
        var problems = GoogleDrive.GoogleDriveDestination.Validate(System.Text.Json.JsonSerializer.SerializeToElement(
            new { folder_id = "../x", subfolder_template = "{nope}", filename_template = "../{name}" }));

        problems.ShouldBe([
            "config.folder_id '../x' is not a Drive file id (letters, digits, - and _).",
            "config.subfolder_template: unknown placeholder {nope}; use {session_id}, {image_id}, {image_index}, {ext}, {filename}, {name}, {label}, {date}, {folder}, {date:yyyy-MM-dd} or {tag:name}.",
            "config.filename_template must not contain '..': paths stay inside the destination's folder.",
        ]);
    }
}
