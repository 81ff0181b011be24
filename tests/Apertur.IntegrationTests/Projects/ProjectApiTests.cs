using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Projects;
using Microsoft.Extensions.DependencyInjection;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Shouldly;

namespace Apertur.IntegrationTests.Projects;

public sealed class ProjectApiTests
{
    private static void ShouldBeWhsecOf32Bytes(string? secret)
    {
        secret.ShouldNotBeNull().ShouldStartWith("whsec_");
        Convert.FromBase64String(secret["whsec_".Length..]).Length.ShouldBe(32);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_AnswersTheKeysProjectWithExactFields(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var response = await app.Client.GetAsync("/api/v1/project");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var project = await response.ReadJsonAsync();

        project.PropertyNames().ShouldBe(["createdAt", "id", "name", "notificationEmail", "previousWebhookSecretExpiresAt", "webhookSecret"]);
        Guid.Parse(project.GetProperty("id").GetString()!).Version.ShouldBe(7);
        project.GetProperty("name").GetString().ShouldBe("Default");
        ShouldBeWhsecOf32Bytes(project.GetProperty("webhookSecret").GetString());
        project.GetProperty("notificationEmail").ValueKind.ShouldBe(JsonValueKind.Null);
        project.GetProperty("previousWebhookSecretExpiresAt").ValueKind.ShouldBe(JsonValueKind.Null);
        project.GetProperty("createdAt").GetString()!.ShouldMatch(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Get_WithAnotherProjectsKey_AnswersThatProject(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        var project = await (await other.GetAsync("/api/v1/project")).ReadJsonAsync();
        project.GetProperty("name").GetString().ShouldBe("Other");
        project.GetProperty("id").GetString().ShouldNotBe(await app.Client.ProjectIdAsync());
        // Projects made after the first one get their own secret at creation.
        ShouldBeWhsecOf32Bytes(project.GetProperty("webhookSecret").GetString());
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Patch_NameAndNotificationEmail_ChangeAndClear(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using (var response = await app.Client.PatchJsonAsync("/api/v1/project", """{"name":"  Acme Photos ","notificationEmail":"ops@example.com","unknown":1}"""))
        {
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var project = await response.ReadJsonAsync();
            project.GetProperty("name").GetString().ShouldBe("Acme Photos");
            project.GetProperty("notificationEmail").GetString().ShouldBe("ops@example.com");
        }
        var read = await (await app.Client.GetAsync("/api/v1/project")).ReadJsonAsync();
        read.GetProperty("name").GetString().ShouldBe("Acme Photos");
        read.GetProperty("notificationEmail").GetString().ShouldBe("ops@example.com");

        // Empty bodies change nothing; the snake alias clears with null.
        foreach (var empty in new[] { "{}", "[]" })
        {
            (await (await app.Client.PatchJsonAsync("/api/v1/project", empty)).ReadJsonAsync()).GetProperty("name").GetString().ShouldBe("Acme Photos");
        }
        var cleared = await (await app.Client.PatchJsonAsync("/api/v1/project", """{"notification_email":null}""")).ReadJsonAsync();
        cleared.GetProperty("notificationEmail").ValueKind.ShouldBe(JsonValueKind.Null);
        cleared.GetProperty("name").GetString().ShouldBe("Acme Photos");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Patch_InvalidValues_Answer400AndChangeNothing(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        foreach (var body in new[]
        {
            """{"name":""}""",
            """{"name":"   "}""",
            $$"""{"name":"{{new string('x', 101)}}"}""",
            """{"name":null}""",
            """{"name":5}""",
            """{"notificationEmail":"not an address"}""",
            """{"notificationEmail":"Ops <ops@example.com>"}""",
            """{"notification_email":"ops@"}""",
        })
        {
            using var response = await app.Client.PatchJsonAsync("/api/v1/project", body);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, body);
            (await response.ReadErrorCodeAsync()).ShouldBe("VALIDATION_ERROR");
        }
        (await (await app.Client.GetAsync("/api/v1/project")).ReadJsonAsync()).GetProperty("name").GetString().ShouldBe("Default");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Rotate_NewSecretSigns_PreviousSignsFor24HoursOnly(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var before = await (await app.Client.GetAsync("/api/v1/project")).ReadJsonAsync();
        var original = before.GetProperty("webhookSecret").GetString()!;
        var projectId = Guid.Parse(before.GetProperty("id").GetString()!);

        using var response = await app.Client.PostAsync("/api/v1/project/webhook-secret/rotate", null);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var rotated = await response.ReadJsonAsync();
        var fresh = rotated.GetProperty("webhookSecret").GetString()!;
        ShouldBeWhsecOf32Bytes(fresh);
        fresh.ShouldNotBe(original);
        rotated.GetProperty("previousWebhookSecretExpiresAt").GetString().ShouldBe("2026-11-03T12:00:00.000Z");
        (await (await app.Client.GetAsync("/api/v1/project")).ReadJsonAsync()).GetProperty("webhookSecret").GetString().ShouldBe(fresh);

        var signing = await Manage.DbAsync(app, d => app.Services.GetRequiredService<ProjectSigningProvider>().GetAsync(d, projectId, clock.GetUtcNow(), CancellationToken.None));
        signing.Current.ShouldBe(fresh);
        signing.Previous.ShouldBe(original);

        clock.Advance(TimeSpan.FromHours(24) - TimeSpan.FromMilliseconds(1));
        (await Manage.DbAsync(app, d => app.Services.GetRequiredService<ProjectSigningProvider>().GetAsync(d, projectId, clock.GetUtcNow(), CancellationToken.None))).Previous.ShouldBe(original);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        var expired = await Manage.DbAsync(app, d => app.Services.GetRequiredService<ProjectSigningProvider>().GetAsync(d, projectId, clock.GetUtcNow(), CancellationToken.None));
        expired.Current.ShouldBe(fresh);
        expired.Previous.ShouldBeNull();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Rotate_TwiceWithin24Hours_PreviousIsTheSecondToLast(string db)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(db, clock: clock);
        var first = await (await app.Client.PostAsync("/api/v1/project/webhook-secret/rotate", null)).ReadJsonAsync();
        clock.Advance(TimeSpan.FromHours(2));
        // The .NET SDK style: POST with no body; also with [] (PHP).
        var second = await (await app.Client.PostAsync("/api/v1/project/webhook-secret/rotate", Http.Json("[]"))).ReadJsonAsync();
        second.GetProperty("previousWebhookSecretExpiresAt").GetString().ShouldBe("2026-11-03T14:00:00.000Z");

        var projectId = Guid.Parse(second.GetProperty("id").GetString()!);
        var signing = await Manage.DbAsync(app, d => app.Services.GetRequiredService<ProjectSigningProvider>().GetAsync(d, projectId, clock.GetUtcNow(), CancellationToken.None));
        signing.Current.ShouldBe(second.GetProperty("webhookSecret").GetString());
        signing.Previous.ShouldBe(first.GetProperty("webhookSecret").GetString());
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Bootstrap_WebhookSecretAndNotificationEmail_SeedTheFirstProject(string db)
    {
        const string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        await using var app = await TestApp.StartAsync(db, new Dictionary<string, string?>
        {
            ["Apertur:Bootstrap:WebhookSecret"] = secret,
            ["Apertur:Bootstrap:NotificationEmail"] = "alerts@example.com",
        });
        var project = await (await app.Client.GetAsync("/api/v1/project")).ReadJsonAsync();
        project.GetProperty("webhookSecret").GetString().ShouldBe(secret);
        project.GetProperty("notificationEmail").GetString().ShouldBe("alerts@example.com");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Restart_AfterRenamingTheFirstProject_CreatesNoNewDefaultProject(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        (await app.Client.PatchJsonAsync("/api/v1/project", """{"name":"Renamed"}""")).StatusCode.ShouldBe(HttpStatusCode.OK);
        await using (var restarted = await app.StartAnotherAsync())
        {
            (await (await restarted.Client.GetAsync("/api/v1/project")).ReadJsonAsync()).GetProperty("name").GetString().ShouldBe("Renamed");
        }
        (await Manage.DbAsync(app, d => d.Projects.CountAsync())).ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ProjectRoutes_WithoutKey_Answer401(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var anonymous = app.CreateClient();
        (await anonymous.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await anonymous.PostAsync("/api/v1/project/webhook-secret/rotate", null)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }
}
