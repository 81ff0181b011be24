using System.Security.Cryptography;
using System.Text;

namespace Apertur.Destinations.Webhooks;

/// <summary>
/// The outbound signature schemes (docs/api.md "Signatures"), each verifiable by the official SDK verifiers. Hex is lowercase and
/// base64 is padded, because several SDKs compare strings exactly. Bodies are hashed incrementally so a large body
/// never has to sit in memory: feed it chunk by chunk through <see cref="Hmac"/>.
/// </summary>
public static class Signatures
{
    /// <summary>Image webhooks and event_json: <c>sha256=</c> + hex HMAC-SHA256(UTF-8 secret, body).</summary>
    public static string ImageWebhook(string secret, ReadOnlySpan<byte> body)
    {
        using var mac = ImageWebhookHmac(secret);
        mac.AppendData(body);
        return ImageWebhookValue(mac);
    }

    /// <summary>An incremental HMAC for <see cref="ImageWebhook"/>, to sign a streamed body.</summary>
    public static IncrementalHash ImageWebhookHmac(string secret) =>
        IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));

    public static string ImageWebhookValue(IncrementalHash mac) => "sha256=" + Convert.ToHexStringLower(mac.GetHashAndReset());

    /// <summary>Event webhooks, method <c>hmac_sha256</c>: <c>sha256=</c> + hex HMAC(UTF-8 secret, "ts.body").</summary>
    public static string EventHmac(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        using var mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret));
        mac.AppendData(Encoding.UTF8.GetBytes($"{timestamp}."));
        mac.AppendData(body);
        return "sha256=" + Convert.ToHexStringLower(mac.GetHashAndReset());
    }

    /// <summary>
    /// Event webhooks, method <c>svix</c>: <c>v1,</c> + base64 HMAC(hex-decoded secret, "id.ts.body").
    /// Apertur's secrets are hex, unlike real Svix; every SDK verifier hex-decodes them.
    /// </summary>
    public static string Svix(string hexSecret, string messageId, long timestamp, ReadOnlySpan<byte> body) =>
        StandardWebhooks(Convert.FromHexString(hexSecret), messageId, timestamp, body);

    /// <summary>
    /// Standard Webhooks <c>webhook-signature</c>: <c>v1,</c> + base64 HMAC-SHA256(key, "id.timestamp.body").
    /// </summary>
    public static string StandardWebhooks(byte[] key, string messageId, long timestamp, ReadOnlySpan<byte> body)
    {
        using var mac = StandardWebhooksHmac(key, messageId, timestamp);
        mac.AppendData(body);
        return StandardWebhooksValue(mac);
    }

    /// <summary>An incremental HMAC for <see cref="StandardWebhooks"/> with the "id.timestamp." prefix already fed.</summary>
    public static IncrementalHash StandardWebhooksHmac(byte[] key, string messageId, long timestamp)
    {
        var mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        mac.AppendData(Encoding.UTF8.GetBytes($"{messageId}.{timestamp}."));
        return mac;
    }

    public static string StandardWebhooksValue(IncrementalHash mac) => "v1," + Convert.ToBase64String(mac.GetHashAndReset());

    /// <summary>
    /// The key bytes of a project webhook secret for Standard Webhooks: the base64 after <c>whsec_</c>, or the UTF-8
    /// bytes of a seeded secret in any other form.
    /// </summary>
    public static byte[] StandardWebhooksKey(string secret)
    {
        const string prefix = "whsec_";
        if (secret.StartsWith(prefix, StringComparison.Ordinal))
        {
            var buffer = new byte[secret.Length];
            if (Convert.TryFromBase64String(secret[prefix.Length..], buffer, out var written))
            {
                return buffer[..written];
            }
        }
        return Encoding.UTF8.GetBytes(secret);
    }
}
