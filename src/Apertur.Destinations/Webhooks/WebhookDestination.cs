using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Storage;

namespace Apertur.Destinations.Webhooks;

/// <summary>
/// The <c>webhook</c> destination (docs/webhooks.md, "Image webhooks"): POSTs each image to the configured URL as
/// <c>multipart</c> (default), <c>json_base64</c>, <c>binary</c> or <c>event_json</c>, signed twice: the SDK scheme
/// (<c>X-Aptr-Signature</c> = <c>X-Apertur-Signature</c>, body only) and Standard Webhooks (<c>webhook-id</c>,
/// <c>webhook-timestamp</c>, <c>webhook-signature</c>, which adds the previous secret for 24 h after a rotation).
/// The body is never held in memory: it is written twice from the image stream, once into the HMACs (which must be
/// known before the headers go out) and once to the connection. Success is any 2xx within the timeout (30 s); redirects
/// are not followed; 410 stops; 429 and timeouts are throttles. Give it an <see cref="HttpClient"/> built on
/// <see cref="OutboundGuard.CreateHandler"/> so the SSRF guard checks every connection.
/// </summary>
public sealed class WebhookDestination : ConfiguredDestination<WebhookConfig>, IDescribedDestination
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    public const string UserAgent = "Apertur-Webhook/1.0";
    public const int SnippetLength = 1024;

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    /// <param name="timeout">How long one attempt may take to get the receiver's answer (default 30 s).</param>
    public WebhookDestination(HttpClient http, TimeProvider time, TimeSpan? timeout = null)
    {
        _http = http;
        _time = time;
        _timeout = timeout ?? DefaultTimeout;
    }

    public override string Kind => DestinationKinds.Webhook;

    /// <summary>The webhook kind: its form, validation and secrets (none in the config: requests are signed with the project's secret).</summary>
    public static DestinationDescriptor Descriptor { get; } = new(DestinationKinds.Webhook, "Webhook",
        "POSTs each image to your HTTPS endpoint, signed with the project's webhook secret.", Validate,
        new([
            new("url", "Receiver URL", "Your endpoint's absolute http or https URL. It gets one request per image and must answer 2xx within 30 s.",
                FieldType.Url, Required: true, Placeholder: "https://example.com/apertur/hook"),
            new("format", "Body format", "multipart: a form with the file; json_base64: JSON with the bytes in base64; binary: the raw bytes; "
                + "event_json: a JSON event with a signed download link (Odoo).", FieldType.Choice, Choices: ["multipart", "json_base64", "binary", "event_json"]),
        ]), SecretFields: [])
    {
        ConnectionTest = true,
    };

    /// <summary>What is wrong with a webhook config, in words; empty when it is fine (the API answers 400 otherwise).</summary>
    public static IReadOnlyList<string> Validate(JsonElement config)
    {
        return WebhookConfig.TryParse(config, out _, out var problems) ? [] : problems;
    }

    protected override async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, WebhookConfig config, CancellationToken ct)
    {
        var image = request.Image;
        var body = WebhookBody.For(config.Format, request.DeliveryId, image);
        var attempt = await SendAsync(config.Url, body, request.DeliveryId, image.SessionId, image.Index, image.Id, request.Signing, ct)
            .ConfigureAwait(false);
        return attempt switch
        {
            Attempt.Answered { Status: >= 200 and < 300 } a => new DeliveryResult.Delivered(config.Url.AbsoluteUri, a.Status, a.Snippet),
            Attempt.Answered { Status: 410 } a => new DeliveryResult.Rejected($"{a.Describe()}: the receiver asked for no more deliveries", a.Status, a.Snippet),
            Attempt.Answered { Status: 429 } a => new DeliveryResult.RetryLater(a.Describe(), a.RetryAfter, Throttled: true, a.Status, a.Snippet),
            Attempt.Answered a => new DeliveryResult.RetryLater(a.Describe(), a.RetryAfter, Throttled: false, a.Status, a.Snippet),
            Attempt.TimedOut => new DeliveryResult.RetryLater(TimedOutMessage(), Throttled: true),
            Attempt.Failed { Permanent: true } f => new DeliveryResult.Rejected(f.Message),
            Attempt.Failed f => new DeliveryResult.RetryLater(f.Message),
            _ => throw new InvalidOperationException("unknown attempt outcome"),
        };
    }

    /// <summary>
    /// Sends a small signed <c>webhook.test</c> event, shaped like event_json, with every delivery header, and says in
    /// words what happened. The image headers carry zero ids: no image is involved.
    /// </summary>
    protected override async Task<ConnectionTestResult> TestAsync(DestinationTarget target, WebhookConfig config, ProjectSigning signing, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        var body = new BytesBody(EventJson.Test(target, now), "application/json");
        var attempt = await SendAsync(config.Url, body, Guid.CreateVersion7(now), Guid.Empty, 0, Guid.Empty, signing, ct).ConfigureAwait(false);
        return attempt switch
        {
            Attempt.Answered { Status: >= 200 and < 300 } a => new ConnectionTestResult(true, $"Receiver answered {a.StatusText}", a.Status),
            Attempt.Answered a => new ConnectionTestResult(false, a.Describe() + (string.IsNullOrWhiteSpace(a.Snippet) ? "" : $": {Shorten(a.Snippet, 200)}"), a.Status),
            Attempt.TimedOut => new ConnectionTestResult(false, TimedOutMessage()),
            Attempt.Failed f => new ConnectionTestResult(false, f.Message),
            _ => throw new InvalidOperationException("unknown attempt outcome"),
        };
    }

    /// <summary>One signed POST: pass 1 signs and counts, pass 2 sends; the answer or the failure, classified.</summary>
    private async Task<Attempt> SendAsync(Uri url, WebhookBody body, Guid deliveryId, Guid sessionId, int imageIndex, Guid imageId,
        ProjectSigning signing, CancellationToken ct)
    {
        var messageId = deliveryId.ToString();
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();

        long length;
        string bodySignature;
        string standardSignature;
        try
        {
            (length, bodySignature, standardSignature) = await SignAsync(body, messageId, timestamp, signing, ct).ConfigureAwait(false);
        }
        catch (ImageSourceException e)
        {
            return new Attempt.Failed($"Could not read the image: {e.Message}", Permanent: false);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new WebhookContent(body, length) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", body.ContentType);
        request.Content.Headers.ContentLength = length;
        var headers = request.Headers;
        headers.TryAddWithoutValidation("User-Agent", UserAgent);
        headers.TryAddWithoutValidation("X-Aptr-Signature", bodySignature);
        headers.TryAddWithoutValidation("X-Apertur-Signature", bodySignature);
        headers.TryAddWithoutValidation("X-Aptr-Session-Id", sessionId.ToString());
        headers.TryAddWithoutValidation("X-Aptr-Image-Index", imageIndex.ToString(CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation("X-Aptr-Image-Id", imageId.ToString());
        headers.TryAddWithoutValidation("X-APTR-Delivery-ID", messageId);
        foreach (var (name, value) in body.Headers)
        {
            headers.TryAddWithoutValidation(name, value);
        }
        headers.TryAddWithoutValidation("webhook-id", messageId);
        headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        headers.TryAddWithoutValidation("webhook-signature", standardSignature);

        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token).ConfigureAwait(false);
            var snippet = await ReadSnippetAsync(response, attempt.Token, ct).ConfigureAwait(false);
            return new Attempt.Answered((int)response.StatusCode, response.ReasonPhrase, RetryAfter(response), response.Headers.Location, snippet);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new Attempt.TimedOut();
        }
        catch (HttpRequestException e)
        {
            ct.ThrowIfCancellationRequested();
            return timeout.IsCancellationRequested ? new Attempt.TimedOut() : Classify(e, url);
        }
    }

    /// <summary>Pass 1: the body through the HMACs, to know the signatures and the exact length before sending.</summary>
    private static async Task<(long Length, string Body, string Standard)> SignAsync(WebhookBody body, string messageId, long timestamp,
        ProjectSigning signing, CancellationToken ct)
    {
        using var bodyMac = Signatures.ImageWebhookHmac(signing.Current);
        using var currentMac = Signatures.StandardWebhooksHmac(Signatures.StandardWebhooksKey(signing.Current), messageId, timestamp);
        using var previousMac = string.IsNullOrEmpty(signing.Previous)
            ? null
            : Signatures.StandardWebhooksHmac(Signatures.StandardWebhooksKey(signing.Previous), messageId, timestamp);
        await using var sink = previousMac is null ? new SigningSink(bodyMac, currentMac) : new SigningSink(bodyMac, currentMac, previousMac);
        await body.WriteToAsync(sink, ct).ConfigureAwait(false);
        var standard = Signatures.StandardWebhooksValue(currentMac);
        if (previousMac is not null)
        {
            standard += " " + Signatures.StandardWebhooksValue(previousMac);
        }
        return (sink.Length, Signatures.ImageWebhookValue(bodyMac), standard);
    }

    /// <summary>At most the first 1024 characters of the answer, read with a bound; a slow or broken body gives what came.</summary>
    private static async Task<string?> ReadSnippetAsync(HttpResponseMessage response, CancellationToken attempt, CancellationToken ct)
    {
        var buffer = new byte[SnippetLength * 4];
        var total = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(attempt).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                int read;
                while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), attempt).ConfigureAwait(false)) > 0)
                {
                    total += read;
                }
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            // The status is the answer; a body that breaks off or stalls only shortens the snippet.
            ct.ThrowIfCancellationRequested();
        }
        if (total == 0)
        {
            return null;
        }
        var text = Encoding.UTF8.GetString(buffer, 0, total);
        return text.Length > SnippetLength ? text[..SnippetLength] : text;
    }

    /// <summary>Retry-After as delta-seconds or an HTTP-date (then counted from now, never negative).</summary>
    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - _time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static Attempt.Failed Classify(HttpRequestException error, Uri url)
    {
        var endpoint = $"{url.Host}:{url.Port}";
        if (Find<OutboundBlockedException>(error) is { } blocked)
        {
            return new Attempt.Failed(blocked.Message, Permanent: true);
        }
        if (Find<ImageSourceException>(error) is { } image)
        {
            return new Attempt.Failed($"Could not read the image: {image.Message}", Permanent: false);
        }
        var socket = Find<SocketException>(error);
        var connecting = error.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;
        var what = socket?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
            SocketError.ConnectionReset => "connection reset",
            SocketError.ConnectionAborted => "connection aborted",
            SocketError.TimedOut => "connection timed out",
            SocketError.HostUnreachable => "host unreachable",
            SocketError.NetworkUnreachable or SocketError.NetworkDown => "network unreachable",
            { } other => other.ToString(),
            null => error.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => "host not found",
                HttpRequestError.SecureConnectionError => "TLS handshake failed: " + (error.InnerException?.Message ?? error.Message),
                HttpRequestError.ResponseEnded => "the receiver closed the connection without answering",
                HttpRequestError.InvalidResponse => "the receiver's answer is not valid HTTP",
                _ => error.InnerException?.Message ?? error.Message,
            },
        };
        return new Attempt.Failed(connecting ? $"Could not connect to {endpoint} ({what})" : $"Request to {endpoint} failed ({what})", Permanent: false);
    }

    private static T? Find<T>(Exception? error) where T : Exception
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is T found)
            {
                return found;
            }
        }
        return null;
    }

    private string TimedOutMessage() =>
        $"Timed out after {_timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s waiting for the receiver's answer";

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..length] + "…";

    /// <summary>What one attempt came to, before it is read as a delivery outcome or a test answer.</summary>
    private abstract record Attempt
    {
        public sealed record Answered(int Status, string? Reason, TimeSpan? RetryAfter, Uri? Location, string? Snippet) : Attempt
        {
            public string StatusText => string.IsNullOrWhiteSpace(Reason) ? Status.ToString(CultureInfo.InvariantCulture) : $"{Status} {Reason}";

            public string Describe() => Status is >= 300 and < 400
                ? $"Receiver answered {StatusText}: redirects are not followed (Location: {Location?.OriginalString ?? "none"})"
                : $"Receiver answered {StatusText}";
        }

        public sealed record TimedOut : Attempt;

        public sealed record Failed(string Message, bool Permanent) : Attempt;
    }
}
