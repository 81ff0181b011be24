using System.Net;
using System.Text.RegularExpressions;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Dashboard;
using Apertur.Server.Dashboard.Accounts;
using Microsoft.EntityFrameworkCore;
using Shouldly;

namespace Apertur.IntegrationTests.Dashboard;

public sealed partial class FirstStartTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task FirstStart_WithoutConfiguredPassword_PrintsGeneratedPasswordOnceAndRestartKeepsIt(string db)
    {
        var app = await TestApp.StartAsync(db, kestrel: true);
        await using var first = app;
        var printed = PrintedPassword().Matches(app.Output.Text);
        printed.Count.ShouldBe(1, app.Output.Text);
        var password = printed[0].Groups["password"].Value;
        password.Length.ShouldBe(20);
        // Exactly once in everything this start wrote, console and logs together.
        Regex.Count(app.Output.Text, Regex.Escape(password)).ShouldBe(1);

        var admin = await DashboardBrowser.UserAsync(app, "admin");
        admin.IsAdmin.ShouldBeTrue();
        admin.PasswordHash.ShouldNotContain(password);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        (await Manage.DbAsync(app, d => d.ProjectMembers.SingleAsync(m => m.ProjectId == projectId))).Role.ShouldBe(ProjectRoles.Owner);

        await using var restarted = await app.RestartAsync();
        restarted.Output.Text.ShouldNotContain(password);
        PrintedPassword().IsMatch(restarted.Output.Text).ShouldBeFalse(restarted.Output.Text);
        (await DashboardBrowser.UserAsync(restarted, "admin")).PasswordHash.ShouldBe(admin.PasswordHash);
        (await Manage.DbAsync(restarted, d => d.DashboardUsers.CountAsync())).ShouldBe(1);
        // The Kestrel client follows redirects: the sign-in shows in the account's last sign-in time.
        using var browser = DashboardBrowser.Anonymous(restarted);
        using (await browser.SignInAttemptAsync("admin", password))
        {
        }
        (await DashboardBrowser.UserAsync(restarted, "admin")).LastLoginAt.ShouldNotBeNull();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SignIn_WithGeneratedPassword_MustChooseANewOneBeforeAnythingElse(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var password = PrintedPassword().Match(app.Output.Text).Groups["password"].Value;
        using var browser = DashboardBrowser.Anonymous(app);
        using (var signIn = await browser.SignInAttemptAsync("admin", password))
        {
            signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            signIn.Headers.Location!.OriginalString.ShouldBe("/dashboard/account");
        }
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        foreach (var url in new[] { "/dashboard", $"/dashboard/projects/{projectId}/keys" })
        {
            using var page = await browser.Http.GetAsync(url);
            page.StatusCode.ShouldBe(HttpStatusCode.Redirect, url);
            page.Headers.Location!.OriginalString.ShouldBe("/dashboard/account");
        }
        // Not the photos either.
        var session = (await app.Client.CreateSessionAsync("{}")).SessionId();
        var image = DashboardRoutes.Image(projectId,
            await Seed.ImageAsync(app, session, await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Fixtures", "small.jpg"))));
        using (var photo = await browser.Http.GetAsync(image))
        {
            photo.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }

        using (var changed = await browser.PostFormAsync("/dashboard/account",
                   new() { ["current"] = password, ["replacement"] = "my-own-password-1", ["confirm"] = "my-own-password-1" }))
        {
            changed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        (await DashboardBrowser.UserAsync(app, "admin")).MustChangePassword.ShouldBeFalse();
        (await browser.GetPageAsync("/dashboard?all=true")).Status.ShouldBe(HttpStatusCode.OK);
        using (var photo = await browser.Http.GetAsync(image))
        {
            photo.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task FirstStart_WithConfiguredPassword_ThatPasswordWorksAndIsNeverWritten(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        PrintedPassword().IsMatch(app.Output.Text).ShouldBeFalse();
        var admin = await DashboardBrowser.UserAsync(app, "admin");
        admin.IsAdmin.ShouldBeTrue();
        // The operator chose it (automation, a secret store): no forced change that would make the setting a lie.
        admin.MustChangePassword.ShouldBeFalse();

        using var browser = DashboardBrowser.Anonymous(app);
        using (var signIn = await browser.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword))
        {
            signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            signIn.Headers.Location!.OriginalString.ShouldBe("/dashboard");
        }
        (await browser.GetPageAsync("/dashboard?all=true")).Status.ShouldBe(HttpStatusCode.OK);
        using var another = DashboardBrowser.Anonymous(app);
        using (var wrong = await another.SignInAttemptAsync("admin", "wrong-password-typed"))
        {
            wrong.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        app.Output.Text.ShouldNotContain(DashboardBrowser.AdminPassword);
        app.Output.Text.ShouldContain("Dashboard admin 'admin' created at first start");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task FirstStart_WithTooShortConfiguredPassword_RefusesToStartNamingTheSetting(string db)
    {
        var failure = await Should.ThrowAsync<Exception>(() => TestApp.StartAsync(db, new Dictionary<string, string?> { ["Apertur:Bootstrap:AdminPassword"] = "short" }));
        failure.ToString().ShouldContain("Apertur:Bootstrap:AdminUsername / AdminPassword");
    }

    [GeneratedRegex(@"^\s*password\s+(?<password>\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex PrintedPassword();
}
