using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Shouldly;

namespace Apertur.IntegrationTests.Stats;

public sealed class StatsApiTests
{
    private static readonly string[] StatsFields =
        ["activeKeys", "deliverySuccessRate", "imagesDelivered", "imagesUploaded", "sessionsThisMonth", "sessionsTotal", "topProjects", "totalProjects"];

    private static async Task<(JsonElement Json, string Raw)> StatsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/stats");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var raw = await response.Content.ReadAsStringAsync();
        return (JsonDocument.Parse(raw).RootElement.Clone(), raw);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_EmptyProject_HasExactShapeAndOnePeriodField(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var (stats, raw) = await StatsAsync(app.Client);

        stats.PropertyNames().ShouldBe(StatsFields);
        raw.ShouldNotContain("sessionsInRange");
        stats.GetProperty("sessionsThisMonth").GetInt32().ShouldBe(0);
        stats.GetProperty("sessionsTotal").GetInt32().ShouldBe(0);
        stats.GetProperty("imagesUploaded").GetInt32().ShouldBe(0);
        stats.GetProperty("imagesDelivered").GetInt32().ShouldBe(0);
        // No finished delivery yet: nothing has failed.
        raw.ShouldContain("\"deliverySuccessRate\":100.0");
        stats.GetProperty("totalProjects").GetInt32().ShouldBe(1);
        stats.GetProperty("activeKeys").GetInt32().ShouldBe(2);
        var top = stats.GetProperty("topProjects");
        top.GetArrayLength().ShouldBe(1);
        top[0].PropertyNames().ShouldBe(["id", "name", "sessions"]);
        top[0].GetProperty("id").GetString().ShouldBe(await app.Client.ProjectIdAsync());
        top[0].GetProperty("name").GetString().ShouldBe("Default");
        top[0].GetProperty("sessions").GetInt32().ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_SeededProject_CountsLiveDataOnly(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        using var testClient = app.CreateClient(app.TestKey);
        var destination = (await app.Client.CreateDestinationAsync("""{"type":"s3","name":"Bucket","config":{"bucket":"photos","region":"eu-west-1","access_key_id":"AKIAEXAMPLE","secret_access_key":"s"}}""")).GetProperty("id").GetString()!;
        var withDestination = $$$"""{"destination_ids":["{{{destination}}}"]}""";

        clock.Set(new DateTimeOffset(2026, 10, 20, 10, 0, 0, TimeSpan.Zero));
        var lastMonth = (await app.Client.CreateSessionAsync(withDestination)).GetProperty("uuid").GetString()!;
        clock.Set(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero));
        var thisMonth = (await app.Client.CreateSessionAsync(withDestination)).GetProperty("uuid").GetString()!;
        clock.Set(new DateTimeOffset(2026, 11, 2, 12, 0, 0, TimeSpan.Zero));
        await app.Client.CreateSessionAsync();
        var testSession = (await testClient.CreateSessionAsync(withDestination)).GetProperty("uuid").GetString()!;

        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xD9];
        var sent = await Seed.ImageAsync(app, lastMonth, jpeg);
        var failed = await Seed.ImageAsync(app, thisMonth, jpeg);
        var acked = await Seed.ImageAsync(app, thisMonth, jpeg);
        var testImage = await Seed.ImageAsync(app, testSession, jpeg);
        var destinationId = Guid.Parse(destination);
        await Seed.DeliveryAsync(app, sent, destinationId, DeliveryStatus.Sent, 1, null);
        await Seed.DeliveryAsync(app, failed, destinationId, DeliveryStatus.Failed, 9, "HTTP 500");
        await Seed.DeliveryAsync(app, testImage, destinationId, DeliveryStatus.Sent, 1, null);
        // Pending to the destination, but a long-polling client acknowledged it: delivered.
        await Manage.DbAsync(app, d => d.Images.Where(i => i.Id == acked).ExecuteUpdateAsync(s => s.SetProperty(i => i.AcknowledgedAt, clock.GetUtcNow())));

        var (stats, raw) = await StatsAsync(app.Client);

        stats.PropertyNames().ShouldBe(StatsFields);
        stats.GetProperty("sessionsThisMonth").GetInt32().ShouldBe(2);
        stats.GetProperty("sessionsTotal").GetInt32().ShouldBe(3);
        stats.GetProperty("imagesUploaded").GetInt32().ShouldBe(3);
        stats.GetProperty("imagesDelivered").GetInt32().ShouldBe(2);
        stats.GetProperty("deliverySuccessRate").GetDouble().ShouldBe(50.0);
        raw.ShouldContain("\"deliverySuccessRate\":50.0");
        stats.GetProperty("totalProjects").GetInt32().ShouldBe(1);
        stats.GetProperty("activeKeys").GetInt32().ShouldBe(2);
        stats.GetProperty("topProjects")[0].GetProperty("sessions").GetInt32().ShouldBe(3);

        // The test key sees the same project's live numbers: env only marks the data, not the view.
        (await StatsAsync(testClient)).Json.GetProperty("sessionsTotal").GetInt32().ShouldBe(3);

        // Another project sees none of it.
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        var (theirs, _) = await StatsAsync(other);
        theirs.GetProperty("sessionsTotal").GetInt32().ShouldBe(0);
        theirs.GetProperty("imagesUploaded").GetInt32().ShouldBe(0);
        theirs.GetProperty("activeKeys").GetInt32().ShouldBe(1);
        theirs.GetProperty("topProjects")[0].GetProperty("name").GetString().ShouldBe("Other");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_WithoutKey_Answers401(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var anonymous = app.CreateClient();
        (await anonymous.GetAsync("/api/v1/stats")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }
}
