using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Tests.Infrastructure;
using Apertur.Destinations.Webhooks;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Webhooks;

/// <summary>Fixed deliveries for the webhook tests, and a webhook destination wired to a guarded client.</summary>
internal static class Hooks
{
    public static readonly Guid DeliveryId = Guid.Parse("01990a3e-7c41-7d2a-9b1e-4c6f0e2a8d11");
    public static readonly Guid ImageId = Guid.Parse("01990a3e-7b00-7e55-8a10-0f1e2d3c4b5a");
    public static readonly Guid SessionId = Guid.Parse("01990a3d-0000-7abc-9def-112233445566");
    public static readonly DateTimeOffset CreatedAt = new(2026, 11, 1, 9, 30, 15, 123, TimeSpan.Zero);

    /// <summary>A project secret in the form new projects get: whsec_ + base64 of 32 bytes.</summary>
    public static readonly string WhsecSecret = "whsec_" + Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray());

    /// <summary>A seeded secret in no particular form.</summary>
    public const string PlainSecret = "my_project_webhook_secret";

    public static readonly string[] Tags = ["user:123", "odoo:res.partner:42", "vip"];
    public const string Metadata = """{"odoo":{"model":"res.partner","res_id":42,"mode":"contact"}}""";

    public static HttpClient GuardedClient() => new(new OutboundGuard(["127.0.0.1/32"]).CreateHandler());

    public static WebhookDestination Destination(HttpClient http, TimeProvider? time = null, TimeSpan? timeout = null) =>
        new(http, time ?? new ManualClock(), timeout);

    public static byte[] ImageBytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static DeliveryImage Image(byte[] bytes, string filename = "IMG_0001.jpg", string mimeType = "image/jpeg", IReadOnlyList<string>? tags = null,
        string? metadata = Metadata) =>
        new(ImageId, SessionId, 3, filename, mimeType, bytes.LongLength, tags ?? Tags, metadata, null, CreatedAt,
            _ => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false)),
            new Uri($"https://apertur.example/api/v1/downloads/{ImageId}?token=abc"));

    public static JsonElement Config(Uri url, string? format = null) =>
        JsonSerializer.SerializeToElement(format is null ? new Dictionary<string, string> { ["url"] = url.AbsoluteUri }
            : new Dictionary<string, string> { ["url"] = url.AbsoluteUri, ["format"] = format });

    public static DestinationTarget Target(JsonElement config) =>
        new(Guid.Parse("01990a3c-1111-7222-8333-444455556666"), DestinationKinds.Webhook, "Receiver", config);

    public static DeliveryRequest Request(Uri url, string? format, DeliveryImage image, ProjectSigning? signing = null, Guid? deliveryId = null, int attempt = 1) =>
        new(deliveryId ?? DeliveryId, attempt, image, Target(Config(url, format)), signing ?? new ProjectSigning(WhsecSecret, null));
}

/// <summary>The receivers' side, written independently of the library: what the SDK verifiers and Standard Webhooks do.</summary>
internal static class Verify
{
    /// <summary>The SDK verifiers (docs/api.md "Signatures"): strip <c>sha256=</c>, hex HMAC-SHA256 keyed with the UTF-8 secret.</summary>
    public static bool SdkSignature(string secret, byte[] body, string header)
    {
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
        var given = header.StartsWith("sha256=", StringComparison.Ordinal) ? header["sha256=".Length..] : header;
        return given == expected;
    }

    /// <summary>Standard Webhooks: key = base64 after <c>whsec_</c>; signed content = "id.timestamp.body"; v1 entries, space-separated.</summary>
    public static bool StandardSignatureEntry(string secret, string id, string timestamp, byte[] body, string entry)
    {
        var key = secret.StartsWith("whsec_", StringComparison.Ordinal) ? Convert.FromBase64String(secret["whsec_".Length..]) : Encoding.UTF8.GetBytes(secret);
        var content = Encoding.UTF8.GetBytes($"{id}.{timestamp}.").Concat(body).ToArray();
        return entry == "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, content));
    }

    public static string[] StandardEntries(ReceivedRequest request) => request.Header("webhook-signature").Split(' ');

    public static bool StandardSignature(string secret, ReceivedRequest request) =>
        StandardEntries(request).Any(e => StandardSignatureEntry(secret, request.Header("webhook-id"), request.Header("webhook-timestamp"), request.Body, e));
}
