using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Server.Destinations;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Uploads;

public sealed class UploadsApiTests
{
    private static readonly (string Fixture, string Mime, string Filename, int Width, int Height)[] ValidFixtures =
    [
        ("phone-photo.jpg", "image/jpeg", "phone-photo.jpg", 2016, 1512),
        ("small.jpg", "image/jpeg", "small.jpg", 640, 480),
        ("screenshot.png", "image/png", "screenshot.png", 800, 600),
        ("photo.webp", "image/webp", "photo.webp", 2016, 1512),
        ("photo.heic", "image/heic", "photo.heic", 1280, 960),
        ("polyglot.jpg", "image/jpeg", "polyglot.jpg", 0, 0),
    ];

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_ValidFixtures_Answer201AndDownloadIdentically(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync("""{"max_images":20}""")).SessionId();
        using var anonymous = app.CreateClient();
        foreach (var (fixture, mime, filename, width, height) in ValidFixtures)
        {
            var bytes = Fixture.Bytes(fixture);
            // Every file is declared a JPEG: the server must believe only the bytes.
            using var response = await anonymous.UploadAsync(session, bytes, fixture, "image/jpeg");
            response.StatusCode.ShouldBe(HttpStatusCode.Created, fixture);
            var body = await response.ReadJsonAsync();
            body.GetProperty("id").GetString().ShouldNotBeNullOrEmpty();
            body.GetProperty("filename").GetString().ShouldBe(filename);
            body.GetProperty("size_bytes").GetInt64().ShouldBe(bytes.Length);
            body.GetProperty("destinations").GetInt32().ShouldBe(0);
            body.GetProperty("long_polling").GetBoolean().ShouldBeFalse();
            body.GetProperty("mime_type").GetString().ShouldBe(mime, fixture);
            if (width > 0)
            {
                body.GetProperty("width").GetInt32().ShouldBe(width, fixture);
                body.GetProperty("height").GetInt32().ShouldBe(height, fixture);
            }

            using var download = await app.Client.GetAsync($"/api/v1/uploads/{body.GetProperty("id").GetString()}/download");
            download.StatusCode.ShouldBe(HttpStatusCode.OK);
            download.Content.Headers.ContentType!.MediaType.ShouldBe(mime);
            download.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
            download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
            download.Content.Headers.ContentDisposition.FileNameStar.ShouldBe(filename);
            (await download.Content.ReadAsByteArrayAsync()).ShouldBe(bytes, fixture);
        }
        app.TempFiles().ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_HostileFixtures_AreRefusedWithClearErrors(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync("""{"max_images":20}""")).SessionId();
        using var anonymous = app.CreateClient();
        foreach (var (fixture, status, code, says) in new[]
        {
            ("pdf-named.jpg", 415, "UNSUPPORTED_MEDIA_TYPE", "PDF"),
            ("html-named.png", 415, "UNSUPPORTED_MEDIA_TYPE", "HTML"),
            ("script.svg", 415, "UNSUPPORTED_MEDIA_TYPE", "SVG"),
            ("animation.gif", 415, "UNSUPPORTED_MEDIA_TYPE", "GIF"),
            ("empty.jpg", 400, "EMPTY_FILE", "empty"),
            ("truncated.jpg", 400, "INVALID_IMAGE", "truncated"),
            ("bomb-30000px.png", 422, "IMAGE_DIMENSION_EXCEEDED", "30000×30000"),
        })
        {
            using var response = await anonymous.UploadAsync(session, Fixture.Bytes(fixture), fixture, "image/jpeg");
            ((int)response.StatusCode).ShouldBe(status, fixture);
            var body = await response.ReadJsonAsync();
            body.GetProperty("code").GetString().ShouldBe(code, fixture);
            body.GetProperty("message").GetString()!.ShouldContain(says, Case.Insensitive, fixture);
        }
        await using var scope = app.Services.CreateAsyncScope();
        (await scope.ServiceProvider.GetRequiredService<AperturDb>().Images.CountAsync()).ShouldBe(0);
        app.TempFiles().ShouldBeEmpty();
        var detail = await (await app.Client.GetAsync($"/api/v1/upload/{session}/session")).ReadJsonAsync();
        detail.GetProperty("imagesCount").GetInt32().ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_Polyglot_IsServedOnlyAsJpegWithNosniff(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        using var response = await anonymous.UploadAsync(session, Fixture.Bytes("polyglot.jpg"), "shell.php", "application/x-php");
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await response.ReadJsonAsync();
        body.GetProperty("filename").GetString().ShouldBe("shell.php.jpg");
        using var download = await app.Client.GetAsync($"/api/v1/uploads/{body.GetProperty("id").GetString()}/download");
        download.Content.Headers.ContentType!.ToString().ShouldBe("image/jpeg");
        download.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
        download.Content.Headers.ContentDisposition!.DispositionType.ShouldBe("attachment");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_OverTheSessionSizeLimit_Answers413AndLeavesNoTempFile(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync("""{"max_image_size_mb":1}""")).SessionId();
        var big = new byte[2 * 1024 * 1024];
        big[0] = 0xFF; big[1] = 0xD8; big[2] = 0xFF; big[3] = 0xE0;
        using var anonymous = app.CreateClient();

        // Known length: refused from Content-Length; unknown length (chunked): refused while streaming.
        using var known = await anonymous.UploadAsync(session, big);
        known.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await known.ReadErrorCodeAsync()).ShouldBe("FILE_TOO_LARGE");

        var form = new MultipartFormDataContent();
        var file = new StreamContent(new UnseekableStream(big));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "file", "big.jpg");
        using var streamed = await anonymous.UploadAsync(session, form);
        streamed.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await streamed.ReadErrorCodeAsync()).ShouldBe("FILE_TOO_LARGE");

        app.TempFiles().ShouldBeEmpty();
        (await anonymous.UploadAsync(session, Fixture.Bytes("small.jpg"))).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_ClientDisconnectsMidBody_LeavesNoTempFileAndNoImage(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        using var abort = new CancellationTokenSource();
        var form = new MultipartFormDataContent();
        form.Add(new StreamContent(new StallingStream(Fixture.Bytes("phone-photo.jpg"), stallAfter: 200_000)), "file", "photo.jpg");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/upload/{session}/images") { Content = form };
        var sending = anonymous.SendAsync(request, abort.Token);

        // The server is streaming into its temp file when the client goes away.
        await WaitUntilAsync(() => app.TempFiles().Length == 1);
        await abort.CancelAsync();
        await Should.ThrowAsync<OperationCanceledException>(() => sending);

        await WaitUntilAsync(() => app.TempFiles().Length == 0);
        await using var scope = app.Services.CreateAsyncScope();
        (await scope.ServiceProvider.GetRequiredService<AperturDb>().Images.CountAsync()).ShouldBe(0);
        (await anonymous.UploadAsync(session, Fixture.Bytes("small.jpg"))).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }
        condition().ShouldBeTrue();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_SessionStates_AnswerContractCodes(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        using var anonymous = app.CreateClient();
        var jpeg = Fixture.Bytes("small.jpg");

        foreach (var id in new[] { Guid.CreateVersion7().ToString(), "not-a-uuid" })
        {
            using var missing = await anonymous.UploadAsync(id, jpeg);
            missing.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            (await missing.ReadErrorCodeAsync()).ShouldBe("SESSION_NOT_FOUND");
        }

        var expiring = (await app.Client.CreateSessionAsync()).SessionId();
        clock.Advance(TimeSpan.FromHours(1));
        using var expired = await anonymous.UploadAsync(expiring, jpeg);
        expired.StatusCode.ShouldBe(HttpStatusCode.Gone);
        (await expired.ReadErrorCodeAsync()).ShouldBe("SESSION_EXPIRED");

        var single = (await app.Client.CreateSessionAsync("""{"max_images":1}""")).SessionId();
        using (var first = await anonymous.UploadAsync(single, jpeg))
        {
            first.StatusCode.ShouldBe(HttpStatusCode.Created);
            (await first.ReadJsonAsync()).GetProperty("image_index").GetInt32().ShouldBe(0);
        }
        using var full = await anonymous.UploadAsync(single, jpeg);
        full.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await full.ReadErrorCodeAsync()).ShouldBe("SESSION_FULL");
        var detail = await (await anonymous.GetAsync($"/api/v1/upload/{single}/session")).ReadJsonAsync();
        detail.GetProperty("status").GetString().ShouldBe("completed");
        detail.GetProperty("imagesCount").GetInt32().ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_PasswordSession_NeedsTheRightHeader(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync("""{"password":"hunter22"}""")).SessionId();
        using var anonymous = app.CreateClient();
        var jpeg = Fixture.Bytes("small.jpg");

        using var none = await anonymous.UploadAsync(session, UploadClient.Multipart(jpeg));
        none.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await none.ReadErrorCodeAsync()).ShouldBe("SESSION_PASSWORD_REQUIRED");
        using var wrong = await anonymous.UploadAsync(session, UploadClient.Multipart(jpeg), password: "hunter2");
        wrong.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await wrong.ReadErrorCodeAsync()).ShouldBe("SESSION_PASSWORD_INVALID");
        using var right = await anonymous.UploadAsync(session, UploadClient.Multipart(jpeg), password: "hunter22");
        right.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_Source_IsValidatedInEitherPartOrder(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync("""{"max_images":10}""")).SessionId();
        // SDKs send their key on public endpoints, even a stale one: it is ignored.
        using var client = app.CreateClient("aptr_live_" + new string('x', 32));
        var jpeg = Fixture.Bytes("small.jpg");

        foreach (var (source, first) in new[] { ("gallery", true), ("sdk", false), ("my-app_2", true) })
        {
            using var ok = await client.UploadAsync(session, UploadClient.Multipart(jpeg, source: source, sourceFirst: first));
            ok.StatusCode.ShouldBe(HttpStatusCode.Created, source);
        }
        using (var noSource = await client.UploadAsync(session, UploadClient.Multipart(jpeg)))
        {
            noSource.StatusCode.ShouldBe(HttpStatusCode.Created);
        }
        foreach (var (source, first) in new[] { ("Camera", true), ("", false), (new string('a', 33), false), ("camera\n", true), ("büro", false) })
        {
            using var bad = await client.UploadAsync(session, UploadClient.Multipart(jpeg, source: source, sourceFirst: first));
            bad.StatusCode.ShouldBe(HttpStatusCode.BadRequest, source);
            (await bad.ReadErrorCodeAsync()).ShouldBe("INVALID_SOURCE");
        }
        var rows = await (await app.Client.GetAsync("/api/v1/uploads/recent?limit=50")).ReadJsonAsync();
        rows.EnumerateArray().Select(r => r.GetProperty("source").GetString()).Order().ShouldBe(["camera", "gallery", "my-app_2", "sdk"]);
        app.TempFiles().ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_Filenames_PreferFilenameStarAndAreSanitised(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync("""{"max_images":10}""")).SessionId();
        using var anonymous = app.CreateClient();
        var png = Fixture.Bytes("screenshot.png");

        async Task<string> UploadWithDisposition(string disposition)
        {
            var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(png);
            file.Headers.TryAddWithoutValidation("Content-Disposition", disposition).ShouldBeTrue();
            form.Add(file);
            using var response = await anonymous.UploadAsync(session, form);
            var body = await response.ReadJsonAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
            return body.GetProperty("filename").GetString()!;
        }

        (await UploadWithDisposition("form-data; name=\"file\"; filename=\"fallback.png\"; filename*=utf-8''%C3%A9t%C3%A9%20photo.png")).ShouldBe("été photo.png");
        (await UploadWithDisposition("form-data; name=\"file\"; filename=\"../../etc/passwd\"")).ShouldBe("passwd.png");
        (await UploadWithDisposition("form-data; name=\"file\"; filename=\"C:\\\\Users\\\\me\\\\shot.JPG\"")).ShouldBe("shot.png");
        (await UploadWithDisposition("form-data; name=\"file\"; filename=\"...\"")).ShouldBe("image.png");
        (await UploadWithDisposition("form-data; name=\"file\"")).ShouldBe("image.png");
        // .NET's MultipartFormDataContent always adds filename*: a non-ASCII name survives.
        using var dotnet = await anonymous.UploadAsync(session, png, "Café <menu>.png", "image/png");
        (await dotnet.ReadJsonAsync()).GetProperty("filename").GetString().ShouldBe("Café _menu_.png");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_MalformedRequests_Answer4xxNot500(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();

        var onlySource = new MultipartFormDataContent { { new StringContent("camera"), "source" } };
        using (var noFile = await anonymous.UploadAsync(session, onlySource))
        {
            noFile.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await noFile.ReadErrorCodeAsync()).ShouldBe("FILE_REQUIRED");
        }
        using (var raw = await anonymous.UploadAsync(session, new ByteArrayContent(Fixture.Bytes("small.jpg")) { Headers = { ContentType = new MediaTypeHeaderValue("image/jpeg") } }))
        {
            raw.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
            (await raw.ReadErrorCodeAsync()).ShouldBe("UNSUPPORTED_MEDIA_TYPE");
        }
        var broken = new StringContent("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n\u00ff\u00d8", Encoding.Latin1);
        broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        using (var truncated = await anonymous.UploadAsync(session, broken))
        {
            truncated.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await truncated.ReadErrorCodeAsync()).ShouldNotBeNullOrEmpty();
        }
        var twoFiles = UploadClient.Multipart(Fixture.Bytes("small.jpg"));
        twoFiles.Add(new ByteArrayContent(Fixture.Bytes("small.jpg")), "file", "b.jpg");
        using (var two = await anonymous.UploadAsync(session, twoFiles))
        {
            two.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        }
        app.TempFiles().ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_SessionTypeAndDimensionLimits_AreEnforced(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var anonymous = app.CreateClient();
        var pngOnly = (await app.Client.CreateSessionAsync("""{"allowed_mime_types":["image/png"]}""")).SessionId();
        using (var jpeg = await anonymous.UploadAsync(pngOnly, Fixture.Bytes("small.jpg")))
        {
            jpeg.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
            (await jpeg.ReadJsonAsync()).GetProperty("message").GetString()!.ShouldContain("image/png");
        }
        (await anonymous.UploadAsync(pngOnly, Fixture.Bytes("screenshot.png"), "s.png", "image/png")).StatusCode.ShouldBe(HttpStatusCode.Created);

        var small = (await app.Client.CreateSessionAsync("""{"max_image_dimension":1000}""")).SessionId();
        using (var large = await anonymous.UploadAsync(small, Fixture.Bytes("phone-photo.jpg")))
        {
            large.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
            (await large.ReadErrorCodeAsync()).ShouldBe("IMAGE_DIMENSION_EXCEEDED");
        }
        (await anonymous.UploadAsync(small, Fixture.Bytes("small.jpg"))).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_ServerPixelLimitSetting_IsEnforced(string db)
    {
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?> { ["Apertur:Uploads:MaxPixels"] = "1000000" });
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        using var tooMany = await anonymous.UploadAsync(session, Fixture.Bytes("phone-photo.jpg"));
        tooMany.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
        (await tooMany.ReadErrorCodeAsync()).ShouldBe("IMAGE_DIMENSION_EXCEEDED");
        (await anonymous.UploadAsync(session, Fixture.Bytes("small.jpg"))).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_InParallel_AcceptsExactlyMaxImagesWithUniqueIndices(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync("""{"max_images":3}""")).SessionId();
        using var anonymous = app.CreateClient();
        var jpeg = Fixture.Bytes("small.jpg");

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => anonymous.UploadAsync(session, jpeg)));
        var accepted = responses.Where(r => r.StatusCode == HttpStatusCode.Created).ToList();
        accepted.Count.ShouldBe(3);
        var indices = await Task.WhenAll(accepted.Select(async r => (await r.ReadJsonAsync()).GetProperty("image_index").GetInt32()));
        indices.Order().ShouldBe([0, 1, 2]);
        foreach (var rejected in responses.Except(accepted))
        {
            rejected.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
            (await rejected.ReadErrorCodeAsync()).ShouldBe("SESSION_FULL");
        }
        foreach (var r in responses)
        {
            r.Dispose();
        }

        await using var scope = app.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<AperturDb>();
        (await database.Images.CountAsync()).ShouldBe(3);
        var stored = await database.Sessions.AsNoTracking().SingleAsync(s => s.Id == Guid.Parse(session));
        stored.ImageCount.ShouldBe(3);
        stored.Status.ShouldBe("completed");
        Directory.GetFiles(Path.Combine(app.DataDirectory, "images"), "*", SearchOption.AllDirectories).Length.ShouldBe(3);
        app.TempFiles().ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_WithDestinations_QueuesOnePendingDeliveryEach(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var (hook, bucket) = await AddDestinationsAsync(app);
        var created = await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{hook}}","{{bucket}}"],"long_polling":true}""");
        using var anonymous = app.CreateClient();

        using var response = await anonymous.UploadAsync(created.SessionId(), Fixture.Bytes("small.jpg"));
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await response.ReadJsonAsync();
        body.GetProperty("destinations").GetInt32().ShouldBe(2);
        body.GetProperty("long_polling").GetBoolean().ShouldBeTrue();

        await using var scope = app.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var imageId = Guid.Parse(body.GetProperty("id").GetString()!);
        var image = await database.Images.AsNoTracking().SingleAsync(i => i.Id == imageId);
        image.InPollQueue.ShouldBeTrue();
        var deliveries = await database.Deliveries.AsNoTracking().Where(d => d.ImageId == imageId).ToListAsync();
        deliveries.Select(d => d.DestinationId).Order().ShouldBe(new[] { hook, bucket }.Order());
        deliveries.ShouldAllBe(d => d.Status == "pending" && d.Attempts == 0 && d.NextAttemptAt == clock.GetUtcNow()
            && d.SessionId == Guid.Parse(created.SessionId()));
    }

    // The session is checked before the body and its slot claimed at the commit: one closed in between answers as closed
    // then (the claim finds no slot) and nothing of the upload stays.
    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_SessionClosedWhileTheBodyArrives_AnswersAsTheClosedSessionAndStoresNothing(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        using var anonymous = app.CreateClient();

        var expiring = (await app.Client.CreateSessionAsync()).SessionId();
        using (var expired = await UploadHeldAsync(app, expiring, () => { clock.Advance(TimeSpan.FromHours(1)); return Task.CompletedTask; }))
        {
            expired.StatusCode.ShouldBe(HttpStatusCode.Gone);
            (await expired.ReadErrorCodeAsync()).ShouldBe("SESSION_EXPIRED");
            (await expired.ReadJsonAsync()).GetProperty("message").GetString().ShouldBe("This upload session has expired.");
        }

        var deleting = (await app.Client.CreateSessionAsync()).SessionId();
        using (var deleted = await UploadHeldAsync(app, deleting, async () =>
            (await app.Client.DeleteAsync($"/api/v1/upload-sessions/{deleting}")).StatusCode.ShouldBe(HttpStatusCode.NoContent)))
        {
            deleted.StatusCode.ShouldBe(HttpStatusCode.Gone);
            (await deleted.ReadErrorCodeAsync()).ShouldBe("SESSION_EXPIRED");
            (await deleted.ReadJsonAsync()).GetProperty("message").GetString().ShouldBe("This upload session was deleted.");
        }

        var single = (await app.Client.CreateSessionAsync("""{"max_images":1}""")).SessionId();
        using (var full = await UploadHeldAsync(app, single, async () =>
            (await anonymous.UploadAsync(single, Fixture.Bytes("small.jpg"))).StatusCode.ShouldBe(HttpStatusCode.Created)))
        {
            full.StatusCode.ShouldBe(HttpStatusCode.UnprocessableEntity);
            (await full.ReadErrorCodeAsync()).ShouldBe("SESSION_FULL");
        }

        await using var scope = app.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<AperturDb>();
        (await database.Images.AsNoTracking().Select(i => i.SessionId).ToListAsync()).ShouldBe([Guid.Parse(single)]);
        (await database.Sessions.AsNoTracking().Where(s => s.ImageCount > 0).Select(s => s.Id).ToListAsync()).ShouldBe([Guid.Parse(single)]);
        Directory.GetFiles(Path.Combine(app.DataDirectory, "images"), "*", SearchOption.AllDirectories).Length.ShouldBe(1);
        app.TempFiles().ShouldBeEmpty();
    }

    // The destinations are read in the commit's transaction: one deactivated while the body arrives gets no delivery.
    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_DestinationDeactivatedWhileTheBodyArrives_GetsNoDelivery(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (hook, bucket) = await AddDestinationsAsync(app);
        var session = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{hook}}","{{bucket}}"]}""")).SessionId();

        using var response = await UploadHeldAsync(app, session, async () =>
        {
            await using var scope = app.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<AperturDb>().Destinations.Where(d => d.Id == bucket)
                .ExecuteUpdateAsync(set => set.SetProperty(d => d.IsActive, false));
        });
        response.StatusCode.ShouldBe(HttpStatusCode.Created);
        var body = await response.ReadJsonAsync();
        body.GetProperty("destinations").GetInt32().ShouldBe(1);
        await using var check = app.Services.CreateAsyncScope();
        var imageId = Guid.Parse(body.GetProperty("id").GetString()!);
        (await check.ServiceProvider.GetRequiredService<AperturDb>().Deliveries.AsNoTracking().Where(d => d.ImageId == imageId)
            .Select(d => d.DestinationId).ToListAsync()).ShouldBe([hook]);
    }

    // On PostgreSQL the upload's statements are kept prepared (Data/PostgresConnectionDefaults.cs). A newer replica's
    // migration that adds a column must not break them on a replica still running: a prepared "RETURNING *" would answer
    // "cached plan must not change result type" on every pooled connection that had prepared it.
    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_AfterAMigrationAddsASessionColumn_StillCommits(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync("""{"max_images":40}""")).SessionId();
        using var anonymous = app.CreateClient();
        var photo = Fixture.Bytes("small.jpg");
        // More uploads than Npgsql's usages before it prepares a statement (5): the claim is prepared by now.
        for (var i = 0; i < 12; i++)
        {
            using var response = await anonymous.UploadAsync(session, photo, "small.jpg", "image/jpeg");
            response.StatusCode.ShouldBe(HttpStatusCode.Created);
        }
        await using (var scope = app.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<AperturDb>().Database.ExecuteSqlRawAsync("ALTER TABLE sessions ADD COLUMN added_by_a_newer_version INTEGER");
        }
        for (var i = 0; i < 6; i++)
        {
            using var response = await anonymous.UploadAsync(session, photo, "small.jpg", "image/jpeg");
            response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_AfterThePerSessionLimit_Answers429WithRetryAfter(string db)
    {
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?> { ["Apertur:RateLimits:Upload"] = "2" });
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        var jpeg = Fixture.Bytes("small.jpg");
        for (var i = 0; i < 2; i++)
        {
            using var ok = await anonymous.UploadAsync(session, jpeg);
            ok.StatusCode.ShouldBe(HttpStatusCode.Created);
            ok.Headers.GetValues("X-RateLimit-Limit").Single().ShouldBe("2");
            ok.Headers.GetValues("X-RateLimit-Remaining").Single().ShouldBe((1 - i).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        using var limited = await anonymous.UploadAsync(session, jpeg);
        limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        retryAfter.ShouldBeInRange(1, 60);
        var body = await limited.ReadJsonAsync();
        body.GetProperty("retryAfter").GetInt32().ShouldBe(retryAfter);
        body.GetProperty("code").GetString().ShouldBe("RATE_LIMIT");
        limited.Headers.GetValues("X-RateLimit-Remaining").Single().ShouldBe("0");
        limited.Headers.Contains("X-RateLimit-Reset").ShouldBeTrue();

        // Another session has its own budget.
        var other = (await app.Client.CreateSessionAsync()).SessionId();
        (await anonymous.UploadAsync(other, jpeg)).StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    internal static async Task<(Guid Webhook, Guid Bucket)> AddDestinationsAsync(TestApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var database = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var project = await database.Projects.SingleAsync(p => p.Name == "Default");
        var now = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        var webhook = new Destination { Id = Guid.CreateVersion7(), ProjectId = project.Id, Type = "webhook", Name = "Hook", Config = "{}", CreatedAt = now, UpdatedAt = now };
        var bucket = new Destination { Id = Guid.CreateVersion7(), ProjectId = project.Id, Type = "s3", Name = "Bucket", Config = "{}", CreatedAt = now, UpdatedAt = now };
        database.Destinations.AddRange(webhook, bucket);
        await database.SaveChangesAsync();
        return (webhook.Id, bucket.Id);
    }

    /// <summary>Hides the length so the body goes chunked and the server must count while streaming.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    /// <summary>A body that sends its first bytes, then waits until the request is cancelled.</summary>
    /// <summary>Sends the first <paramref name="stallAfter"/> bytes, then waits for <paramref name="resume"/> (without one, for ever) before the rest.</summary>
    private sealed class StallingStream(byte[] data, int stallAfter, Task? resume = null) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position < stallAfter)
            {
                return await base.ReadAsync(buffer[..Math.Min(buffer.Length, stallAfter - (int)Position)], cancellationToken);
            }
            await (resume ?? Task.Delay(Timeout.Infinite, cancellationToken)).WaitAsync(cancellationToken);
            return await base.ReadAsync(buffer, cancellationToken);
        }
    }

    /// <summary>
    /// Uploads phone-photo.jpg, holding the body back after its first 200 KB while <paramref name="meanwhile"/> runs (the
    /// session checks have passed, nothing is claimed yet), then sends the rest.
    /// </summary>
    private static async Task<HttpResponseMessage> UploadHeldAsync(TestApp app, string session, Func<Task> meanwhile)
    {
        using var client = app.CreateClient();
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var form = new MultipartFormDataContent();
        form.Add(new StreamContent(new StallingStream(Fixture.Bytes("phone-photo.jpg"), stallAfter: 200_000, resume.Task)), "file", "photo.jpg");
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/upload/{session}/images") { Content = form };
        var sending = client.SendAsync(request);
        await WaitUntilAsync(() => app.TempFiles().Length == 1);
        await meanwhile();
        resume.SetResult();
        return await sending;
    }
}
