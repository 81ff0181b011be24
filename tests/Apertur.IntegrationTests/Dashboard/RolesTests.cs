using System.Net;
using Apertur.IntegrationTests.EventWebhooks;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Dashboard.Accounts;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.EntityFrameworkCore;
using Shouldly;

namespace Apertur.IntegrationTests.Dashboard;

public sealed class RolesTests
{
    private const string Password = "member-password-1";

    // What a member may post on a project's pages: running it day to day. Everything else on those pages is for owners.
    private static readonly HashSet<(string Page, string? Handler)> MemberPosts =
    [
        ("sessions", "Create"), ("sessions/{sessionId:guid}", "RetryFailed"), ("destinations", "Test"), ("deliveries", "Retry"), ("deliveries", "RetryAll"),
    ];

    [Theory, ClassData(typeof(Databases))]
    public async Task AddMember_ByOwner_CreatesTheAccountWithTheRoleAndAFirstPasswordToChange(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        // An owner who is not an admin manages members too.
        await DashboardBrowser.CreateUserAsync(app, "olga", Password, projectId, ProjectRoles.Owner);
        using var owner = await DashboardBrowser.SignInAsync(app, "olga", Password);
        var settings = $"/dashboard/projects/{projectId}/settings";

        using (var added = await owner.PostFormAsync(settings, new() { ["username"] = "Alice@Example.com", ["role"] = "member", ["initialPassword"] = "first-password-1" }, "AddMember"))
        {
            added.StatusCode.ShouldBe(HttpStatusCode.Redirect, await added.Content.ReadAsStringAsync());
        }
        using (var added = await owner.PostFormAsync(settings, new() { ["username"] = "bob", ["role"] = "owner", ["initialPassword"] = "first-password-2" }, "AddMember"))
        {
            added.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        var alice = await DashboardBrowser.UserAsync(app, "alice@example.com");
        alice.MustChangePassword.ShouldBeTrue();
        alice.IsAdmin.ShouldBeFalse();
        (await RoleAsync(app, projectId, alice.Id)).ShouldBe(ProjectRoles.Member);
        (await RoleAsync(app, projectId, (await DashboardBrowser.UserAsync(app, "bob")).Id)).ShouldBe(ProjectRoles.Owner);
        var (_, page) = await owner.GetPageAsync(settings);
        page.ShouldContain("alice@example.com");

        // Adding an existing member again changes the role.
        using (var promoted = await owner.PostFormAsync(settings, new() { ["username"] = "alice@example.com", ["role"] = "owner" }, "AddMember"))
        {
            promoted.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        (await RoleAsync(app, projectId, alice.Id)).ShouldBe(ProjectRoles.Owner);

        using var aliceBrowser = DashboardBrowser.Anonymous(app);
        using var first = await aliceBrowser.SignInAttemptAsync("alice@example.com", "first-password-1");
        first.Headers.Location!.OriginalString.ShouldBe("/dashboard/account");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Member_SeesSessionsDeliveriesAndUsage_ButEveryOwnerFormAnswers403(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        var ids = await FillProjectAsync(app);
        var projectId = ids["projectId"];
        await DashboardBrowser.CreateUserAsync(app, "mia", Password, projectId, ProjectRoles.Member);
        using var member = await DashboardBrowser.SignInAsync(app, "mia", Password);

        var sessionId = ids["sessionId"];
        foreach (var url in new[] { $"/dashboard/projects/{projectId}", $"/dashboard/projects/{projectId}/sessions", $"/dashboard/projects/{projectId}/sessions/{sessionId}",
                     $"/dashboard/projects/{projectId}/deliveries", $"/dashboard/projects/{projectId}/deliveries/{ids["deliveryId"]}",
                     $"/dashboard/projects/{projectId}/images/{ids["imageId"]}" })
        {
            (await member.GetPageAsync(url)).Status.ShouldBe(HttpStatusCode.OK, url);
        }
        var (_, sessions) = await member.GetPageAsync($"/dashboard/projects/{projectId}/sessions");
        sessions.ShouldContain(sessionId.ToString());
        var (_, settingsPage) = await member.GetPageAsync($"/dashboard/projects/{projectId}/settings");
        var secret = await Manage.DbAsync(app, d => d.Projects.Where(p => p.Id == projectId).Select(p => p.ProtectedWebhookSecret).FirstAsync());
        settingsPage.ShouldNotContain(app.Services.GetRequiredService<WebhookSecretsAtRest>().Reveal(secret!));

        var token = await member.TokenAsync("/dashboard?all=true");
        var allowed = new List<string>();
        foreach (var post in (await DashboardEndpoints.AllAsync(app)).Where(r => r.Method == "POST" && r.Template.StartsWith("dashboard/projects/", StringComparison.Ordinal)))
        {
            var page = post.Template["dashboard/projects/{projectId:guid}".Length..].TrimStart('/');
            if (MemberPosts.Contains((page, post.Handler)))
            {
                continue;
            }
            using var response = await member.Http.PostAsync(post.Url(ids), Form(token, ids));
            if (response.StatusCode != HttpStatusCode.Forbidden || !(await response.Content.ReadAsStringAsync()).Contains("Owners only", StringComparison.Ordinal))
            {
                allowed.Add($"{post} answered {(int)response.StatusCode}");
            }
        }
        allowed.ShouldBeEmpty();
        (await Manage.DbAsync(app, d => d.ApiKeys.CountAsync())).ShouldBe(2);
        (await Manage.DbAsync(app, d => d.Projects.Where(p => p.Id == projectId).Select(p => p.ProtectedWebhookSecret).FirstAsync())).ShouldBe(secret);
        (await Manage.DbAsync(app, d => d.ProjectMembers.CountAsync())).ShouldBe(2);
        (await RoleAsync(app, projectId, (await DashboardBrowser.UserAsync(app, "mia")).Id)).ShouldBe(ProjectRoles.Member);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task NonMember_GetsTheSame404_ForEveryPageFormAndImageOfTheProject(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        var ids = await FillProjectAsync(app);
        using var admin = await DashboardBrowser.SignInAsync(app);
        // An outsider who is a member somewhere else.
        using (var created = await admin.PostFormAsync("/dashboard?all=true", new() { ["name"] = "Elsewhere" }))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        var elsewhere = await Manage.DbAsync(app, d => d.Projects.Where(p => p.Name == "Elsewhere").Select(p => p.Id).FirstAsync());
        await DashboardBrowser.CreateUserAsync(app, "oscar", Password, elsewhere, ProjectRoles.Owner);
        using var outsider = await DashboardBrowser.SignInAsync(app, "oscar", Password);

        var routes = (await DashboardEndpoints.AllAsync(app)).Where(r => r.Template.StartsWith("dashboard/projects/{projectId", StringComparison.Ordinal)).ToList();
        routes.ShouldContain(r => r.Template.Contains("images/{imageId", StringComparison.Ordinal));
        var unknownProject = new Dictionary<string, Guid>(ids) { ["projectId"] = Guid.CreateVersion7() };
        var (_, notFoundPage) = await admin.GetPageAsync(new DashboardEndpoints.Route("GET", "dashboard/projects/{projectId:guid}/keys", null).Url(unknownProject));
        var token = await outsider.TokenAsync("/dashboard?all=true");
        var leaks = new List<string>();
        foreach (var route in routes)
        {
            var url = route.Url(ids);
            if (route.Method == "GET")
            {
                var (adminStatus, _) = await admin.GetPageAsync(url);
                if (adminStatus != HttpStatusCode.OK)
                {
                    leaks.Add($"{route}: the admin (owner) got {(int)adminStatus}, so the outsider's 404 would prove nothing");
                }
                var (status, html) = await outsider.GetPageAsync(url);
                if (status != HttpStatusCode.NotFound || (!route.Template.Contains("/images/", StringComparison.Ordinal) && Normalised(html, "oscar") != Normalised(notFoundPage, "admin")))
                {
                    leaks.Add($"{route} answered {(int)status}");
                }
            }
            else
            {
                using var response = await outsider.Http.PostAsync(url, Form(token, ids));
                if (response.StatusCode != HttpStatusCode.NotFound)
                {
                    leaks.Add($"{route} answered {(int)response.StatusCode}");
                }
            }
        }
        leaks.ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task LastOwner_CannotBeRemovedOrDemoted(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        var settings = $"/dashboard/projects/{projectId}/settings";
        var olga = await DashboardBrowser.CreateUserAsync(app, "olga", Password, projectId, ProjectRoles.Owner);
        using var owner = await DashboardBrowser.SignInAsync(app, "olga", Password);
        var admin = await DashboardBrowser.UserAsync(app, "admin");
        // Two owners: one may go.
        using (var removed = await owner.PostFormAsync(settings, new() { ["userId"] = admin.Id.ToString() }, "RemoveMember"))
        {
            removed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        (await RoleAsync(app, projectId, admin.Id)).ShouldBeNull();

        // Olga is the last owner now (the admin still reaches the project as admin, but is not an owner of it).
        using (var selfRemoval = await owner.PostFormAsync(settings, new() { ["userId"] = olga.Id.ToString() }, "RemoveMember"))
        {
            selfRemoval.StatusCode.ShouldBe(HttpStatusCode.OK);
            DashboardBrowser.ErrorOf(await selfRemoval.Content.ReadAsStringAsync()).ShouldBe("olga is the last owner of this project: make someone else owner first.");
        }
        using (var demotion = await owner.PostFormAsync(settings, new() { ["username"] = "olga", ["role"] = "member" }, "AddMember"))
        {
            demotion.StatusCode.ShouldBe(HttpStatusCode.OK);
            DashboardBrowser.ErrorOf(await demotion.Content.ReadAsStringAsync()).ShouldNotBeNull().ShouldContain("last owner");
        }
        (await RoleAsync(app, projectId, olga.Id)).ShouldBe(ProjectRoles.Owner);

        using var adminBrowser = await DashboardBrowser.SignInAsync(app);
        using (var byAdmin = await adminBrowser.PostFormAsync(settings, new() { ["userId"] = olga.Id.ToString() }, "RemoveMember"))
        {
            DashboardBrowser.ErrorOf(await byAdmin.Content.ReadAsStringAsync()).ShouldNotBeNull().ShouldContain("last owner");
        }
        (await RoleAsync(app, projectId, olga.Id)).ShouldBe(ProjectRoles.Owner);

        // With a second owner, the first may step down.
        using (var added = await owner.PostFormAsync(settings, new() { ["username"] = "admin", ["role"] = "owner" }, "AddMember"))
        {
            added.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        using (var steppedDown = await owner.PostFormAsync(settings, new() { ["username"] = "olga", ["role"] = "member" }, "AddMember"))
        {
            steppedDown.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        (await RoleAsync(app, projectId, olga.Id)).ShouldBe(ProjectRoles.Member);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task TwoOwners_RemovingEachOtherAtOnce_OneStays(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        var admin = await DashboardBrowser.UserAsync(app, "admin");
        var olga = await DashboardBrowser.CreateUserAsync(app, "olga", Password, projectId, ProjectRoles.Owner);
        for (var round = 0; round < 10; round++)
        {
            // Both are owners; each one's removal alone would be allowed, both at once must not leave the project without one.
            await Task.WhenAll(SetRoleAsync(admin.Id, ProjectRoles.Owner), SetRoleAsync(olga.Id, ProjectRoles.Owner));
            var outcomes = await Task.WhenAll(RemoveAsync(admin.Id), RemoveAsync(olga.Id));

            outcomes.Count(o => o is null).ShouldBe(1, $"round {round}: {string.Join(", ", outcomes.Select(o => o ?? "removed"))}");
            outcomes.Count(o => o == "LAST_OWNER").ShouldBe(1);
            (await Manage.DbAsync(app, d => d.ProjectMembers.CountAsync(m => m.ProjectId == projectId && m.Role == ProjectRoles.Owner))).ShouldBe(1);
        }

        async Task SetRoleAsync(Guid userId, string role)
        {
            await using var scope = app.Services.CreateAsyncScope();
            var d = scope.ServiceProvider.GetRequiredService<AperturDb>();
            if (await d.ProjectMembers.FirstOrDefaultAsync(m => m.ProjectId == projectId && m.UserId == userId) is { } member)
            {
                member.Role = role;
            }
            else
            {
                d.ProjectMembers.Add(new ProjectMember { ProjectId = projectId, UserId = userId, Role = role, CreatedAt = admin.CreatedAt });
            }
            await d.SaveChangesAsync();
        }

        async Task<string?> RemoveAsync(Guid userId)
        {
            await using var scope = app.Services.CreateAsyncScope();
            try
            {
                await scope.ServiceProvider.GetRequiredService<AccountService>().RemoveMemberAsync(projectId, userId, CancellationToken.None);
                return null;
            }
            catch (ApiException e)
            {
                return e.Code;
            }
        }
    }

    private static FormUrlEncodedContent Form(string token, Dictionary<string, Guid> ids) => new(new Dictionary<string, string>
    {
        ["__RequestVerificationToken"] = token,
        ["name"] = "changed",
        ["username"] = "intruder",
        ["role"] = "owner",
        ["initialPassword"] = "intruder-password-1",
        ["userId"] = Guid.CreateVersion7().ToString(),
        ["env"] = "live",
        ["label"] = "intruder",
        ["kind"] = "webhook",
        ["url"] = "https://example.com/hook",
        ["id"] = ids["destinationId"].ToString(),
        ["keyId"] = Guid.CreateVersion7().ToString(),
        ["active"] = "false",
        ["isActive"] = "false",
    });

    // The same page for anyone: without the per-request anti-forgery token and the name of who is signed in.
    // The same page for any account: without its own token, name, and the admins' header link to the status page's incidents.
    private static string Normalised(string html, string username) =>
        System.Text.RegularExpressions.Regex.Replace(html, "<input name=\"__RequestVerificationToken\"[^>]*>|\\s*<a href=\"/dashboard/incidents\"[^>]*>Status page</a>", "")
            .Replace(username, "someone", StringComparison.Ordinal);

    private static Task<string?> RoleAsync(TestApp app, Guid projectId, Guid userId) =>
        Manage.DbAsync(app, d => d.ProjectMembers.Where(m => m.ProjectId == projectId && m.UserId == userId).Select(m => (string?)m.Role).FirstOrDefaultAsync());

    /// <summary>A project with one of everything a dashboard page shows: destination, session, image, delivery, event webhook.</summary>
    private static async Task<Dictionary<string, Guid>> FillProjectAsync(TestApp app)
    {
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        var destinationId = await Seed.DestinationAsync(app, "webhook", "Receiver", """{"url":"https://example.com/hook"}""");
        var session = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{destinationId}}"]}""")).SessionId();
        var imageId = await Seed.ImageAsync(app, session, await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "small.jpg")));
        var deliveryId = await Manage.DbAsync(app, d => d.Deliveries.Where(x => x.ImageId == imageId).Select(x => x.Id).FirstAsync());
        var webhook = await EventHooks.CreateWebhookAsync(app, """{"url":"https://example.com/events","topics":["project.upload.started"]}""");
        return new Dictionary<string, Guid>
        {
            ["projectId"] = projectId,
            ["destinationId"] = destinationId,
            ["sessionId"] = Guid.Parse(session),
            ["imageId"] = imageId,
            ["deliveryId"] = deliveryId,
            ["webhookId"] = Guid.Parse(webhook.Id()),
        };
    }
}
