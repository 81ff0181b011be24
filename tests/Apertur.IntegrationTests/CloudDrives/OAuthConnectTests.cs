using System.Net;
using System.Security.Cryptography;
using System.Text;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Apertur.Tests.CloudDrives;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.CloudDrives;

/// <summary>The connect flow's guards: PKCE and state on the way out; a state that is single use, expiring and bound on the way back.</summary>
public sealed class OAuthConnectTests
{
    private static string Query(Uri url, string name) => QueryHelpers.ParseQuery(url.Query)[name].ToString();

    [Theory, ClassData(typeof(Databases))]
    public async Task Start_Post_AnswersTheConsentUrlWithPkceS256_AndStoresOnlyTheStateHash(string database)
    {
        await using var google = await FakeGoogleDrive.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(google: google));
        var destination = await CloudKit.DestinationAsync(app, "google_drive", new { });

        using var response = await app.Client.PostAsync(await CloudKit.OAuthPathAsync(app, destination) + "/start", null);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var body = await response.ReadJsonAsync();
        var url = new Uri(body.GetProperty("authorizeUrl").GetString()!);
        url.GetLeftPart(UriPartial.Path).ShouldBe(google.AuthorizeUrl.AbsoluteUri);
        Query(url, "redirect_uri").ShouldBe("http://apertur.test/oauth/google/callback");
        body.GetProperty("redirectUri").GetString().ShouldBe("http://apertur.test/oauth/google/callback");
        Query(url, "scope").ShouldBe("https://www.googleapis.com/auth/drive.file");
        Query(url, "access_type").ShouldBe("offline");
        Query(url, "code_challenge_method").ShouldBe("S256");
        Query(url, "code_challenge").Length.ShouldBe(43);
        var state = Query(url, "state");
        state.Length.ShouldBe(43);

        await using var scope = app.Services.CreateAsyncScope();
        var row = await scope.ServiceProvider.GetRequiredService<AperturDb>().OAuthStates.AsNoTracking().SingleAsync();
        row.StateHash.ShouldBe(SHA256.HashData(Encoding.UTF8.GetBytes(state)));
        row.CodeVerifier.ShouldStartWith("CfDJ8");
        row.DestinationId.ShouldBe(destination);
        (row.ExpiresAt - row.CreatedAt).ShouldBe(TimeSpan.FromMinutes(10));
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Callback_StateReplayedTamperedOrForAnotherProvider_RefusedWithoutAnotherExchange(string database)
    {
        await using var dropbox = await FakeDropbox.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(dropbox: dropbox));
        var destination = await CloudKit.DestinationAsync(app, "dropbox", new { });
        var callback = await CloudKit.ConsentAsync(app, dropbox, destination);
        var state = Query(callback, "state");
        var code = Query(callback, "code");
        // The last character changed to another one: a fixed replacement would be the same character one time in 16.
        var tamperedState = state[..^1] + (state[^1] == 'A' ? 'B' : 'A');

        using var tampered = await CloudKit.CallbackAsync(app, new Uri($"{CloudKit.PublicBase}/oauth/dropbox/callback?code={code}&state={tamperedState}"));
        using var otherProvider = await CloudKit.CallbackAsync(app, new Uri($"{CloudKit.PublicBase}/oauth/google/callback?code={code}&state={state}"));
        using var first = await CloudKit.CallbackAsync(app, callback);
        using var replayed = await CloudKit.CallbackAsync(app, callback);

        tampered.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await tampered.Content.ReadAsStringAsync()).ShouldContain("This connect link is not valid");
        otherProvider.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        first.StatusCode.ShouldBe(HttpStatusCode.OK);
        replayed.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await replayed.Content.ReadAsStringAsync()).ShouldContain("This connect link was already used or has expired");
        dropbox.OAuth.CodeExchanges.ShouldBe(1);
        first.Headers.GetValues("Referrer-Policy").ShouldBe(["no-referrer"]);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Callback_AfterTheStateExpired_Refused(string database)
    {
        var clock = new ManualClock();
        await using var onedrive = await FakeOneDrive.StartAsync(clock);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(onedrive: onedrive), clock);
        var destination = await CloudKit.DestinationAsync(app, "onedrive", new { });
        var callback = await CloudKit.ConsentAsync(app, onedrive, destination);

        clock.Advance(TimeSpan.FromMinutes(11));
        using var late = await CloudKit.CallbackAsync(app, callback);

        late.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        onedrive.OAuth.CodeExchanges.ShouldBe(0);
        (await CloudKit.ConnectionAsync(app, destination)).GetProperty("status").GetString().ShouldBe("not_connected");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Connect_WithReturnUrl_RedirectsBackWithTheOutcome_DeniedThenConnected(string database)
    {
        await using var google = await FakeGoogleDrive.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(google: google));
        var destination = await CloudKit.DestinationAsync(app, "google_drive", new { });
        google.OAuth.ConsentError = "access_denied";

        using var denied = await CloudKit.ConnectAsync(app, google, destination, returnUrl: "https://app.example.com/settings?tab=drives");

        denied.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        denied.Headers.Location!.AbsoluteUri.ShouldBe(
            $"https://app.example.com/settings?tab=drives&apertur_oauth=error&destination_id={destination}&error=access_denied");
        (await CloudKit.ConnectionAsync(app, destination)).GetProperty("status").GetString().ShouldBe("not_connected");

        google.OAuth.ConsentError = null;
        using var connected = await CloudKit.ConnectAsync(app, google, destination, returnUrl: "https://app.example.com/settings");

        connected.Headers.Location!.AbsoluteUri.ShouldBe($"https://app.example.com/settings?apertur_oauth=connected&destination_id={destination}");
        (await CloudKit.ConnectionAsync(app, destination)).GetProperty("status").GetString().ShouldBe("connected");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Start_RefusedForNonOAuthKinds_UnconfiguredProviders_AndOtherProjects(string database)
    {
        await using var google = await FakeGoogleDrive.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(google: google));
        var webhook = await CloudKit.DestinationAsync(app, "webhook", new { url = "https://example.com/hook" });
        var onedrive = await CloudKit.DestinationAsync(app, "onedrive", new { });
        var drive = await CloudKit.DestinationAsync(app, "google_drive", new { });

        using var notOAuth = await app.Client.PostAsync(await CloudKit.OAuthPathAsync(app, webhook) + "/start", null);
        using var notConfigured = await app.Client.PostAsync(await CloudKit.OAuthPathAsync(app, onedrive) + "/start", null);
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        using var foreign = await other.PostAsync(await CloudKit.OAuthPathAsync(app, drive) + "/start", null);
        using var badReturn = await app.Client.PostAsync(await CloudKit.OAuthPathAsync(app, drive) + "/start", Http.Json("""{"return_url":"javascript:alert(1)"}"""));

        notOAuth.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await notOAuth.ReadErrorCodeAsync()).ShouldBe("OAUTH_NOT_SUPPORTED");
        notConfigured.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await notConfigured.ReadErrorCodeAsync()).ShouldBe("OAUTH_NOT_CONFIGURED");
        (await notConfigured.ReadJsonAsync()).GetProperty("message").GetString()
            .ShouldBe("This server has no Microsoft OAuth app: set Apertur:OAuth:Microsoft:ClientId and ClientSecret (see docs/cloud-drives.md).");
        foreign.StatusCode.ShouldBe(HttpStatusCode.NotFound);
        badReturn.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await CloudKit.ConnectionAsync(app, onedrive)).GetProperty("providerConfigured").GetBoolean().ShouldBeFalse();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Create_InvalidDriveConfig_400InWords(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var project = await CloudKit.ProjectIdAsync(app);

        using var response = await app.Client.PostAsync($"/api/v1/projects/{project}/destinations",
            Http.Json("""{"type":"dropbox","name":"Box","config":{"root":"Apps","subfolder_template":"{session_id}/../x"}}"""));

        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.ReadJsonAsync()).GetProperty("message").GetString().ShouldBe(
            "config.root must be an absolute Dropbox path starting with '/' (got 'Apps'). " +
            "config.subfolder_template must not contain '..': paths stay inside the destination's folder.");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task TestEndpoint_ReportsTheAccountFolderAndWriteCheck_OrHowToConnect(string database)
    {
        await using var dropbox = await FakeDropbox.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(dropbox: dropbox));
        var destination = await CloudKit.DestinationAsync(app, "dropbox", new { folder = "Shop" });
        var project = await CloudKit.ProjectIdAsync(app);

        using var before = await app.Client.PostAsync($"/api/v1/projects/{project}/destinations/{destination}/test", null);
        (await CloudKit.ConnectAsync(app, dropbox, destination)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var after = await app.Client.PostAsync($"/api/v1/projects/{project}/destinations/{destination}/test", null);

        var notConnected = await before.ReadJsonAsync();
        notConnected.GetProperty("success").GetBoolean().ShouldBeFalse();
        notConnected.GetProperty("message").GetString()!.ShouldStartWith("Not connected to a Dropbox account yet");
        var connected = await after.ReadJsonAsync();
        connected.GetProperty("success").GetBoolean().ShouldBeTrue();
        connected.GetProperty("status").GetInt32().ShouldBe(200);
        connected.GetProperty("message").GetString().ShouldBe(
            "Connected to Dropbox as Grace Hopper (grace@example.com); folder /Apps/Apertur/Shop is writable (a test file was written and deleted)");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DisconnectAndDelete_ForgetTheGrant_DeliveriesWaitForAConnect(string database)
    {
        await using var google = await FakeGoogleDrive.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(google: google));
        var destination = await CloudKit.DestinationAsync(app, "google_drive", new { });
        var other = await CloudKit.DestinationAsync(app, "google_drive", new { }, name: "Second");
        (await CloudKit.ConnectAsync(app, google, destination)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await CloudKit.ConnectAsync(app, google, other)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var disconnected = await app.Client.DeleteAsync(await CloudKit.OAuthPathAsync(app, destination));
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        var imageId = await DeliveryKit.UploadAsync(app, sessionId);
        var waiting = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        using var deleted = await app.Client.DeleteAsync($"/api/v1/projects/{await CloudKit.ProjectIdAsync(app)}/destinations/{other}");

        disconnected.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await CloudKit.ConnectionAsync(app, destination)).GetProperty("status").GetString().ShouldBe("not_connected");
        (await CloudKit.StoredAsync(app, destination)).ShouldBeNull();
        waiting.Status.ShouldBe(DeliveryStatus.Retrying);
        waiting.LastError.ShouldStartWith("Not connected to a Google account yet");
        deleted.StatusCode.ShouldBe(HttpStatusCode.NoContent);
        // Deleting the destination deletes its grant (foreign key cascade): no token outlives its destination.
        (await CloudKit.StoredAsync(app, other)).ShouldBeNull();
    }
}
