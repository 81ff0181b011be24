using System.Net;
using System.Text.RegularExpressions;
using Apertur.IntegrationTests.CloudDrives;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.CloudDrives;
using Apertur.Server.Dashboard;
using Apertur.Server.Dashboard.Accounts;
using Apertur.Tests;
using Apertur.Tests.CloudDrives;
using Microsoft.EntityFrameworkCore;
using Shouldly;

namespace Apertur.IntegrationTests.Dashboard;

/// <summary>
/// "Connect" of a drive destination from the dashboard, hop by hop as a browser follows it: the signed-in owner's form post,
/// the provider fake's consent, the public callback, and the way back to the destinations page with the outcome in words.
/// </summary>
public sealed partial class DashboardOAuthTests
{
    private const string Password = "dashboard-oauth-password";

    [Theory, ClassData(typeof(Databases))]
    public async Task Connect_SignedInOwner_ConsentsAndLandsBackOnTheDestinationsPageConnected(string database)
    {
        await using var google = await FakeGoogleDrive.StartAsync(TimeProvider.System);
        await using var app = await StartAsync(database, CloudKit.Settings(google: google));
        var destination = await CloudKit.DestinationAsync(app, "google_drive", new { }, name: "Shop photos");
        var project = await DashboardBrowser.DefaultProjectIdAsync(app);
        using var owner = await DashboardBrowser.SignInAsync(app);
        var destinations = DashboardRoutes.Destinations(project);
        var before = await owner.PageAsync(destinations);
        before.ShouldContain("not connected");
        var connect = DashboardRoutes.OAuthConnect(destination, destinations);
        before.ShouldContain($"action=\"{WebUtility.HtmlEncode(connect)}\"");
        // The page that holds the form allows its redirect to the provider's consent page.
        (await owner.Http.GetAsync(destinations)).Headers.GetValues("Content-Security-Policy").Single()
            .ShouldContain($"form-action 'self' {google.AuthorizeUrl.GetLeftPart(UriPartial.Authority)};");

        // Opened with a GET, the connect page only offers the button: no flow is started.
        (await owner.PageAsync(connect)).ShouldContain("Continue to Google Drive");
        (await StatesAsync(app)).ShouldBe(0);

        using var started = await owner.PostFormToAsync(connect, destinations);
        started.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var consent = started.Headers.Location!;
        consent.GetLeftPart(UriPartial.Path).ShouldBe(google.AuthorizeUrl.AbsoluteUri);
        using var provider = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var consented = await provider.GetAsync(consent);
        consented.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        using var callback = await CloudKit.CallbackAsync(app, consented.Headers.Location!);

        var landing = LandingTarget(await callback.Content.ReadAsStringAsync());
        callback.StatusCode.ShouldBe(HttpStatusCode.OK);
        landing.ShouldBe($"{destinations}?oauth=connected&destination={destination}");
        var stored = await CloudKit.StoredAsync(app, destination);
        stored.ShouldNotBeNull();
        stored.Status.ShouldBe(OAuthConnectionStatus.Connected);
        stored.RefreshToken.ShouldStartWith("CfDJ8");
        google.OAuth.CodeExchanges.ShouldBe(1);
        var after = await owner.PageAsync(landing);
        DashboardBrowser.NoticeOf(after).ShouldBe("Google Drive connected as Ada Lovelace (ada@example.com): \"Shop photos\" delivers there now.");
        after.ShouldContain("Reconnect Google Drive");
        after.ShouldContain(">Disconnect</button>");
        // The API's status reads the same connection.
        (await CloudKit.ConnectionAsync(app, destination)).GetProperty("account").GetString().ShouldBe("Ada Lovelace (ada@example.com)");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Connect_MemberWithoutOwnerRole_403_AndNoTokenOrNoOwner_NothingStarted(string database)
    {
        await using var dropbox = await FakeDropbox.StartAsync(TimeProvider.System);
        await using var app = await StartAsync(database, CloudKit.Settings(dropbox: dropbox));
        var destination = await CloudKit.DestinationAsync(app, "dropbox", new { });
        var project = await DashboardBrowser.DefaultProjectIdAsync(app);
        await DashboardBrowser.CreateUserAsync(app, "mia", Password, project, ProjectRoles.Member);
        using var member = await DashboardBrowser.SignInAsync(app, "mia", Password);
        var destinations = DashboardRoutes.Destinations(project);
        var connect = DashboardRoutes.OAuthConnect(destination, destinations);

        var page = await member.PageAsync(destinations);
        using var posted = await member.PostFormToAsync(connect, destinations);
        using var opened = await member.Http.GetAsync(connect);
        using var disconnect = await member.PostFormToAsync($"{destinations}?handler=Disconnect&id={destination}", destinations);
        using var owner = await DashboardBrowser.SignInAsync(app);
        using var forged = await owner.Http.PostAsync(connect, new FormUrlEncodedContent(new Dictionary<string, string>()));

        page.ShouldNotContain("Connect Dropbox");
        posted.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await posted.Content.ReadAsStringAsync()).ShouldContain("Owners only");
        opened.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        disconnect.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        forged.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await StatesAsync(app)).ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Connect_DestinationOfAnotherProject_404(string database)
    {
        await using var dropbox = await FakeDropbox.StartAsync(TimeProvider.System);
        await using var app = await StartAsync(database, CloudKit.Settings(dropbox: dropbox));
        var project = await DashboardBrowser.DefaultProjectIdAsync(app);
        using var otherKey = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        var foreign = Guid.Parse((await otherKey.CreateDestinationAsync("""{"type":"dropbox","name":"Theirs","config":{}}""")).GetProperty("id").GetString()!);
        await DashboardBrowser.CreateUserAsync(app, "olga", Password, project, ProjectRoles.Owner);
        using var owner = await DashboardBrowser.SignInAsync(app, "olga", Password);
        var destinations = DashboardRoutes.Destinations(project);

        using var posted = await owner.PostFormToAsync(DashboardRoutes.OAuthConnect(foreign, destinations), destinations);
        using var opened = await owner.Http.GetAsync(DashboardRoutes.OAuthConnect(foreign, destinations));
        using var unknown = await owner.PostFormToAsync(DashboardRoutes.OAuthConnect(Guid.NewGuid(), destinations), destinations);
        using var disconnect = await owner.PostFormToAsync($"{destinations}?handler=Disconnect&id={foreign}", destinations);

        posted.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        opened.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        unknown.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        disconnect.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        (await StatesAsync(app)).ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Connect_AbsoluteOrProtocolRelativeReturnUrl_RefusedWithoutARedirect(string database)
    {
        await using var dropbox = await FakeDropbox.StartAsync(TimeProvider.System);
        await using var app = await StartAsync(database, CloudKit.Settings(dropbox: dropbox));
        var destination = await CloudKit.DestinationAsync(app, "dropbox", new { });
        var destinations = DashboardRoutes.Destinations(await DashboardBrowser.DefaultProjectIdAsync(app));
        using var owner = await DashboardBrowser.SignInAsync(app);

        foreach (var returnUrl in new[] { "https://evil.example/dashboard/", "//evil.example/dashboard/", "/\\evil.example/", "/dashboard/../oauth/x",
            "/dashboard/%2e%2e/api", "javascript:alert(1)", "/api/v1/project" })
        {
            using var posted = await owner.PostFormToAsync(DashboardRoutes.OAuthConnect(destination, returnUrl), destinations);
            var html = await posted.Content.ReadAsStringAsync();
            posted.StatusCode.ShouldBe(HttpStatusCode.BadRequest, returnUrl);
            posted.Headers.Location.ShouldBeNull();
            DashboardBrowser.ErrorOf(html).ShouldBe("The return address must be a page of this dashboard (a path starting with /dashboard/); the connection was not started.");
        }
        (await StatesAsync(app)).ShouldBe(0);
        dropbox.OAuth.CodeExchanges.ShouldBe(0);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Connect_ConsentRefusedOrStateStale_LandsBackWithTheErrorInWords(string database)
    {
        var clock = new ManualClock();
        await using var dropbox = await FakeDropbox.StartAsync(clock);
        await using var app = await StartAsync(database, CloudKit.Settings(dropbox: dropbox), clock);
        var destination = await CloudKit.DestinationAsync(app, "dropbox", new { }, name: "Archive");
        var destinations = DashboardRoutes.Destinations(await DashboardBrowser.DefaultProjectIdAsync(app));
        using var owner = await DashboardBrowser.SignInAsync(app);
        dropbox.OAuth.ConsentError = "access_denied";

        var refused = await ConnectAsync(app, owner, destination, destinations);
        dropbox.OAuth.ConsentError = null;
        var staleCallback = await ConsentAsync(owner, destination, destinations);
        clock.Advance(TimeSpan.FromMinutes(11));
        using var stale = await CloudKit.CallbackAsync(app, staleCallback);
        var staleLanding = LandingTarget(await stale.Content.ReadAsStringAsync());

        refused.ShouldBe($"{destinations}?oauth=error&destination={destination}&oauth_error=access_denied");
        var refusedPage = await owner.PageAsync(refused);
        DashboardBrowser.ErrorOf(refusedPage).ShouldBe("Dropbox was not connected to \"Archive\": access was not granted on the consent page.");
        DashboardBrowser.NoticeOf(refusedPage).ShouldBeNull();
        refusedPage.ShouldContain("Connect Dropbox");
        DashboardBrowser.ErrorOf(await owner.PageAsync(staleLanding))
            .ShouldBe("Dropbox was not connected to \"Archive\": the connect link was already used or has expired. Press Connect again.");
        dropbox.OAuth.CodeExchanges.ShouldBe(0);
        (await CloudKit.StoredAsync(app, destination)).ShouldBeNull();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DestinationsPage_ShowsNeedsReconnect_ThenDisconnectForgetsTheGrant(string database)
    {
        await using var onedrive = await FakeOneDrive.StartAsync(TimeProvider.System);
        await using var app = await StartAsync(database, CloudKit.Settings(onedrive: onedrive));
        var destination = await CloudKit.DestinationAsync(app, "onedrive", new { }, name: "Team");
        var destinations = DashboardRoutes.Destinations(await DashboardBrowser.DefaultProjectIdAsync(app));
        using var owner = await DashboardBrowser.SignInAsync(app);
        (await ConnectAsync(app, owner, destination, destinations)).ShouldContain("oauth=connected");
        await Manage.DbAsync(app, db => db.OAuthConnections.Where(c => c.DestinationId == destination).ExecuteUpdateAsync(s => s
            .SetProperty(c => c.Status, OAuthConnectionStatus.NeedsReconnect).SetProperty(c => c.LastError, "Needs reconnect: the refresh token was revoked")));

        var needs = await owner.PageAsync(destinations);
        using var disconnected = await owner.PostFormToAsync($"{destinations}?handler=Disconnect&id={destination}", destinations);
        var after = await owner.PageAsync(destinations);

        needs.ShouldContain("needs reconnect");
        needs.ShouldContain("Needs reconnect: the refresh token was revoked");
        needs.ShouldContain("Reconnect OneDrive");
        disconnected.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        (await CloudKit.StoredAsync(app, destination)).ShouldBeNull();
        DashboardBrowser.NoticeOf(after).ShouldBe("\"Team\" disconnected from its OneDrive account: its deliveries wait until it is connected again.");
        after.ShouldContain("not connected");
        after.ShouldContain("Connect OneDrive");
        after.ShouldNotContain(">Disconnect</button>");
    }

    private static Task<TestApp> StartAsync(string database, Dictionary<string, string?> settings, ManualClock? clock = null) =>
        DashboardBrowser.StartAppAsync(database, settings, clock);

    /// <summary>The owner's form post, the consent, the callback: returns where the landing page sends the browser.</summary>
    private static async Task<string> ConnectAsync(TestApp app, DashboardBrowser owner, Guid destination, string returnUrl)
    {
        using var callback = await CloudKit.CallbackAsync(app, await ConsentAsync(owner, destination, returnUrl));
        callback.StatusCode.ShouldBe(HttpStatusCode.OK);
        return LandingTarget(await callback.Content.ReadAsStringAsync());
    }

    private static async Task<Uri> ConsentAsync(DashboardBrowser owner, Guid destination, string returnUrl)
    {
        using var started = await owner.PostFormToAsync(DashboardRoutes.OAuthConnect(destination, returnUrl), returnUrl);
        started.StatusCode.ShouldBe(HttpStatusCode.Redirect, await started.Content.ReadAsStringAsync());
        using var provider = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var consented = await provider.GetAsync(started.Headers.Location);
        consented.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        return consented.Headers.Location!;
    }

    private static Task<int> StatesAsync(TestApp app) => Manage.DbAsync(app, db => db.OAuthStates.CountAsync());

    /// <summary>Where the callback's landing page navigates (its meta refresh), checked to be the page's own link too.</summary>
    private static string LandingTarget(string html)
    {
        var refresh = MetaRefresh().Match(html);
        refresh.Success.ShouldBeTrue(html);
        var target = WebUtility.HtmlDecode(refresh.Groups["url"].Value);
        html.ShouldContain($"<a href=\"{refresh.Groups["url"].Value}\">");
        return target;
    }

    [GeneratedRegex("""<meta http-equiv="refresh" content="0;url=(?<url>[^"]+)">""")]
    private static partial Regex MetaRefresh();
}
