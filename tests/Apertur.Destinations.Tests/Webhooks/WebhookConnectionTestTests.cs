using System.Text.Json;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Tests.Infrastructure;
using Apertur.Destinations.Webhooks;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;

namespace Apertur.Destinations.Tests.Webhooks;

/// <summary>The "test connection" button: a signed test event, and an answer a person can act on.</summary>
public sealed class WebhookConnectionTestTests : ReceiverTests
{
    private static readonly ProjectSigning Signing = new(Hooks.WhsecSecret, null);

    private Task<ConnectionTestResult> TestAsync(Uri url, HttpClient? http = null, TimeSpan? timeout = null) =>
        Hooks.Destination(http ?? Http, Clock, timeout).TestAsync(Hooks.Target(Hooks.Config(url, "multipart")), Signing, CancellationToken.None);

    [Fact]
    public async Task TestAsync_GoodReceiver_SucceedsWithASignedTestEvent()
    {
        var result = await TestAsync(Receiver.Url());

        result.ShouldBe(new ConnectionTestResult(true, "Receiver answered 200 OK", 200));
        var request = Receiver.Only();
        request.Header("Content-Type").ShouldBe("application/json");
        using var json = JsonDocument.Parse(request.Body);
        json.RootElement.GetProperty("topic").GetString().ShouldBe("webhook.test");
        json.RootElement.GetProperty("event").GetString().ShouldBe("webhook.test");
        json.RootElement.GetProperty("timestamp").GetString().ShouldBe("2026-11-02T12:00:00.000Z");
        json.RootElement.GetProperty("data").GetProperty("destination_name").GetString().ShouldBe("Receiver");
        Verify.SdkSignature(Hooks.WhsecSecret, request.Body, request.Header("X-Aptr-Signature")).ShouldBeTrue();
        request.Header("X-Apertur-Signature").ShouldBe(request.Header("X-Aptr-Signature"));
        Verify.StandardSignature(Hooks.WhsecSecret, request).ShouldBeTrue();
        request.Header("X-APTR-Delivery-ID").ShouldBe(request.Header("webhook-id"));
        request.Header("X-Aptr-Image-Index").ShouldBe("0");
    }

    [Fact]
    public async Task TestAsync_Receiver500_FailsSayingWhatItAnswered()
    {
        Receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 500;
            return context.Response.WriteAsync("boom");
        };

        var result = await TestAsync(Receiver.Url());

        result.ShouldBe(new ConnectionTestResult(false, "Receiver answered 500 Internal Server Error: boom", 500));
    }

    [Fact]
    public async Task TestAsync_ClosedPort_FailsConnectionRefused()
    {
        var port = WebhookOutcomeTests.ClosedPort();

        var result = await TestAsync(new Uri($"http://127.0.0.1:{port}/hook"));

        result.ShouldBe(new ConnectionTestResult(false, $"Could not connect to 127.0.0.1:{port} (connection refused)"));
    }

    [Fact]
    public async Task TestAsync_SlowReceiver_FailsTimedOut()
    {
        Receiver.Respond = async (context, _) => await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);

        var result = await TestAsync(Receiver.Url(), timeout: TimeSpan.FromMilliseconds(300));

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith("Timed out after 0.3 s");
    }

    [Fact]
    public async Task TestAsync_BlockedByTheGuard_FailsWithTheGuardsMessage()
    {
        using var unguarded = new HttpClient(new OutboundGuard().CreateHandler());

        var result = await TestAsync(Receiver.Url(), unguarded);

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith("Refused to connect to 127.0.0.1");
        result.Message.ShouldContain("Apertur:Outbound:AllowedNetworks");
        Receiver.Requests.ShouldBeEmpty();
    }

    [Fact]
    public async Task TestAsync_BadConfig_FailsWithTheProblem()
    {
        var target = Hooks.Target(JsonDocument.Parse("""{"url":"gopher://x"}""").RootElement.Clone());

        var result = await Hooks.Destination(Http).TestAsync(target, Signing, CancellationToken.None);

        result.Success.ShouldBeFalse();
        result.Message.ShouldContain("config.url must be an absolute http or https URL");
    }
}
