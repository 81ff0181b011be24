using System.Net;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.CloudDrives;
using Apertur.Server.Deliveries;
using Apertur.Tests.CloudDrives;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.CloudDrives;

/// <summary>
/// For each provider, end to end: the destination created through the API, connected through the OAuth redirects, then a
/// session whose uploads (the sample photos and a large image, chunked because the threshold is low) are delivered by the
/// worker and read back byte for byte from the fake.
/// </summary>
public sealed class CloudDriveDeliveryTests
{
    private const int LargeSize = 1_600_000;

    [Theory, ClassData(typeof(Databases))]
    public async Task GoogleDrive_ConnectedThroughRedirects_SamplesAndALargeImageDeliveredByteForByte(string database)
    {
        await using var google = await FakeGoogleDrive.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(google: google));
        // The alias: gdrive is stored as google_drive.
        var destination = await CloudKit.DestinationAsync(app, "gdrive", new { folder = "Wedding" });

        await ConnectAndDeliverAsync(app, google, destination, "google", "Ada Lovelace (ada@example.com)",
            path => google.FilesByPath().TryGetValue("Wedding/" + path, out var file) ? file.Bytes : null);

        // phone-photo, screenshot and the large image went through resumable sessions, in chunks of 256 KiB.
        var sessions = google.SessionChunks();
        sessions.Count.ShouldBe(3);
        sessions.ShouldAllBe(chunks => chunks.Take(chunks.Count - 1).All(c => c == 256 * 1024));
        sessions.Select(s => s.Sum()).ShouldBe([346863, 836158, LargeSize], ignoreOrder: true);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Dropbox_ConnectedThroughRedirects_SamplesAndALargeImageDeliveredByteForByte(string database)
    {
        await using var dropbox = await FakeDropbox.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(dropbox: dropbox));
        var destination = await CloudKit.DestinationAsync(app, "dropbox", new { folder = "Wedding" });

        await ConnectAndDeliverAsync(app, dropbox, destination, "dropbox", "Grace Hopper (grace@example.com)",
            path => dropbox.Files().TryGetValue("/Apps/Apertur/Wedding/" + path, out var bytes) ? bytes : null);

        var sessions = dropbox.SessionChunks();
        sessions.Count.ShouldBe(3);
        sessions.Select(s => s.Sum()).ShouldBe([346863, 836158, LargeSize], ignoreOrder: true);
        dropbox.Calls.Where(c => c.Path == "/content/2/files/upload").Count().ShouldBe(3);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task OneDrive_ConnectedThroughRedirects_SamplesAndALargeImageDeliveredByteForByte(string database)
    {
        await using var onedrive = await FakeOneDrive.StartAsync(TimeProvider.System);
        await using var app = await TestApp.StartAsync(database, CloudKit.Settings(onedrive: onedrive));
        var destination = await CloudKit.DestinationAsync(app, "onedrive", new { folder = "/Wedding" });

        await ConnectAndDeliverAsync(app, onedrive, destination, "microsoft", "Katherine Johnson (OneDrive business)",
            path => onedrive.Files().TryGetValue("Wedding/" + path, out var bytes) ? bytes : null);

        var sessions = onedrive.SessionChunks();
        sessions.Count.ShouldBe(3);
        sessions.ShouldAllBe(chunks => chunks.Take(chunks.Count - 1).All(c => c == 320 * 1024));
        onedrive.Calls.Where(c => c.Path.StartsWith("/upload/", StringComparison.Ordinal)).ShouldAllBe(c => c.Authorization == null);
    }

    private static async Task ConnectAndDeliverAsync(TestApp app, FakeCloud provider, Guid destination, string providerName, string account,
        Func<string, byte[]?> readBack)
    {
        var before = await CloudKit.ConnectionAsync(app, destination);
        before.GetProperty("status").GetString().ShouldBe("not_connected");
        before.GetProperty("provider").GetString().ShouldBe(providerName);
        before.GetProperty("providerConfigured").GetBoolean().ShouldBeTrue();

        using (var callback = await CloudKit.ConnectAsync(app, provider, destination))
        {
            callback.StatusCode.ShouldBe(HttpStatusCode.OK);
            var page = await callback.Content.ReadAsStringAsync();
            page.ShouldContain("Connected: Team drive");
            page.ShouldContain(System.Text.Encodings.Web.HtmlEncoder.Default.Encode(account));
            callback.Headers.CacheControl!.NoStore.ShouldBeTrue();
        }
        provider.OAuth.CodeExchanges.ShouldBe(1);

        var connection = await CloudKit.ConnectionAsync(app, destination);
        connection.GetProperty("status").GetString().ShouldBe("connected");
        connection.GetProperty("account").GetString().ShouldBe(account);
        connection.GetProperty("error").ValueKind.ShouldBe(System.Text.Json.JsonValueKind.Null);
        connection.ToString().ShouldNotContain("token", Case.Insensitive);

        // The tokens are stored encrypted: Data Protection ciphertext, which the store opens back into something else.
        var stored = (await CloudKit.StoredAsync(app, destination)).ShouldNotBeNull();
        stored.RefreshToken.ShouldStartWith("CfDJ8");
        stored.AccessToken!.ShouldStartWith("CfDJ8");
        var grant = await app.Services.GetRequiredService<OAuthGrantStore>().FindAsync(destination, CancellationToken.None);
        grant!.RefreshToken.ShouldNotBe(stored.RefreshToken);
        grant.RefreshToken.Length.ShouldBe(32);

        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        using var uploader = app.CreateClient();
        var images = new List<(Guid Id, string Path, byte[] Bytes)>();
        var index = 0;
        foreach (var sample in CloudKit.Samples)
        {
            var uploaded = await uploader.UploadOkAsync(sessionId, sample);
            var ext = Path.GetExtension(sample).TrimStart('.') switch { "jpeg" => "jpg", var e => e };
            images.Add((Guid.Parse(uploaded.GetProperty("id").GetString()!), $"{sessionId}/{index++}.{ext}", Fixture.Bytes(sample)));
        }
        var large = CloudKit.LargeJpeg(LargeSize);
        images.Add((await CloudKit.UploadAsync(app, sessionId, large, "large.jpg"), $"{sessionId}/{index}.jpg", large));

        foreach (var (id, path, bytes) in images)
        {
            var delivery = await DeliveryKit.WaitForStatusAsync(app, id, DeliveryStatus.Sent, TimeSpan.FromSeconds(60));
            delivery.Attempts.ShouldBe(1);
            delivery.RemoteRef.ShouldNotBeNull().ShouldContain(path);
            readBack(path).ShouldBe(bytes, $"{path} read back from the provider");
        }
    }
}
