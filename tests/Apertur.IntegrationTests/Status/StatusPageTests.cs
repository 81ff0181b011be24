using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Dashboard;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Deliveries;
using Apertur.Server.Status;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Shouldly;

namespace Apertur.IntegrationTests.Status;

/// <summary>
/// The public status page (docs/operations.md "Status page"): every component operational with no traffic; a destination
/// kind degraded while most of its attempts of the last 15 minutes fail, and operational again once they are older; an
/// incident an admin posts in the dashboard shows at once, and nobody else can post one. No project, destination or count
/// is shown unless the operator allows the figures.
/// </summary>
public sealed class StatusPageTests
{
    // No cache: each read computes, so the test sees a change at once.
    private static readonly Dictionary<string, string?> NoCache = new() { ["Apertur:Status:CacheFor"] = "00:00:00" };

    [Theory, ClassData(typeof(Databases))]
    public async Task Status_NoTraffic_EveryComponentOperational_NoIncidents_HtmlWithoutScript(string database)
    {
        await using var app = await TestApp.StartAsync(database, NoCache);
        using var client = app.CreateClient();

        var status = await StatusJsonAsync(client);
        Components(status).ShouldBe(new Dictionary<string, string>
        {
            ["API"] = "operational",
            ["Uploads"] = "operational",
            ["Event webhooks"] = "operational",
            ["Database"] = "operational",
            ["Storage"] = "operational",
        });
        status.GetProperty("incidents").GetArrayLength().ShouldBe(0);

        using var page = await client.GetAsync("/status");
        page.StatusCode.ShouldBe(HttpStatusCode.OK);
        page.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
        var html = await page.Content.ReadAsStringAsync();
        html.ShouldContain("All systems operational");
        html.ShouldContain("prefers-color-scheme: dark");
        html.ShouldNotContain("<script", Case.Insensitive);
        page.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("default-src 'none'");
        (await client.GetStringAsync("/")).ShouldContain("href=\"/status\"");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Status_AKindFailsMostAttempts_ThatKindDegraded_OperationalOnceTheyAreOlderThan15Minutes(string database)
    {
        await using var shop = await TestReceiver.StartAsync();
        await using var retired = await TestReceiver.StartAsync();
        retired.Respond = (http, _) =>
        {
            http.Response.StatusCode = StatusCodes.Status410Gone;
            return http.Response.WriteAsync("retired");
        };
        var clock = new ManualClock();
        await using var app = await DeliveryKit.StartAsync(database, clock, NoCache);
        var shopId = await DeliveryKit.WebhookAsync(app, shop.Url(), name: "Shop backend");
        var retiredId = await DeliveryKit.WebhookAsync(app, retired.Url(), name: "Legacy CRM");
        var good = await DeliveryKit.SessionAsync(app, shopId);
        var bad = await DeliveryKit.SessionAsync(app, retiredId);
        var sent = await DeliveryKit.UploadAsync(app, good);
        var refused = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            refused.Add(await DeliveryKit.UploadAsync(app, bad));
        }
        await DeliveryKit.WaitForStatusAsync(app, sent, DeliveryStatus.Sent);
        foreach (var image in refused)
        {
            await DeliveryKit.WaitForStatusAsync(app, image, DeliveryStatus.Failed);
        }
        using var client = app.CreateClient();

        // 1 of 5 attempts succeeded: most fail, so webhooks are degraded (not down: some get through).
        var status = await StatusJsonAsync(client);
        var components = Components(status);
        components["Webhook delivery"].ShouldBe("degraded");
        components.Where(c => c.Key != "Webhook delivery").ShouldAllBe(c => c.Value == "operational");
        var json = status.GetRawText();
        json.ShouldNotContain("Legacy CRM");
        json.ShouldNotContain("Shop backend");
        json.ShouldNotContain("Default");
        json.ShouldNotContain("successPercent", customMessage: "no figures unless the operator allows them");
        var html = await client.GetStringAsync("/status");
        html.ShouldContain("Some parts of the service are degraded");
        html.ShouldContain("""<li data-component="Webhook delivery" data-state="degraded">""");
        html.ShouldNotContain("Legacy CRM");

        clock.Advance(StatusThresholds.Window + TimeSpan.FromSeconds(1));
        Components(await StatusJsonAsync(client)).ShouldAllBe(c => c.Value == "operational");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Status_FiguresAllowed_SuccessPercentAndLagShown(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        var clock = new ManualClock();
        await using var app = await DeliveryKit.StartAsync(database, clock, new Dictionary<string, string?>(NoCache) { ["Apertur:Status:ShowFigures"] = "true" });
        var session = await DeliveryKit.SessionAsync(app, await DeliveryKit.WebhookAsync(app, receiver.Url()));
        await DeliveryKit.WaitForStatusAsync(app, await DeliveryKit.UploadAsync(app, session), DeliveryStatus.Sent);
        using var client = app.CreateClient();

        var webhook = (await StatusJsonAsync(client)).GetProperty("components").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "Webhook delivery");
        webhook.GetProperty("state").GetString().ShouldBe("operational");
        webhook.GetProperty("lagMinutes").GetInt32().ShouldBe(0);
        webhook.TryGetProperty("successPercent", out _).ShouldBeFalse("one attempt is too few to give a rate");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Incident_PostedAndResolvedByTheAdmin_ShowsOnTheStatusPage_OthersCannotPost(string database)
    {
        var clock = new ManualClock();
        await using var app = await DashboardBrowser.StartAppAsync(database, NoCache, clock);
        using var admin = await DashboardBrowser.SignInAsync(app);
        using var client = app.CreateClient();

        (await admin.PageAsync("/dashboard?all=true")).ShouldContain("href=\"/dashboard/incidents\"");
        using (var posted = await admin.PostFormAsync("/dashboard/incidents",
            new() { ["title"] = "Deliveries to S3 are delayed", ["state"] = "investigating", ["message"] = "We are looking into <slow> uploads." }, "Create"))
        {
            posted.StatusCode.ShouldBe(HttpStatusCode.Redirect, await posted.Content.ReadAsStringAsync());
        }
        var incident = (await StatusJsonAsync(client)).GetProperty("incidents").EnumerateArray().Single();
        incident.GetProperty("title").GetString().ShouldBe("Deliveries to S3 are delayed");
        incident.GetProperty("state").GetString().ShouldBe("investigating");
        incident.GetProperty("createdAt").GetString().ShouldBe("2026-11-02T12:00:00.000Z");
        incident.GetProperty("resolvedAt").ValueKind.ShouldBe(JsonValueKind.Null);
        incident.GetProperty("updates")[0].GetProperty("message").GetString().ShouldBe("We are looking into <slow> uploads.");
        var html = await client.GetStringAsync("/status");
        html.ShouldContain("Current incidents");
        html.ShouldContain("We are looking into &lt;slow&gt; uploads.");

        clock.Advance(TimeSpan.FromMinutes(40));
        var id = incident.GetProperty("id").GetString()!;
        using (var resolved = await admin.PostFormAsync("/dashboard/incidents",
            new() { ["incidentId"] = id, ["state"] = "resolved", ["message"] = "Fixed." }, "Update"))
        {
            resolved.StatusCode.ShouldBe(HttpStatusCode.Redirect, await resolved.Content.ReadAsStringAsync());
        }
        incident = (await StatusJsonAsync(client)).GetProperty("incidents").EnumerateArray().Single();
        incident.GetProperty("state").GetString().ShouldBe("resolved");
        incident.GetProperty("resolvedAt").GetString().ShouldBe("2026-11-02T12:40:00.000Z");
        incident.GetProperty("updates").EnumerateArray().Select(u => u.GetProperty("state").GetString()).ShouldBe(["resolved", "investigating"]);
        (await client.GetStringAsync("/status")).ShouldContain("Past incidents");

        // A project owner who is not an admin: no link, 403 on the page and on both forms, nothing written.
        await DashboardBrowser.CreateUserAsync(app, "olga", "owner-password-1", await DashboardBrowser.DefaultProjectIdAsync(app), "owner");
        using var owner = await DashboardBrowser.SignInAsync(app, "olga", "owner-password-1");
        (await owner.PageAsync("/dashboard?all=true")).ShouldNotContain("/dashboard/incidents");
        var (pageStatus, forbidden) = await owner.GetPageAsync("/dashboard/incidents");
        pageStatus.ShouldBe(HttpStatusCode.Forbidden);
        forbidden.ShouldContain("Admins only");
        var token = await owner.TokenAsync("/dashboard?all=true");
        foreach (var (handler, fields) in new[]
        {
            ("Create", new Dictionary<string, string> { ["title"] = "Fake", ["state"] = "investigating", ["message"] = "Fake." }),
            ("Update", new Dictionary<string, string> { ["incidentId"] = id, ["state"] = "investigating", ["message"] = "Reopened." }),
        })
        {
            fields["__RequestVerificationToken"] = token;
            using var response = await owner.Http.PostAsync($"/dashboard/incidents?handler={handler}", new FormUrlEncodedContent(fields));
            response.StatusCode.ShouldBe(HttpStatusCode.Forbidden, handler);
        }
        (await Manage.DbAsync(app, db => db.Incidents.CountAsync())).ShouldBe(1);
        (await Manage.DbAsync(app, db => db.IncidentUpdates.CountAsync())).ShouldBe(2);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Status_Disabled_404(string database)
    {
        await using var app = await TestApp.StartAsync(database, new Dictionary<string, string?> { ["Apertur:Status:Enabled"] = "false" });
        using var client = app.CreateClient();
        (await client.GetAsync("/status")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetAsync("/status.json")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await client.GetStringAsync("/")).ShouldNotContain("/status");
    }

    private static async Task<JsonElement> StatusJsonAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/status.json");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }

    private static Dictionary<string, string> Components(JsonElement status) => status.GetProperty("components").EnumerateArray()
        .ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("state").GetString()!);
}
