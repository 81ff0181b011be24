using System.Security.Cryptography;
using System.Text;
using Apertur.Destinations.Webhooks;
using Shouldly;

namespace Apertur.UnitTests.Webhooks;

/// <summary>The known-answer vectors of docs/api.md "Signatures", which the Node and Python SDK verifiers accept.</summary>
public sealed class SignaturesTests
{
    private const string EventSecret = "4f3c2b1a00112233445566778899aabbccddeeff00112233445566778899aabb";
    private static readonly byte[] EventBody =
        Encoding.UTF8.GetBytes("""{"event":"project.upload.completed","project_id":"p1","data":{},"timestamp":"2023-11-14T22:13:20.000Z"}""");

    [Fact]
    public void ImageWebhook_ContractVector() =>
        Signatures.ImageWebhook("my_project_webhook_secret", Encoding.UTF8.GetBytes("""{"session_id":"3f2a","image_id":"9b1c","image_index":0}"""))
            .ShouldBe("sha256=37f69e68a8d42739b4de21864b37f25eee22558d255ac140c165784bc6d877a9");

    [Fact]
    public void ImageWebhook_StreamedInChunks_EqualsWholeBody()
    {
        var body = RandomNumberGenerator.GetBytes(100_000);
        using var mac = Signatures.ImageWebhookHmac("s3cret");
        foreach (var chunk in body.Chunk(4096))
        {
            mac.AppendData(chunk);
        }
        Signatures.ImageWebhookValue(mac).ShouldBe(Signatures.ImageWebhook("s3cret", body));
    }

    [Fact]
    public void EventHmac_ContractVector() =>
        Signatures.EventHmac(EventSecret, 1700000000, EventBody)
            .ShouldBe("sha256=6b455076f3d71ef8a422dbfa990f507bccbacfca6a560d5de6b5516ef98aeba5");

    [Fact]
    public void Svix_ContractVector() =>
        Signatures.Svix(EventSecret, "msg_01", 1700000000, EventBody).ShouldBe("v1,XJGYtUG5QT2LMx/3SVCiiG3DzbVKbojpuHg0tqKj3sI=");

    [Fact]
    public void StandardWebhooksKey_WhsecIsBase64AfterPrefix_OtherwiseUtf8()
    {
        var raw = RandomNumberGenerator.GetBytes(32);
        Signatures.StandardWebhooksKey("whsec_" + Convert.ToBase64String(raw)).ShouldBe(raw);
        Signatures.StandardWebhooksKey("plain-seeded-secret").ShouldBe(Encoding.UTF8.GetBytes("plain-seeded-secret"));
    }

    [Fact]
    public void StandardWebhooks_MatchesTheSpecConstruction()
    {
        // Standard Webhooks: HMAC-SHA256 over "{msg_id}.{timestamp}.{payload}" with the secret's decoded bytes.
        var key = RandomNumberGenerator.GetBytes(32);
        var body = Encoding.UTF8.GetBytes("""{"a":1}""");
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes("""msg_2.1800000000.{"a":1}""")));
        Signatures.StandardWebhooks(key, "msg_2", 1800000000, body).ShouldBe(expected);
    }
}
