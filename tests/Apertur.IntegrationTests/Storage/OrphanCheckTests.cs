using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Server.Storage;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Storage;

/// <summary>
/// What a crash leaves behind is cleaned or reported by the orphan check (docs/operations.md "Crash leftovers"): stale
/// upload temp files, stored images without a row (deleted once older than <c>MaxImageAge</c>), bytes a failed delete left,
/// rows whose bytes are missing (reported only). The pass is called directly on a manual clock; the background job is off
/// (the tests' workers are off).
/// </summary>
public sealed class OrphanCheckTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task StaleTempFile_RemovedByAPass_NotOnlyAtStart(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, clock: clock);
        var stale = Path.Combine(app.TempDirectory(), "crashed-upload.part");
        var fresh = Path.Combine(app.TempDirectory(), "live-upload.part");
        await File.WriteAllBytesAsync(stale, [1]);
        await File.WriteAllBytesAsync(fresh, [2]);
        File.SetLastWriteTimeUtc(stale, (clock.GetUtcNow() - TimeSpan.FromDays(2)).UtcDateTime);
        File.SetLastWriteTimeUtc(fresh, (clock.GetUtcNow() - TimeSpan.FromHours(1)).UtcDateTime);
        var check = app.Services.GetRequiredService<OrphanCheck>();

        check.SweepTempFiles().ShouldBe(1);
        var report = await check.CheckAsync(CancellationToken.None);

        File.Exists(stale).ShouldBeFalse("a day old: no live upload owns it");
        File.Exists(fresh).ShouldBeTrue("an upload may still be writing it");
        report.TempFilesRemoved.ShouldBe(1);
        app.Output.Text.ShouldContain("1 stale temp files removed");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ImageWithoutRow_ReportedWhileYoung_DeletedOnceOlderThanMaxImageAge(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, clock: clock);
        var kept = await Seed.ImageAsync(app, (await app.Client.CreateSessionAsync("{}")).SessionId(), [1, 2, 3]);
        var orphan = await PutWithoutRowAsync(app, clock.GetUtcNow() - TimeSpan.FromDays(2));
        var inFlight = await PutWithoutRowAsync(app, clock.GetUtcNow() - TimeSpan.FromMinutes(1));
        var check = app.Services.GetRequiredService<OrphanCheck>();

        var first = await check.CheckAsync(CancellationToken.None);
        first.FilesChecked.ShouldBe(3);
        first.OrphanFiles.ShouldBe([orphan], "an upload between its put and its commit is no orphan");
        first.DeletedFiles.ShouldBeEmpty("younger than MaxImageAge: a restored database may lack its row");
        (await ExistsAsync(app, orphan)).ShouldBeTrue();
        app.Output.Text.ShouldContain($"Warning Apertur.Server.Storage.OrphanCheck: Orphan check: 1 stored images have no row in the database: {orphan}");

        clock.Advance(TimeSpan.FromDays(28));
        var second = await check.CheckAsync(CancellationToken.None);
        second.DeletedFiles.ShouldBe([orphan], "thirty days old: no image is kept that long");
        (await ExistsAsync(app, orphan)).ShouldBeFalse();
        (await ExistsAsync(app, inFlight)).ShouldBeTrue();
        (await ExistsAsync(app, kept)).ShouldBeTrue("an image with its row is never touched");
        second.RowsWithoutBytes.ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task RowWhoseFileWasDeletedByHand_ReportedAndLeftAsItIs(string database)
    {
        await using var app = await TestApp.StartAsync(database, clock: new ManualClock());
        var session = (await app.Client.CreateSessionAsync("{}")).SessionId();
        var lost = await Seed.ImageAsync(app, session, [1, 2, 3]);
        var whole = await Seed.ImageAsync(app, session, [4, 5, 6]);
        await app.Services.GetRequiredService<IImageStore>().DeleteAsync(lost, CancellationToken.None);

        var report = await app.Services.GetRequiredService<OrphanCheck>().CheckAsync(CancellationToken.None);

        report.RowsChecked.ShouldBe(2);
        report.RowsWithoutBytes.ShouldBe([lost]);
        app.Output.Text.ShouldContain($"Orphan check: 1 images have a row but no bytes in the image store: {lost}");
        app.Output.Text.ShouldContain("1 rows without bytes");
        var row = await app.ReadStorageAsync(db => db.Images.AsNoTracking().SingleAsync(i => i.Id == lost));
        row.BytesDeletedAt.ShouldBeNull("reported, never changed");
        (await ExistsAsync(app, whole)).ShouldBeTrue();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task BytesLeftByAFailedDelete_RemovedByThePass(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, clock: clock);
        var imageId = await Seed.ImageAsync(app, (await app.Client.CreateSessionAsync("{}")).SessionId(), [1, 2, 3]);
        await using (var scope = app.Services.CreateAsyncScope())
        {
            // What the retention sweep commits before it removes the bytes: here the removal never happened.
            var now = clock.GetUtcNow();
            await scope.ServiceProvider.GetRequiredService<AperturDb>().Images.Where(i => i.Id == imageId)
                .ExecuteUpdateAsync(s => s.SetProperty(i => i.BytesDeletedAt, now).SetProperty(i => i.BytesDeletedReason, "retention"));
        }

        var report = await app.Services.GetRequiredService<OrphanCheck>().CheckAsync(CancellationToken.None);

        report.DeletedFiles.ShouldBe([imageId]);
        report.OrphanFiles.ShouldBeEmpty();
        report.RowsWithoutBytes.ShouldBeEmpty("its bytes are meant to be gone");
        (await ExistsAsync(app, imageId)).ShouldBeFalse();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task S3Store_ImageWithoutRowAndRowWithoutBytes_Found(string database)
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        // The bucket stamps objects with the real time: the manual clock starts there.
        var clock = new ManualClock(TimeProvider.System.GetUtcNow());
        await using var app = await TestApp.StartAsync(database, S3ImageStoreTests.S3Settings(bucket, prefix: "site-a/"), clock);
        var session = (await app.Client.CreateSessionAsync("{}")).SessionId();
        var kept = await Seed.ImageAsync(app, session, [1, 2, 3]);
        var lost = await Seed.ImageAsync(app, session, [4, 5, 6]);
        var orphan = await PutWithoutRowAsync(app, writtenAt: null);
        await app.Services.GetRequiredService<IImageStore>().DeleteAsync(lost, CancellationToken.None);
        var check = app.Services.GetRequiredService<OrphanCheck>();

        clock.Advance(TimeSpan.FromDays(2));
        var first = await check.CheckAsync(CancellationToken.None);
        first.FilesChecked.ShouldBe(2);
        first.OrphanFiles.ShouldBe([orphan]);
        first.DeletedFiles.ShouldBeEmpty();
        first.RowsWithoutBytes.ShouldBe([lost]);

        clock.Advance(TimeSpan.FromDays(29));
        (await check.CheckAsync(CancellationToken.None)).DeletedFiles.ShouldBe([orphan], "over thirty days after it was written");
        (await s3.ListAsync(bucket)).ShouldBe([$"site-a/images/{kept:N}"]);
    }

    /// <summary>Stores bytes under a fresh id with no row (a crash between the store and the commit); sets the file's time on the local store.</summary>
    private static async Task<Guid> PutWithoutRowAsync(TestApp app, DateTimeOffset? writtenAt)
    {
        var id = await LocalDiskImageStoreTests.PutAsync(app.Services.GetRequiredService<IImageStore>(), [7, 7, 7]);
        if (writtenAt is { } at)
        {
            File.SetLastWriteTimeUtc(LocalDiskImageStore.PathOf(Path.Combine(app.DataDirectory, "images"), id), at.UtcDateTime);
        }
        return id;
    }

    private static async Task<bool> ExistsAsync(TestApp app, Guid imageId)
    {
        await using var stream = await app.Services.GetRequiredService<IImageStore>().OpenReadAsync(imageId, CancellationToken.None);
        return stream is not null;
    }
}
