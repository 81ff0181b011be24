using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.Dashboard;

public sealed class AntiforgeryAndCookieTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task EveryDashboardPost_WithoutAntiforgeryToken_Answers400(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var browser = await DashboardBrowser.SignInAsync(app);
        var ids = new Dictionary<string, Guid> { ["projectId"] = await DashboardBrowser.DefaultProjectIdAsync(app) };
        var routes = await DashboardEndpoints.AllAsync(app);
        // Only GET and POST: a method named like a handler (OnPage…Async) must not become one that any verb can call.
        routes.Where(r => r.Method is not ("GET" or "POST")).ShouldBeEmpty();
        var posts = routes.Where(r => r.Method == "POST").ToList();
        // The enumeration itself must see the forms: sign-in, sign-out, password, members, keys, destinations, …
        posts.Count.ShouldBeGreaterThanOrEqualTo(20, string.Join("\n", posts));
        posts.ShouldContain(r => r.Template == "dashboard/projects/{projectId:guid}/settings" && r.Handler == "AddMember");
        posts.ShouldContain(r => r.Template == "dashboard/login");

        var accepted = new List<string>();
        foreach (var post in posts)
        {
            using var response = await browser.Http.PostAsync(post.Url(ids),
                new FormUrlEncodedContent(new Dictionary<string, string> { ["name"] = "x", ["username"] = "mallory", ["role"] = "owner" }));
            if (response.StatusCode != HttpStatusCode.BadRequest)
            {
                accepted.Add($"{post} answered {(int)response.StatusCode}");
            }
        }
        accepted.ShouldBeEmpty();
        (await DashboardBrowser.UserAsync(app, "admin")).ShouldNotBeNull();
        (await Manage.DbAsync(app, d => Task.FromResult(d.DashboardUsers.Count()))).ShouldBe(1, "no form did anything");

        // The same kind of request with the page's token goes through: the 400s above were the missing token.
        using var withToken = await browser.PostFormAsync("/dashboard/logout", []);
        withToken.StatusCode.ShouldBe(HttpStatusCode.Redirect);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Cookies_OverHttps_AreHttpOnlySameSiteStrictAndSecure(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        var client = app.CreateClient();
        client.BaseAddress = new Uri("https://localhost");
        using var browser = new DashboardBrowser(client);
        var cookies = new List<string>();
        using (var page = await browser.Http.GetAsync("/dashboard/login"))
        {
            cookies.AddRange(page.Headers.GetValues("Set-Cookie"));
        }
        using (var signIn = await browser.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword))
        {
            signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            cookies.AddRange(signIn.Headers.GetValues("Set-Cookie"));
        }
        // A notice after a change travels in the TempData cookie.
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        using (var rotate = await browser.PostFormAsync($"/dashboard/projects/{projectId}/settings", [], "Rotate"))
        {
            rotate.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            cookies.AddRange(rotate.Headers.TryGetValues("Set-Cookie", out var more) ? more : []);
        }
        cookies.ShouldContain(c => c.StartsWith("aptr_dashboard=", StringComparison.Ordinal));
        cookies.ShouldContain(c => c.StartsWith("aptr_dashboard_af=", StringComparison.Ordinal));
        // Deletions (expired, empty) carry nothing; every cookie with a value must be protected.
        foreach (var cookie in cookies.Where(c => !c.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase)))
        {
            var attributes = cookie.Split(';', StringSplitOptions.TrimEntries).Skip(1).Select(a => a.ToLowerInvariant()).ToList();
            attributes.ShouldContain("httponly", cookie);
            attributes.ShouldContain("secure", cookie);
            attributes.ShouldContain(a => a == "samesite=strict" || a == "samesite=lax", cookie);
        }
        foreach (var cookie in cookies.Where(c => c.StartsWith("aptr_dashboard", StringComparison.Ordinal)))
        {
            cookie.ToLowerInvariant().ShouldContain("samesite=strict");
            cookie.ShouldContain("path=/dashboard");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Cookies_OverHttp_AreNotMarkedSecure(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var browser = DashboardBrowser.Anonymous(app);
        using var signIn = await browser.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("aptr_dashboard=", StringComparison.Ordinal));
        cookie.ToLowerInvariant().ShouldNotContain("secure");
        cookie.ToLowerInvariant().ShouldContain("httponly");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ApiKey_OnDashboardPages_DoesNotSignIn(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        var projectId = await DashboardBrowser.DefaultProjectIdAsync(app);
        // app.Client sends the live key as a bearer token.
        foreach (var url in new[] { "/dashboard", $"/dashboard/projects/{projectId}", $"/dashboard/projects/{projectId}/keys",
                     $"/dashboard/projects/{projectId}/images/{Guid.CreateVersion7()}", "/dashboard/account" })
        {
            using var response = await app.Client.GetAsync(url);
            response.StatusCode.ShouldBe(HttpStatusCode.Redirect, url);
            response.Headers.Location!.ToString().ShouldContain("/dashboard/login");
        }
        (await app.Client.GetAsync("/api/v1/project")).StatusCode.ShouldBe(HttpStatusCode.OK, "the key itself is good");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DashboardCookie_OnApi_Answers401(string db)
    {
        await using var app = await DashboardBrowser.StartAppAsync(db);
        using var browser = DashboardBrowser.Anonymous(app);
        using var signIn = await browser.SignInAttemptAsync("admin", DashboardBrowser.AdminPassword);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("aptr_dashboard=", StringComparison.Ordinal)).Split(';')[0];

        using var bare = app.CreateClient();
        using var dashboard = new HttpRequestMessage(HttpMethod.Get, "/dashboard?all=true");
        dashboard.Headers.Add("Cookie", cookie);
        (await bare.SendAsync(dashboard)).StatusCode.ShouldBe(HttpStatusCode.OK, "the cookie itself is good");

        foreach (var url in new[] { "/api/v1/project", "/api/v1/sessions", "/api/v1/stats" })
        {
            using var api = new HttpRequestMessage(HttpMethod.Get, url);
            api.Headers.Add("Cookie", cookie);
            using var response = await bare.SendAsync(api);
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized, url);
        }
    }
}
