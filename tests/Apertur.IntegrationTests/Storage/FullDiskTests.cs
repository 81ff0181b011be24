using System.Data.Common;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Apertur.IntegrationTests.CloudDrives;
using Apertur.IntegrationTests.Dashboard;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Hosting;
using Apertur.Server.Storage;
using Apertur.Tests;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Storage;

/// <summary>
/// A full disk (docs/deploy.md "A full disk") on a real small filesystem (<see cref="SmallFilesystem"/>, a tmpfs) used as the
/// data directory: on SQLite it holds the database, the images and the temp files; on PostgreSQL the images and temp files.
/// Below <c>Apertur:Storage:MinFreeBytes</c> uploads get 507 before their body is read; a disk that fills during an upload
/// answers 507 and leaves nothing half-written; freed space brings uploads back; deliveries of accepted images go on.
/// </summary>
public sealed class FullDiskTests
{
    private const int Megabyte = 1024 * 1024;

    private static Dictionary<string, string?> OnFilesystem(SmallFilesystem filesystem, long minFreeBytes) => new()
    {
        ["Apertur:DataDirectory"] = filesystem.Path,
        ["Apertur:Storage:MinFreeBytes"] = minFreeBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_FreeSpaceBelowTheMinimum_507BeforeTheBodyIsRead(string database)
    {
        await using var filesystem = await SmallFilesystem.MountAsync(16);
        await using var app = await TestApp.StartAsync(database, OnFilesystem(filesystem, minFreeBytes: 64 * Megabyte));
        var session = (await app.Client.CreateSessionAsync("{}")).SessionId();
        using var anonymous = app.CreateClient();

        // A body that never ends: a server that read it would wait for the rest and never answer.
        var body = new UnendingUpload();
        try
        {
            using var response = await anonymous.UploadAsync(session, body).WaitAsync(TimeSpan.FromSeconds(30));

            ((int)response.StatusCode).ShouldBe(507);
            response.Headers.RetryAfter?.Delta.ShouldBe(TimeSpan.FromSeconds(StorageFull.RetryAfterSeconds));
            var error = await response.ReadJsonAsync();
            error.GetProperty("code").GetString().ShouldBe("INSUFFICIENT_STORAGE");
            error.GetProperty("statusCode").GetInt32().ShouldBe(507);
            error.GetProperty("message").GetString()!.ShouldContain("storage is full");
            error.GetProperty("retryAfter").GetInt32().ShouldBe(StorageFull.RetryAfterSeconds);
            Directory.GetFiles(Path.Combine(filesystem.Path, "tmp")).ShouldBeEmpty("nothing was written while the body was still coming");
        }
        finally
        {
            body.End();
        }
        (await ImageCountAsync(app)).ShouldBe(0);
    }

    [Fact]
    public async Task FreeSpace_CountsTheDeclaredLengthAndReadsTheFilesystemOfTheDirectory()
    {
        await using var filesystem = await SmallFilesystem.MountAsync(16);
        var directory = Path.Combine(filesystem.Path, "tmp");
        Directory.CreateDirectory(directory);
        var free = new FreeSpace(new StorageOptions { MinFreeBytes = 8 * Megabyte }, [directory], TimeProvider.System);

        free.Read()!.FreeBytes.ShouldBe(16L * Megabyte, "the tmpfs's figure, not the root filesystem's");
        free.Low().ShouldBeNull();
        free.RequireRoomFor(null);
        free.RequireRoomFor(4 * Megabyte);
        Should.Throw<ApiException>(() => free.RequireRoomFor(9 * Megabyte)).Status.ShouldBe(507);
        new FreeSpace(new StorageOptions { MinFreeBytes = 0 }, [directory], TimeProvider.System).RequireRoomFor(1L << 40);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_DiskFillsDuringTheUpload_507NothingHalfWrittenThenWorksOnceSpaceIsFreed(string database)
    {
        await using var filesystem = await SmallFilesystem.MountAsync(16);
        await using var app = await TestApp.StartAsync(database, OnFilesystem(filesystem, minFreeBytes: 0));
        var session = (await app.Client.CreateSessionAsync("{}")).SessionId();
        using var anonymous = app.CreateClient();
        var image = S3ImageStoreTests.LargeJpeg(3 * Megabyte);

        filesystem.Fill(leaveFree: Megabyte);
        using (var refused = await anonymous.UploadAsync(session, image, "big.jpg"))
        {
            var error = await refused.ReadJsonAsync();
            ((int)refused.StatusCode).ShouldBe(507, error.ToString());
            error.GetProperty("code").GetString().ShouldBe("INSUFFICIENT_STORAGE");
            refused.Headers.RetryAfter.ShouldNotBeNull();
        }
        Directory.GetFiles(Path.Combine(filesystem.Path, "tmp")).ShouldBeEmpty("no partial temp file");
        (await ImageCountAsync(app)).ShouldBe(0);
        app.Output.Text.ShouldContain("with 507: the server's storage is full (No space left on device");
        app.Output.Text.ShouldNotContain(nameof(IOException), Case.Sensitive, "one line, no stack trace");
        using (var detail = await anonymous.GetAsync($"/api/v1/upload/{session}/session"))
        {
            detail.StatusCode.ShouldBe(HttpStatusCode.OK, "the server keeps serving");
        }

        filesystem.Free();
        using var accepted = await anonymous.UploadAsync(session, image, "big.jpg");
        accepted.StatusCode.ShouldBe(HttpStatusCode.Created, (await accepted.ReadJsonAsync()).ToString());
        (await ImageCountAsync(app)).ShouldBe(1);
    }

    [Fact]
    public async Task Commit_SqliteDatabaseOrDiskIsFull_507NoRowAndTheStoredFileRemoved()
    {
        var full = new FullAtCommit();
        await using var app = await TestApp.StartAsync(Databases.Sqlite, services: s => s.ConfigureDbContext<AperturDb>(o => o.AddInterceptors(full)));
        var session = (await app.Client.CreateSessionAsync("{}")).SessionId();
        using var anonymous = app.CreateClient();

        full.Armed = true;
        using (var refused = await anonymous.UploadAsync(session, Fixture.Bytes("small.jpg"), "small.jpg"))
        {
            full.Armed = false;
            var error = await refused.ReadJsonAsync();
            ((int)refused.StatusCode).ShouldBe(507, error.ToString());
            error.GetProperty("code").GetString().ShouldBe("INSUFFICIENT_STORAGE");
            refused.Headers.RetryAfter.ShouldNotBeNull();
        }
        (await ImageCountAsync(app)).ShouldBe(0);
        Directory.GetFiles(Path.Combine(app.DataDirectory, "images"), "*", SearchOption.AllDirectories).ShouldBeEmpty("the row is absent: the file goes");
        app.Output.Text.ShouldContain("with 507: the server's storage is full (SQLite Error 13: 'database or disk is full'");

        using var accepted = await anonymous.UploadAsync(session, Fixture.Bytes("small.jpg"), "small.jpg");
        accepted.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task BelowTheMinimum_DashboardWarnsAndAcceptedImagesAreStillDelivered(string database)
    {
        await using var filesystem = await SmallFilesystem.MountAsync(16);
        await using var receiver = await TestReceiver.StartAsync();
        var clock = new ManualClock();
        var settings = OnFilesystem(filesystem, minFreeBytes: 4 * Megabyte);
        settings["Apertur:Bootstrap:AdminPassword"] = DashboardBrowser.AdminPassword;
        await using var app = await DeliveryKit.StartAsync(database, clock, settings);
        var session = await DeliveryKit.SessionAsync(app, await DeliveryKit.WebhookAsync(app, receiver.Url()));
        // The first attempt is refused, so the delivery is still queued when the disk fills.
        receiver.Respond = TestReceiver.Answer(503);
        var imageId = await DeliveryKit.UploadAsync(app, session);
        (await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1)).Status.ShouldBe(DeliveryStatus.Retrying);

        using var browser = await DashboardBrowser.SignInAsync(app);
        (await browser.PageAsync("/dashboard?all=true")).ShouldNotContain("disk-full");

        filesystem.Fill(leaveFree: Megabyte);
        // The server reads the free space at most once a second.
        var freeSpace = app.Services.GetRequiredService<FreeSpace>();
        await Wait.UntilAsync(() => Task.FromResult(freeSpace.Low() is not null), what: "the server to see the disk below the minimum");
        using (var refused = await app.CreateClient().UploadAsync(session, Fixture.Bytes("small.jpg")))
        {
            ((int)refused.StatusCode).ShouldBe(507);
        }
        var html = WebUtility.HtmlDecode(await browser.PageAsync("/dashboard?all=true"));
        html.ShouldContain("uploads are refused until space is freed");
        html.ShouldContain("the minimum is 4 MB");

        receiver.Respond = TestReceiver.Answer(200, "ok");
        (await CloudKit.NextAttemptAsync(app, clock, imageId)).Status.ShouldBe(DeliveryStatus.Sent);
        var delivered = (await receiver.WaitForAsync(2))[1];
        delivered.Body.Length.ShouldBeGreaterThan(Fixture.Bytes("small.jpg").Length);
    }

    private static async Task<int> ImageCountAsync(TestApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AperturDb>().Images.CountAsync();
    }

    /// <summary>SQLite's answer when its file cannot grow, at the COMMIT of a transaction, while armed.</summary>
    private sealed class FullAtCommit : DbTransactionInterceptor
    {
        public volatile bool Armed;

        public override ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData,
            InterceptionResult result, CancellationToken cancellationToken = default) =>
            Armed ? throw new SqliteException("SQLite Error 13: 'database or disk is full'.", 13) : ValueTask.FromResult(result);
    }

    /// <summary>A multipart upload whose file part starts and then never ends (until <see cref="End"/>).</summary>
    private sealed class UnendingUpload : HttpContent
    {
        private const string Boundary = "full-disk-test";
        private readonly TaskCompletionSource _end = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public UnendingUpload() => Headers.ContentType = MediaTypeHeaderValue.Parse($"multipart/form-data; boundary={Boundary}");

        public void End() => _end.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"--{Boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"));
            await stream.WriteAsync(Fixture.Bytes("small.jpg"));
            await stream.FlushAsync();
            await _end.Task;
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
