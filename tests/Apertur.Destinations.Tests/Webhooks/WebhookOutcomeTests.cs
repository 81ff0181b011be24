using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Tests.Infrastructure;
using Apertur.Destinations.Webhooks;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;

namespace Apertur.Destinations.Tests.Webhooks;

/// <summary>How each answer (or absence of one) from a real receiver is classified for the retry schedule.</summary>
public sealed class WebhookOutcomeTests : ReceiverTests
{

    private Task<DeliveryResult> DeliverAsync(Uri? url = null, TimeSpan? timeout = null, HttpClient? http = null, CancellationToken ct = default) =>
        Hooks.Destination(http ?? Http, Clock, timeout)
            .DeliverAsync(Hooks.Request(url ?? Receiver.Url(), "json_base64", Hooks.Image(Hooks.ImageBytes(5000))), ct);

    [Fact]
    public async Task DeliverAsync_Answer204_IsDeliveredToTheUrl()
    {
        Receiver.Respond = TestReceiver.Answer(204);

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.Delivered>();

        result.RemoteRef.ShouldBe(Receiver.Url().AbsoluteUri);
        result.StatusCode.ShouldBe(204);
        result.ResponseSnippet.ShouldBeNull();
    }

    [Fact]
    public async Task DeliverAsync_LongAnswer_SnippetIsTheFirst1024Characters()
    {
        var body = string.Concat(Enumerable.Range(0, 500).Select(i => i.ToString("D4", CultureInfo.InvariantCulture)));
        Receiver.Respond = TestReceiver.Answer(200, body);

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.Delivered>();

        result.ResponseSnippet.ShouldBe(body[..1024]);
    }

    [Fact]
    public async Task DeliverAsync_Answer500_RetriesLaterWithTheSnippet()
    {
        Receiver.Respond = TestReceiver.Answer(500, "database is down");

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Throttled.ShouldBeFalse();
        result.RetryAfter.ShouldBeNull();
        result.StatusCode.ShouldBe(500);
        result.ResponseSnippet.ShouldBe("database is down");
        result.Reason.ShouldBe("Receiver answered 500 Internal Server Error");
    }

    [Fact]
    public async Task DeliverAsync_Answer429WithRetryAfterSeconds_IsThrottledForThatLong()
    {
        Receiver.Respond = TestReceiver.Answer(429, "slow down", r => r.Headers.RetryAfter = "7");

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Throttled.ShouldBeTrue();
        result.RetryAfter.ShouldBe(TimeSpan.FromSeconds(7));
        result.StatusCode.ShouldBe(429);
    }

    [Fact]
    public async Task DeliverAsync_Answer503WithRetryAfterDate_WaitsUntilThatDate()
    {
        var until = Clock.GetUtcNow().AddMinutes(2);
        Receiver.Respond = TestReceiver.Answer(503, "", r => r.Headers.RetryAfter = until.ToString("R", CultureInfo.InvariantCulture));

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Throttled.ShouldBeFalse();
        result.RetryAfter.ShouldBe(TimeSpan.FromMinutes(2));
        result.StatusCode.ShouldBe(503);
    }

    [Fact]
    public async Task DeliverAsync_Answer410_IsRejectedForGood()
    {
        Receiver.Respond = TestReceiver.Answer(410, "unsubscribed");

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.Rejected>();

        result.StatusCode.ShouldBe(410);
        result.Reason.ShouldContain("410");
        result.ResponseSnippet.ShouldBe("unsubscribed");
    }

    [Fact]
    public async Task DeliverAsync_Answer302_RetriesLaterAndDoesNotFollowTheRedirect()
    {
        var target = Receiver.Url("/elsewhere");
        Receiver.Respond = TestReceiver.Answer(302, "", r => r.Headers.Location = target.AbsoluteUri);

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.StatusCode.ShouldBe(302);
        result.Reason.ShouldBe($"Receiver answered 302 Found: redirects are not followed (Location: {target.AbsoluteUri})");
        Receiver.Only().Path.ShouldBe("/hook");
    }

    [Fact]
    public async Task DeliverAsync_ReceiverSlowerThanTheTimeout_IsThrottled()
    {
        Receiver.Respond = async (context, _) => await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);

        var result = (await DeliverAsync(timeout: TimeSpan.FromMilliseconds(300))).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Throttled.ShouldBeTrue();
        result.Reason.ShouldStartWith("Timed out after 0.3 s");
    }

    [Fact]
    public async Task DeliverAsync_CallerCancels_ThrowsInsteadOfReportingAFailedAttempt()
    {
        Receiver.Respond = async (context, _) => await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        using var shutdown = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        await Should.ThrowAsync<OperationCanceledException>(() => DeliverAsync(ct: shutdown.Token));
    }

    [Fact]
    public async Task DeliverAsync_ClosedPort_RetriesLaterConnectionRefused()
    {
        var port = ClosedPort();

        var result = (await DeliverAsync(new Uri($"http://127.0.0.1:{port}/hook"))).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Reason.ShouldBe($"Could not connect to 127.0.0.1:{port} (connection refused)");
        result.Throttled.ShouldBeFalse();
    }

    [Fact]
    public async Task DeliverAsync_UnknownHost_RetriesLaterHostNotFound()
    {
        var result = (await DeliverAsync(new Uri("http://no-such-host.invalid/hook"))).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Reason.ShouldBe("Could not connect to no-such-host.invalid:80 (host not found)");
    }

    [Fact]
    public async Task DeliverAsync_HostResolvingToLoopbackWithoutAllowList_IsRejectedWithTheGuardsMessage()
    {
        using var unguarded = new HttpClient(new OutboundGuard().CreateHandler());

        var result = (await DeliverAsync(new Uri($"http://localhost:{Receiver.Port}/hook"), http: unguarded)).ShouldBeOfType<DeliveryResult.Rejected>();

        result.Reason.ShouldStartWith("Refused to connect to localhost");
        result.Reason.ShouldContain("Apertur:Outbound:AllowedNetworks");
        Receiver.Requests.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""{"format":"binary"}""", "config.url is required")]
    [InlineData("""{"url":"ftp://example.com/x"}""", "config.url must be an absolute http or https URL")]
    [InlineData("""{"url":"https://example.com/x","format":"xml"}""", "config.format must be one of multipart, json_base64, binary, event_json")]
    public async Task DeliverAsync_BadConfig_IsRejectedWithoutSending(string config, string reason)
    {
        var request = Hooks.Request(Receiver.Url(), null, Hooks.Image(Hooks.ImageBytes(10))) with
        {
            Target = Hooks.Target(System.Text.Json.JsonDocument.Parse(config).RootElement.Clone()),
        };

        var result = (await Hooks.Destination(Http).DeliverAsync(request, CancellationToken.None)).ShouldBeOfType<DeliveryResult.Rejected>();

        result.Reason.ShouldContain(reason);
        Receiver.Requests.ShouldBeEmpty();
    }

    [Theory]
    [InlineData("""{"url":"https://hooks.example.com/in"}""")]
    [InlineData("""{"url":"http://hooks.example.com:8080/in?x=1","format":"event_json"}""")]
    [InlineData("""{"url":"https://hooks.example.com/in","format":null}""")]
    public void Validate_GoodConfig_HasNoProblems(string config) =>
        WebhookDestination.Validate(System.Text.Json.JsonDocument.Parse(config).RootElement).ShouldBeEmpty();

    [Theory]
    [InlineData("[]", "config must be a JSON object")]
    [InlineData("{}", "config.url is required")]
    [InlineData("""{"url":42}""", "config.url must be a string")]
    [InlineData("""{"url":"/relative/path"}""", "config.url must be an absolute http or https URL (got '/relative/path')")]
    [InlineData("""{"url":"file:///etc/passwd"}""", "config.url must be an absolute http or https URL")]
    [InlineData("""{"url":"https://x.example","format":7}""", "config.format must be one of")]
    public void Validate_BadConfig_SaysWhatIsWrong(string config, string problem) =>
        WebhookDestination.Validate(System.Text.Json.JsonDocument.Parse(config).RootElement).ShouldContain(p => p.StartsWith(problem, StringComparison.Ordinal));

    internal static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
