using Apertur.Destinations.Tests.Infrastructure;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Webhooks;

/// <summary>Every signature checked the way receivers check it: the SDK verifiers and the Standard Webhooks spec.</summary>
public sealed class WebhookSignatureTests : ReceiverTests
{

    private async Task<ReceivedRequest> DeliverAsync(string format, ProjectSigning signing)
    {
        var request = Hooks.Request(Receiver.Url(), format, Hooks.Image(Hooks.ImageBytes(150_000)), signing);
        (await Hooks.Destination(Http, new ManualClock()).DeliverAsync(request, CancellationToken.None)).ShouldBeOfType<DeliveryResult.Delivered>();
        return Receiver.Only();
    }

    public static TheoryData<string, string> FormatsAndSecrets()
    {
        var data = new TheoryData<string, string>();
        foreach (var format in new[] { "binary", "multipart", "json_base64", "event_json" })
        {
            data.Add(format, Hooks.WhsecSecret);
            data.Add(format, Hooks.PlainSecret);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(FormatsAndSecrets))]
    public async Task DeliverAsync_SdkSignature_VerifiesOverTheRawBodyWithTheWholeSecretAsUtf8(string format, string secret)
    {
        var request = await DeliverAsync(format, new ProjectSigning(secret, null));

        Verify.SdkSignature(secret, request.Body, request.Header("X-Aptr-Signature")).ShouldBeTrue();
        request.Header("X-Apertur-Signature").ShouldBe(request.Header("X-Aptr-Signature"));
        request.Header("X-Aptr-Signature").ShouldMatch("^sha256=[0-9a-f]{64}$");
        Verify.SdkSignature(secret + "x", request.Body, request.Header("X-Aptr-Signature")).ShouldBeFalse();
    }

    [Theory]
    [MemberData(nameof(FormatsAndSecrets))]
    public async Task DeliverAsync_StandardWebhooksSignature_VerifiesPerTheSpec(string format, string secret)
    {
        var request = await DeliverAsync(format, new ProjectSigning(secret, null));

        Verify.StandardEntries(request).Length.ShouldBe(1);
        Verify.StandardSignature(secret, request).ShouldBeTrue();
        Verify.StandardSignature(Hooks.PlainSecret == secret ? Hooks.WhsecSecret : Hooks.PlainSecret, request).ShouldBeFalse();
    }

    [Fact]
    public async Task DeliverAsync_WhsecSecret_StandardKeyIsTheDecodedBytesNotTheString()
    {
        var request = await DeliverAsync("binary", new ProjectSigning(Hooks.WhsecSecret, null));

        var entry = Verify.StandardEntries(request).Single();
        var asUtf8 = "v1," + Convert.ToBase64String(System.Security.Cryptography.HMACSHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes(Hooks.WhsecSecret),
            System.Text.Encoding.UTF8.GetBytes($"{request.Header("webhook-id")}.{request.Header("webhook-timestamp")}.").Concat(request.Body).ToArray()));
        entry.ShouldNotBe(asUtf8);
    }

    [Fact]
    public async Task DeliverAsync_WithPreviousSecret_TwoStandardSignaturesEachVerifiesWithItsOwnSecret()
    {
        const string previous = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        var request = await DeliverAsync("json_base64", new ProjectSigning(Hooks.WhsecSecret, previous));

        var entries = Verify.StandardEntries(request);
        entries.Length.ShouldBe(2);
        var (id, ts) = (request.Header("webhook-id"), request.Header("webhook-timestamp"));
        Verify.StandardSignatureEntry(Hooks.WhsecSecret, id, ts, request.Body, entries[0]).ShouldBeTrue();
        Verify.StandardSignatureEntry(previous, id, ts, request.Body, entries[1]).ShouldBeTrue();
        Verify.StandardSignatureEntry(previous, id, ts, request.Body, entries[0]).ShouldBeFalse();
        // The SDK-scheme headers carry one value only, from the current secret.
        Verify.SdkSignature(Hooks.WhsecSecret, request.Body, request.Header("X-Aptr-Signature")).ShouldBeTrue();
    }
}
