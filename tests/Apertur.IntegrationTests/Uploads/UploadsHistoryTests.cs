using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Uploads;

public sealed class UploadsHistoryTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task List_PagesNewestFirstWithEveryRowField(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        var ids = new List<string>();
        foreach (var fixture in new[] { "small.jpg", "screenshot.png", "photo.webp" })
        {
            ids.Add((await anonymous.UploadOkAsync(session, fixture, source: "gallery")).GetProperty("id").GetString()!);
        }

        using var response = await app.Client.GetAsync("/api/v1/uploads?page=1&pageSize=2");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var page = await response.ReadJsonAsync();
        page.GetProperty("total").GetInt32().ShouldBe(3);
        page.GetProperty("page").GetInt32().ShouldBe(1);
        page.GetProperty("pageSize").GetInt32().ShouldBe(2);
        page.GetProperty("totalPages").GetInt32().ShouldBe(2);
        var data = page.GetProperty("data").EnumerateArray().ToList();
        data.Select(r => r.GetProperty("id").GetString()).ShouldBe([ids[2], ids[1]]);

        var row = data[0];
        row.GetProperty("filename").GetString().ShouldBe("photo.webp");
        row.GetProperty("sizeBytes").GetInt64().ShouldBe(Fixture.Bytes("photo.webp").Length);
        row.GetProperty("mimeType").GetString().ShouldBe("image/webp");
        row.GetProperty("source").GetString().ShouldBe("gallery");
        row.GetProperty("isEncrypted").GetBoolean().ShouldBeFalse();
        row.GetProperty("env").GetString().ShouldBe("live");
        row.GetProperty("createdAt").GetString()!.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
        row.GetProperty("sessionId").GetString().ShouldBe(session);
        row.GetProperty("projectId").GetString().ShouldNotBeNullOrEmpty();
        row.GetProperty("projectName").GetString().ShouldBe("Default");
        row.GetProperty("destinationsTotal").GetInt32().ShouldBe(0);
        row.GetProperty("destinationsDelivered").GetInt32().ShouldBe(0);
        row.GetProperty("destinationsFailed").GetInt32().ShouldBe(0);
        row.GetProperty("destinationsBreakdown").GetArrayLength().ShouldBe(0);
        row.GetProperty("status").GetString().ShouldBe("stored_only");

        var second = await (await app.Client.GetAsync("/api/v1/uploads?page=2&pageSize=2")).ReadJsonAsync();
        second.GetProperty("data").EnumerateArray().Select(r => r.GetProperty("id").GetString()).ShouldBe([ids[0]]);

        var recent = await (await app.Client.GetAsync("/api/v1/uploads/recent?limit=2")).ReadJsonAsync();
        recent.ValueKind.ShouldBe(JsonValueKind.Array);
        recent.EnumerateArray().Select(r => r.GetProperty("id").GetString()).ShouldBe([ids[2], ids[1]]);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task List_WithDestinations_ShowsBreakdownAndDeliveryStatus(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (hook, bucket) = await UploadsApiTests.AddDestinationsAsync(app);
        var session = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{hook}}","{{bucket}}"]}""")).SessionId();
        using var anonymous = app.CreateClient();
        var id = (await anonymous.UploadOkAsync(session, "small.jpg")).GetProperty("id").GetString()!;

        var row = (await (await app.Client.GetAsync("/api/v1/uploads/recent")).ReadJsonAsync())[0];
        row.GetProperty("destinationsTotal").GetInt32().ShouldBe(2);
        row.GetProperty("status").GetString().ShouldBe("pending");
        row.GetProperty("destinationsBreakdown").EnumerateArray()
            .Select(b => (b.GetProperty("type").GetString(), b.GetProperty("count").GetInt32())).ShouldBe([("s3", 1), ("webhook", 1)]);

        // Once the worker has finished: one sent and one failed reads "partial".
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var database = scope.ServiceProvider.GetRequiredService<AperturDb>();
            var imageId = Guid.Parse(id);
            await database.Deliveries.Where(d => d.ImageId == imageId && d.DestinationId == hook).ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, "sent"));
            await database.Deliveries.Where(d => d.ImageId == imageId && d.DestinationId == bucket).ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, "failed"));
        }
        row = (await (await app.Client.GetAsync("/api/v1/uploads/recent")).ReadJsonAsync())[0];
        row.GetProperty("destinationsDelivered").GetInt32().ShouldBe(1);
        row.GetProperty("destinationsFailed").GetInt32().ShouldBe(1);
        row.GetProperty("status").GetString().ShouldBe("partial");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task History_IsScopedToTheCallersProjectAndNeedsAKey(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        using var anonymous = app.CreateClient();
        var id = (await anonymous.UploadOkAsync(session, "small.jpg")).GetProperty("id").GetString()!;

        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        using (var foreign = await other.GetAsync($"/api/v1/uploads/{id}/download"))
        {
            foreign.StatusCode.ShouldBe(HttpStatusCode.NotFound);
            (await foreign.ReadErrorCodeAsync()).ShouldBe("IMAGE_NOT_FOUND");
        }
        (await (await other.GetAsync("/api/v1/uploads")).ReadJsonAsync()).GetProperty("total").GetInt32().ShouldBe(0);
        (await (await other.GetAsync("/api/v1/uploads/recent")).ReadJsonAsync()).GetArrayLength().ShouldBe(0);

        foreach (var path in new[] { "/api/v1/uploads", "/api/v1/uploads/recent", $"/api/v1/uploads/{id}/download" })
        {
            using var response = await anonymous.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, path);
        }
        foreach (var missing in new[] { Guid.CreateVersion7().ToString(), "nope" })
        {
            using var response = await app.Client.GetAsync($"/api/v1/uploads/{missing}/download");
            response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        // Ruby and Odoo send Accept: application/json on binary downloads: no 406.
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/uploads/{id}/download");
        request.Headers.Accept.ParseAdd("application/json");
        using var accepted = await app.Client.SendAsync(request);
        accepted.StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
