using System.Net;
using System.Net.Http.Headers;
using Apertur.IntegrationTests.Dashboard;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Images;
using Apertur.Server.Storage;
using Apertur.Tests;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.Formats.Jpeg;
using MetadataExtractor.Formats.Xmp;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Images;

/// <summary>The thumbnails of the dashboard and the upload page (docs/architecture.md "Images").</summary>
public sealed class ThumbnailTests
{
    private static readonly string[] Photos = ["small.jpg", "phone-photo.jpg", "screenshot.png", "photo.webp", "photo.heic"];

    private static string ContentType(string fixture) => Path.GetExtension(fixture) switch
    {
        ".png" => "image/png",
        ".webp" => "image/webp",
        ".heic" => "image/heic",
        _ => "image/jpeg",
    };

    private static async Task<System.Text.Json.JsonElement> UploadAsync(TestApp app, string sessionId, string fixture, string? password = null)
    {
        using var anonymous = app.CreateClient();
        using var response = await anonymous.UploadAsync(sessionId, Fixture.Bytes(fixture), fixture, ContentType(fixture), password: password);
        var body = await response.ReadJsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        return body;
    }

    /// <summary>Reads a JPEG with MetadataExtractor (not the library that wrote it): its size, and insists it carries no EXIF, GPS or XMP.</summary>
    private static (int Width, int Height) ReadBareJpeg(byte[] jpeg, string what)
    {
        var directories = ImageMetadataReader.ReadMetadata(new MemoryStream(jpeg));
        var header = directories.OfType<JpegDirectory>().Single();
        directories.OfType<ExifIfd0Directory>().ShouldBeEmpty(what);
        directories.OfType<GpsDirectory>().ShouldBeEmpty(what);
        directories.OfType<XmpDirectory>().ShouldBeEmpty(what);
        return (header.GetImageWidth(), header.GetImageHeight());
    }

    private static Thumbnails ThumbnailsOf(TestApp app) => app.Services.GetRequiredService<Thumbnails>();

    private static string ThumbnailFile(TestApp app, Guid imageId)
    {
        var name = imageId.ToString("N");
        return Path.Combine(app.DataDirectory, "thumbnails", name[..2], name + ".jpg");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Dashboard_EveryType_HeicIncluded_GetsASmallUprightJpegWithoutMetadata_MadeOnce(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var admin = await DashboardBrowser.SignInAsync(app);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        var session = (await app.Client.CreateSessionAsync("""{"max_images":10}""")).SessionId();
        var uploads = new List<(string Fixture, Guid Id, int Width, int Height)>();
        foreach (var fixture in Photos)
        {
            var body = await UploadAsync(app, session, fixture);
            uploads.Add((fixture, Guid.Parse(body.GetProperty("id").GetString()!), body.GetProperty("width").GetInt32(), body.GetProperty("height").GetInt32()));
        }

        var (_, page) = await admin.GetPageAsync($"/dashboard/projects/{projectId}/sessions/{session}");
        foreach (var (fixture, id, width, height) in uploads)
        {
            var url = $"/dashboard/projects/{projectId}/images/{id}/thumbnail";
            page.ShouldContain($"src=\"{url}\"", customMessage: fixture);
            using var response = await admin.Http.GetAsync(url);
            response.StatusCode.ShouldBe(HttpStatusCode.OK, fixture);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("image/jpeg", fixture);
            response.Headers.CacheControl!.Private.ShouldBeTrue(fixture);
            response.Headers.CacheControl.MaxAge.ShouldBe(TimeSpan.FromDays(1), fixture);
            response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"], fixture);
            var (w, h) = ReadBareJpeg(await response.Content.ReadAsByteArrayAsync(), fixture);
            Math.Max(w, h).ShouldBe(Thumbnails.LongestSide, fixture);
            if (fixture == "phone-photo.jpg")
            {
                // 2016×1512 stored with EXIF orientation 6 (turn right): upright it is portrait.
                (w, h).ShouldBe((240, 320));
            }
            else
            {
                // The aspect of the stored image, within a pixel of rounding.
                Math.Abs(((double)w / h) - ((double)width / height)).ShouldBeLessThan(0.01, fixture);
            }
        }
        ThumbnailsOf(app).Made.ShouldBe(Photos.Length);

        // Cached: asked again (and with the validator) nothing is made again.
        foreach (var (fixture, id, _, _) in uploads)
        {
            var url = $"/dashboard/projects/{projectId}/images/{id}/thumbnail";
            using var again = await admin.Http.GetAsync(url);
            again.StatusCode.ShouldBe(HttpStatusCode.OK, fixture);
            using var conditional = new HttpRequestMessage(HttpMethod.Get, url);
            conditional.Headers.IfNoneMatch.Add(again.Headers.ETag!);
            using var notModified = await admin.Http.SendAsync(conditional);
            notModified.StatusCode.ShouldBe(HttpStatusCode.NotModified, fixture);
        }
        ThumbnailsOf(app).Made.ShouldBe(Photos.Length);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Dashboard_HeicOpensAsAFullSizeJpeg(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var admin = await DashboardBrowser.SignInAsync(app);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        var body = await UploadAsync(app, session, "photo.heic");

        using var response = await admin.Http.GetAsync($"/dashboard/projects/{projectId}/images/{body.GetProperty("id").GetString()}");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.ShouldBe("image/jpeg");
        var header = ImageMetadataReader.ReadMetadata(new MemoryStream(await response.Content.ReadAsByteArrayAsync())).OfType<JpegDirectory>().Single();
        var (width, height) = (body.GetProperty("width").GetInt32(), body.GetProperty("height").GetInt32());
        (Math.Max(header.GetImageWidth(), header.GetImageHeight()), Math.Min(header.GetImageWidth(), header.GetImageHeight()))
            .ShouldBe((Math.Max(width, height), Math.Min(width, height)));
        // Nothing of the conversion is left behind in the temp directory.
        System.IO.Directory.EnumerateFiles(Path.Combine(app.DataDirectory, "tmp")).ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Dashboard_HostileOrBrokenImages_GetThePlaceholder_OnceTried_AndTheServerStaysUp(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var admin = await DashboardBrowser.SignInAsync(app);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        var session = (await app.Client.CreateSessionAsync("""{"max_images":10}""")).SessionId();
        // Stored as they are (the upload checks would refuse them): what a store restored from elsewhere, or a bug, could hold.
        var hostile = new List<(string Fixture, Guid Id)>();
        foreach (var (fixture, mime) in new[]
        {
            ("bomb-30000px.png", "image/png"), ("pdf-named.jpg", "image/jpeg"), ("html-named.png", "image/png"), ("empty.jpg", "image/jpeg"),
            ("script.svg", "image/png"), ("photo.heic", "image/jpeg"), ("small.jpg", "image/heic"),
        })
        {
            hostile.Add((fixture, await Seed.ImageAsync(app, session, Fixture.Bytes(fixture), fixture, mime)));
        }
        foreach (var (fixture, id) in hostile)
        {
            using var response = await admin.Http.GetAsync($"/dashboard/projects/{projectId}/images/{id}/thumbnail");
            response.StatusCode.ShouldBe(HttpStatusCode.OK, fixture);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("image/svg+xml", fixture);
            (await response.Content.ReadAsStringAsync()).ShouldBe(ThumbnailAnswers.Placeholder, fixture);
            response.Headers.CacheControl!.NoCache.ShouldBeTrue(fixture);
        }
        // Tried once: the second time the mark answers without decoding.
        var made = ThumbnailsOf(app).Made;
        var failedMarks = System.IO.Directory.EnumerateFiles(Path.Combine(app.DataDirectory, "thumbnails"), "*.failed", SearchOption.AllDirectories).Count();
        failedMarks.ShouldBe(hostile.Count);
        foreach (var (fixture, id) in hostile)
        {
            using var again = await admin.Http.GetAsync($"/dashboard/projects/{projectId}/images/{id}/thumbnail");
            again.Content.Headers.ContentType!.MediaType.ShouldBe("image/svg+xml", fixture);
        }
        ThumbnailsOf(app).Made.ShouldBe(made);

        using var live = await app.CreateClient().GetAsync("/healthz/live");
        live.StatusCode.ShouldBe(HttpStatusCode.OK);
        var good = await UploadAsync(app, session, "small.jpg");
        using var fine = await admin.Http.GetAsync($"/dashboard/projects/{projectId}/images/{good.GetProperty("id").GetString()}/thumbnail");
        fine.Content.Headers.ContentType!.MediaType.ShouldBe("image/jpeg");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Thumbnails_GoWithTheirImages_ErasureRetentionAndTheSweepOfOtherReplicas(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var admin = await DashboardBrowser.SignInAsync(app);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        var erased = (await app.Client.CreateSessionAsync()).SessionId();
        var kept = (await app.Client.CreateSessionAsync("""{"max_images":10}""")).SessionId();
        var erasedImage = Guid.Parse((await UploadAsync(app, erased, "small.jpg")).GetProperty("id").GetString()!);
        var keptImage = Guid.Parse((await UploadAsync(app, kept, "small.jpg")).GetProperty("id").GetString()!);
        var elsewhereDeleted = Guid.Parse((await UploadAsync(app, kept, "photo.webp")).GetProperty("id").GetString()!);
        var broken = await Seed.ImageAsync(app, kept, Fixture.Bytes("truncated.jpg"), "broken.jpg", "image/png");
        foreach (var id in new[] { erasedImage, keptImage, elsewhereDeleted, broken })
        {
            using var response = await admin.Http.GetAsync($"/dashboard/projects/{projectId}/images/{id}/thumbnail");
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        File.Exists(ThumbnailFile(app, erasedImage)).ShouldBeTrue();

        // The erasure removes the thumbnail with the bytes, and the route no longer answers.
        using (var deleted = await app.Client.DeleteAsync($"/api/v1/upload-sessions/{erased}"))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }
        File.Exists(ThumbnailFile(app, erasedImage)).ShouldBeFalse();
        using (var gone = await admin.Http.GetAsync($"/dashboard/projects/{projectId}/images/{erasedImage}/thumbnail"))
        {
            gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        // Bytes deleted by another replica (only the row says so here), a row purged, a stray file: this replica's sweep.
        await Manage.DbAsync(app, d => d.Images.Where(i => i.Id == elsewhereDeleted || i.Id == broken)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.BytesDeletedAt, DateTimeOffset.UnixEpoch).SetProperty(i => i.BytesDeletedReason, "retention")));
        var unknown = ThumbnailFile(app, Guid.CreateVersion7());
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(unknown)!);
        await File.WriteAllBytesAsync(unknown, [1, 2, 3]);
        var stray = Path.Combine(app.DataDirectory, "thumbnails", "stray.txt");
        await File.WriteAllTextAsync(stray, "?");
        (await ThumbnailsOf(app).SweepAsync(CancellationToken.None)).ShouldBe(4); // webp's jpg, broken's mark, the unknown one, the stray file
        File.Exists(ThumbnailFile(app, elsewhereDeleted)).ShouldBeFalse();
        File.Exists(unknown).ShouldBeFalse();
        File.Exists(stray).ShouldBeFalse();
        File.Exists(ThumbnailFile(app, keptImage)).ShouldBeTrue();

        // The orphan check does not take thumbnails for images without a row.
        var report = await app.Services.GetRequiredService<OrphanCheck>().CheckAsync(CancellationToken.None);
        report.OrphanFiles.ShouldBeEmpty();
        File.Exists(ThumbnailFile(app, keptImage)).ShouldBeTrue();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Thumbnails_GoWithTheRetentionSweep(string db)
    {
        var clock = new ManualClock();
        await using var app = await DashboardBrowser.StartAppAsync(db, new Dictionary<string, string?>
        {
            ["Apertur:Retention:MaxImageAge"] = "1.00:00:00",
            ["Apertur:Retention:ImagesAfterDelivery"] = "1.00:00:00",
        }, clock);
        using var admin = await DashboardBrowser.SignInAsync(app);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        var image = Guid.Parse((await UploadAsync(app, session, "small.jpg")).GetProperty("id").GetString()!);
        using (var response = await admin.Http.GetAsync($"/dashboard/projects/{projectId}/images/{image}/thumbnail"))
        {
            response.Content.Headers.ContentType!.MediaType.ShouldBe("image/jpeg");
        }
        File.Exists(ThumbnailFile(app, image)).ShouldBeTrue();

        clock.Advance(TimeSpan.FromDays(2));
        await app.Services.GetRequiredService<Apertur.Server.Retention.ImageRetention>().SweepAsync(CancellationToken.None);
        File.Exists(ThumbnailFile(app, image)).ShouldBeFalse();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task UploadPage_ThumbnailUrl_OnlyForItsUploader_WhileTheSessionIsOpen(string db)
    {
        var clock = new ManualClock();
        await using var app = await DashboardBrowser.StartAppAsync(db, clock: clock);
        var session = (await app.Client.CreateSessionAsync("""{"password":"open sesame","max_images":5}""")).SessionId();
        var other = (await app.Client.CreateSessionAsync()).SessionId();
        var body = await UploadAsync(app, session, "photo.heic", password: "open sesame");
        var imageId = body.GetProperty("id").GetString()!;
        var link = new Uri(body.GetProperty("thumbnail_url").GetString()!);
        link.AbsolutePath.ShouldBe($"/u/{session}/thumbnails/{imageId}");
        using var anonymous = app.CreateClient();

        using (var response = await anonymous.GetAsync(link.PathAndQuery))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            response.Content.Headers.ContentType!.MediaType.ShouldBe("image/jpeg");
            var (w, h) = ReadBareJpeg(await response.Content.ReadAsByteArrayAsync(), "heic");
            Math.Max(w, h).ShouldBe(Thumbnails.LongestSide);
        }
        var sig = link.Query[(link.Query.IndexOf("sig=", StringComparison.Ordinal) + 4)..];
        var forged = sig[..^1] + (sig[^1] == '0' ? '1' : '0');
        foreach (var url in new[]
        {
            $"/u/{session}/thumbnails/{imageId}",
            $"/u/{session}/thumbnails/{imageId}?sig={forged}",
            $"/u/{session}/thumbnails/{imageId}?sig=xyz",
            $"/u/{other}/thumbnails/{imageId}?sig={sig}",
            $"/u/{session}/thumbnails/{Guid.CreateVersion7()}?sig={sig}",
        })
        {
            using var refused = await anonymous.GetAsync(url);
            refused.StatusCode.ShouldBe(HttpStatusCode.NotFound, url);
        }

        // Past the session's expiry the link answers nothing more.
        clock.Advance(TimeSpan.FromDays(400));
        using var expired = await anonymous.GetAsync(link.PathAndQuery);
        expired.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task UploadPage_ThumbnailUrl_AnswersNothingOnceTheSessionIsDeleted(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        var link = new Uri((await UploadAsync(app, session, "small.jpg")).GetProperty("thumbnail_url").GetString()!);
        using var anonymous = app.CreateClient();
        using (var response = await anonymous.GetAsync(link.PathAndQuery))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        using (var deleted = await app.Client.DeleteAsync($"/api/v1/upload-sessions/{session}"))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        }
        using var gone = await anonymous.GetAsync(link.PathAndQuery);
        gone.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
