using System.Text.Json;
using Apertur.Destinations.CloudDrives;
using Apertur.Destinations.Dropbox;
using Apertur.Destinations.GoogleDrive;
using Apertur.Destinations.OAuth;
using Apertur.Destinations.OneDrive;
using Apertur.Destinations.Outbound;
using Apertur.Tests.CloudDrives;

namespace Apertur.Destinations.Tests.CloudDrives;

/// <summary>A grant store in memory: what the server keeps in the database, for adapter tests. Records what adapters write.</summary>
internal sealed class MemoryGrantStore : IOAuthGrantStore
{
    private readonly object _gate = new();

    public OAuthGrant? Grant { get; set; }

    public int Saves { get; private set; }

    public List<string> Reconnects { get; } = [];

    public Task<OAuthGrant?> FindAsync(Guid destinationId, CancellationToken ct)
    {
        lock (_gate)
        {
            return Task.FromResult(Grant);
        }
    }

    public Task SaveRefreshedAsync(Guid destinationId, long generation, string accessToken, DateTimeOffset expiresAt, string? refreshToken, CancellationToken ct)
    {
        lock (_gate)
        {
            if (Grant is { } grant && grant.Generation == generation)
            {
                Grant = grant with { AccessToken = accessToken, AccessExpiresAt = expiresAt, RefreshToken = refreshToken ?? grant.RefreshToken };
                Saves++;
            }
        }
        return Task.CompletedTask;
    }

    public Task MarkNeedsReconnectAsync(Guid destinationId, long generation, string reason, CancellationToken ct)
    {
        lock (_gate)
        {
            if (Grant is { } grant && grant.Generation == generation)
            {
                Grant = grant with { NeedsReconnect = true, ReconnectReason = reason, AccessToken = null };
                Reconnects.Add(reason);
            }
        }
        return Task.CompletedTask;
    }
}

/// <summary>Adapters wired to the fakes on loopback through the SSRF-guarded client, and fixed images and requests.</summary>
internal static class Drives
{
    public static readonly Guid DestinationId = Guid.Parse("01990a3c-2222-7333-8444-555566667777");
    public static readonly Guid SessionId = Guid.Parse("01990a3d-0000-7abc-9def-112233445566");
    public static readonly DateTimeOffset CreatedAt = new(2026, 11, 1, 9, 30, 15, 123, TimeSpan.Zero);

    /// <summary>Fast pacing for tests: inline throttle waits up to 3 s, backoff from 100 ms.</summary>
    public static CloudDriveTuning Tuning { get; } = new(TimeSpan.FromSeconds(60), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(3), 3, TimeSpan.FromMilliseconds(100));

    public static HttpClient GuardedClient() => new(new OutboundGuard(["127.0.0.1/32"]).CreateHandler());

    /// <summary>A grant issued by the fake's OAuth server, as the connect flow would have stored it.</summary>
    public static MemoryGrantStore Connected(FakeCloud fake)
    {
        var (access, refresh, lifetime) = fake.OAuth.IssueGrant();
        return new MemoryGrantStore
        {
            Grant = new OAuthGrant(1, refresh, access, fake.Clock.GetUtcNow() + lifetime, false, null, "someone"),
        };
    }

    public static GoogleDriveDestination Google(HttpClient http, FakeGoogleDrive fake, IOAuthGrantStore store, long threshold = 5 * 1024 * 1024,
        int chunk = 256 * 1024, CloudDriveTuning? tuning = null) =>
        new(http, fake.Clock, store, new GoogleDriveSettings(
            OAuthApp.ForGoogle(FakeOAuthServer.ClientId, FakeOAuthServer.ClientSecret, fake.AuthorizeUrl, fake.TokenUrl),
            fake.ApiBaseUrl, fake.UploadBaseUrl, threshold, chunk, TimeSpan.FromHours(1)), tuning ?? Tuning);

    public static DropboxDestination Dropbox(HttpClient http, FakeDropbox fake, IOAuthGrantStore store, long threshold = 150L * 1024 * 1024,
        int chunk = 256 * 1024, CloudDriveTuning? tuning = null) =>
        new(http, fake.Clock, store, new DropboxSettings(
            OAuthApp.ForDropbox(FakeOAuthServer.ClientId, FakeOAuthServer.ClientSecret, fake.AuthorizeUrl, fake.TokenUrl),
            fake.ApiBaseUrl, fake.ContentBaseUrl, threshold, chunk), tuning ?? Tuning);

    public static OneDriveDestination OneDrive(HttpClient http, FakeOneDrive fake, IOAuthGrantStore store, long threshold = 4 * 1024 * 1024,
        int chunk = 320 * 1024, CloudDriveTuning? tuning = null) =>
        new(http, fake.Clock, store, new OneDriveSettings(
            OAuthApp.ForMicrosoft(FakeOAuthServer.ClientId, FakeOAuthServer.ClientSecret, fake.AuthorizeUrl, fake.TokenUrl),
            fake.ApiBaseUrl, threshold, chunk), tuning ?? Tuning);

    public static byte[] Bytes(int length, int seed = 7)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static DeliveryImage Image(byte[] bytes, int index = 0, string filename = "IMG_0001.jpg", string mimeType = "image/jpeg", Guid? id = null) =>
        new(id ?? Guid.CreateVersion7(CreatedAt), SessionId, index, filename, mimeType, bytes.LongLength, ["user:42"], null, null, CreatedAt,
            _ => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false)), null);

    public static DestinationTarget Target(string kind, object? config = null) =>
        new(DestinationId, kind, "Drive", JsonSerializer.SerializeToElement(config ?? new Dictionary<string, string>()));

    public static DeliveryRequest Request(string kind, DeliveryImage image, object? config = null) =>
        new(Guid.CreateVersion7(), 1, image, Target(kind, config), new ProjectSigning("whsec_x", null));

    /// <summary>The delivery, which must have succeeded.</summary>
    public static async Task<DeliveryResult.Delivered> DeliverOkAsync(IDestination destination, DeliveryRequest request)
    {
        var result = await destination.DeliverAsync(request, CancellationToken.None);
        return result.ShouldBeOfType<DeliveryResult.Delivered>($"{result}");
    }
}
