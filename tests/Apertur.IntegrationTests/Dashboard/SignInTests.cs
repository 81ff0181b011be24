using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.Dashboard;

public sealed class SignInTests
{
    private static readonly Dictionary<string, string?> Lockout = new()
    {
        ["Apertur:Dashboard:LockoutThreshold"] = "3",
        ["Apertur:Dashboard:LockoutDuration"] = "00:10:00",
    };

    [Theory, ClassData(typeof(Databases))]
    public async Task SignIn_WrongPasswordOrUnknownUser_SameAnswerAndNoSignIn(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var browser = DashboardBrowser.Anonymous(app);
        using var wrong = await browser.SignInAttemptAsync("admin", "not-the-password");
        using var unknown = await browser.SignInAttemptAsync("nobody", "not-the-password");
        wrong.StatusCode.ShouldBe(HttpStatusCode.OK);
        unknown.StatusCode.ShouldBe(HttpStatusCode.OK);
        var wrongError = DashboardBrowser.ErrorOf(await wrong.Content.ReadAsStringAsync());
        wrongError.ShouldNotBeNull().ShouldStartWith("The user name or the password is not right");
        DashboardBrowser.ErrorOf(await unknown.Content.ReadAsStringAsync()).ShouldBe(wrongError);
        (await browser.GetPageAsync("/dashboard")).Status.ShouldBe(HttpStatusCode.Redirect);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SignIn_OneProjectOrSeveral_OpensThatProjectOrTheListUnlessAReturnUrlSaysWhere(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        var defaultId = await DashboardBrowser.DefaultProjectIdAsync(app);
        using var admin = await DashboardBrowser.SignInAsync(app);
        using (var home = await admin.Http.GetAsync("/dashboard"))
        {
            home.StatusCode.ShouldBe(HttpStatusCode.Redirect, "one project: straight to it");
            home.Headers.Location!.OriginalString.ShouldBe($"/dashboard/projects/{defaultId}");
        }
        (await admin.PageAsync("/dashboard?all=true")).ShouldContain("<h1>Projects</h1>");

        using (var explicitReturn = DashboardBrowser.Anonymous(app))
        using (var signIn = await explicitReturn.PostFormAsync("/dashboard/login",
                   new() { ["username"] = "admin", ["password"] = DashboardBrowser.AdminPassword, ["returnUrl"] = "/dashboard/account" }))
        {
            signIn.Headers.Location!.OriginalString.ShouldBe("/dashboard/account");
        }

        using (var created = await admin.PostFormAsync("/dashboard?all=true", new() { ["name"] = "Second shop" }))
        {
            created.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        (await admin.PageAsync("/dashboard")).ShouldContain("<h1>Projects</h1>", customMessage: "two projects: the list");
        // A member of one of the two has one project.
        await DashboardBrowser.CreateUserAsync(app, "mia", "mia-password-1", defaultId);
        using var member = await DashboardBrowser.SignInAsync(app, "mia", "mia-password-1");
        using (var home = await member.Http.GetAsync("/dashboard"))
        {
            home.Headers.Location!.OriginalString.ShouldBe($"/dashboard/projects/{defaultId}");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SignIn_AfterThresholdFailures_LockedForTheDurationThenOpensAgain(string db)
    {
        var clock = new ManualClock();
        await using var app = await DashboardBrowser.StartAppAsync(db, Lockout, clock);
        using var browser = DashboardBrowser.Anonymous(app);
        for (var i = 0; i < 3; i++)
        {
            using var failed = await browser.SignInAttemptAsync("admin", "guess-number-" + i);
            failed.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        (await DashboardBrowser.UserAsync(app, "admin")).LockedUntil.ShouldBe(clock.GetUtcNow().AddMinutes(10));

        using (var locked = await browser.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword))
        {
            locked.StatusCode.ShouldBe(HttpStatusCode.OK, "the right password is refused while locked");
        }
        clock.Advance(TimeSpan.FromMinutes(10) - TimeSpan.FromSeconds(1));
        using (var stillLocked = await browser.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword))
        {
            stillLocked.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        clock.Advance(TimeSpan.FromSeconds(2));
        using (var open = await browser.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword))
        {
            open.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        (await browser.GetPageAsync("/dashboard?all=true")).Status.ShouldBe(HttpStatusCode.OK);
        var admin = await DashboardBrowser.UserAsync(app, "admin");
        admin.FailedLogins.ShouldBe(0);
        admin.LockedUntil.ShouldBeNull();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SignIn_LockedAccount_AnswersExactlyLikeAnUnknownName(string db)
    {
        var clock = new ManualClock();
        await using var app = await DashboardBrowser.StartAppAsync(db, Lockout, clock);
        using var browser = DashboardBrowser.Anonymous(app);
        var answers = new List<(string Name, HttpStatusCode Status, string? Error, bool Cookie)>();
        foreach (var name in new[] { "admin", "nobody" })
        {
            for (var i = 0; i < 5; i++)
            {
                using var response = await browser.SignInAttemptAsync(name, "guess-number-" + i);
                answers.Add((name, response.StatusCode, DashboardBrowser.ErrorOf(await response.Content.ReadAsStringAsync()),
                    response.Headers.Contains("Set-Cookie") && response.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("aptr_dashboard=", StringComparison.Ordinal))));
            }
        }
        (await DashboardBrowser.UserAsync(app, "admin")).LockedUntil.ShouldNotBeNull("the known account did lock");
        answers.Select(a => (a.Status, a.Error, a.Cookie)).Distinct().Count().ShouldBe(1, string.Join("\n", answers));
        answers[0].Error.ShouldNotBeNull().ShouldContain("locked");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ChangePassword_WithWrongCurrentPassword_RefusedAndGuessesCountTowardLockout(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db, Lockout, new ManualClock());
        using var browser = await DashboardBrowser.SignInAsync(app);
        for (var i = 0; i < 3; i++)
        {
            using var refused = await browser.PostFormAsync("/dashboard/account",
                new() { ["current"] = "guess-number-" + i, ["replacement"] = "a-new-password-1", ["confirm"] = "a-new-password-1" });
            refused.StatusCode.ShouldBe(HttpStatusCode.OK);
            DashboardBrowser.ErrorOf(await refused.Content.ReadAsStringAsync()).ShouldBe("The current password is not right.");
        }
        // Locked now: even the right current password does not change it, and a new sign-in is refused.
        using (var locked = await browser.PostFormAsync("/dashboard/account",
                   new() { ["current"] = DashboardBrowser.AdminPassword, ["replacement"] = "a-new-password-1", ["confirm"] = "a-new-password-1" }))
        {
            DashboardBrowser.ErrorOf(await locked.Content.ReadAsStringAsync()).ShouldNotBeNull().ShouldContain("locked");
        }
        using var other = DashboardBrowser.Anonymous(app);
        using (var signIn = await other.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword))
        {
            signIn.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        using (var newPasswordWasNotSet = await other.SignInAttemptAsync("admin", "a-new-password-1"))
        {
            newPasswordWasNotSet.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ChangePassword_WithCurrentPassword_EndsOtherSignInsAndKeepsThisOne(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var laptop = await DashboardBrowser.SignInAsync(app);
        using var phone = await DashboardBrowser.SignInAsync(app);
        var stampBefore = (await DashboardBrowser.UserAsync(app, "admin")).SecurityStamp;

        using (var mismatch = await laptop.PostFormAsync("/dashboard/account",
                   new() { ["current"] = DashboardBrowser.AdminPassword, ["replacement"] = "a-new-password-1", ["confirm"] = "a-new-password-2" }))
        {
            DashboardBrowser.ErrorOf(await mismatch.Content.ReadAsStringAsync()).ShouldBe("The two new passwords are not the same.");
        }
        (await phone.GetPageAsync("/dashboard?all=true")).Status.ShouldBe(HttpStatusCode.OK);

        using (var changed = await laptop.PostFormAsync("/dashboard/account",
                   new() { ["current"] = DashboardBrowser.AdminPassword, ["replacement"] = "a-new-password-1", ["confirm"] = "a-new-password-1" }))
        {
            changed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        (await DashboardBrowser.UserAsync(app, "admin")).SecurityStamp.ShouldNotBe(stampBefore);
        (await laptop.GetPageAsync("/dashboard?all=true")).Status.ShouldBe(HttpStatusCode.OK);
        using (var ended = await phone.Http.GetAsync("/dashboard"))
        {
            ended.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            ended.Headers.Location!.ToString().ShouldContain("/dashboard/login");
        }
        using var fresh = DashboardBrowser.Anonymous(app);
        using (var old = await fresh.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword))
        {
            old.StatusCode.ShouldBe(HttpStatusCode.OK);
        }
        using var again = await DashboardBrowser.SignInAsync(app, "admin", "a-new-password-1");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SignOut_EndsTheSignInOfThisBrowser(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var browser = await DashboardBrowser.SignInAsync(app);
        using (var signOut = await browser.PostFormAsync("/dashboard/logout", []))
        {
            signOut.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            signOut.Headers.Location!.OriginalString.ShouldBe("/dashboard/login");
            signOut.Headers.GetValues("Set-Cookie").ShouldContain(c => c.StartsWith("aptr_dashboard=;", StringComparison.Ordinal));
        }
        using var after = await browser.Http.GetAsync("/dashboard");
        after.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        after.Headers.Location!.ToString().ShouldContain("/dashboard/login");
    }
}
