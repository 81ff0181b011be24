using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Webhooks;
using Apertur.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Apertur.Server.EventWebhooks;

/// <summary>What one POST to an event webhook came to.</summary>
/// <param name="Permanent">410 Gone or a connection the SSRF guard refused: retrying cannot help.</param>
public sealed record SendOutcome(bool Success, bool Permanent, int? StatusCode, string? ResponseBody, int DurationMs, string? Error, TimeSpan? RetryAfter);

/// <summary>
/// POSTs one event body to a webhook through the guarded outbound client (SSRF guard at connect, redirects never
/// followed), signed with the webhook's method only — <c>hmac_sha256</c> or <c>svix</c> (docs/api.md "Signatures"), never both — plus
/// <c>Content-Type: application/json</c>, <c>X-Apertur-Delivery-Id</c> and the custom headers. Success is any 2xx
/// within the timeout. The secret is revealed from its encrypted column for the signature only.
/// </summary>
public sealed class EventWebhookSender(IHttpClientFactory clients, WebhookSecretsAtRest secrets, TimeProvider time, IOptions<EventWebhookOptions> options)
{
    public const string UserAgent = "Apertur-Webhook/1.0";
    public const int ResponseBodyLimit = 1024;

    public async Task<SendOutcome> SendAsync(EventWebhook webhook, Guid deliveryId, string payload, CancellationToken ct)
    {
        string secret;
        try
        {
            secret = secrets.Reveal(webhook.ProtectedSecret);
        }
        catch (CryptographicException)
        {
            return Failed("The webhook's secret cannot be decrypted (was the master key changed?)", false, 0);
        }
        var body = Encoding.UTF8.GetBytes(payload);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var headers = request.Headers;
        var custom = EventWebhookView.CustomHeadersOf(webhook);
        foreach (var (name, value) in custom)
        {
            headers.TryAddWithoutValidation(name, value);
        }
        if (!custom.Keys.Any(k => k.Equals("User-Agent", StringComparison.OrdinalIgnoreCase)))
        {
            headers.TryAddWithoutValidation("User-Agent", UserAgent);
        }
        headers.TryAddWithoutValidation("X-Apertur-Delivery-Id", deliveryId.ToString());
        var ts = timestamp.ToString(CultureInfo.InvariantCulture);
        if (webhook.SignatureMethod == SignatureMethods.Svix)
        {
            var messageId = "msg_" + deliveryId;
            headers.TryAddWithoutValidation("svix-id", messageId);
            headers.TryAddWithoutValidation("svix-timestamp", ts);
            headers.TryAddWithoutValidation("svix-signature", Signatures.Svix(secret, messageId, timestamp, body));
        }
        else
        {
            headers.TryAddWithoutValidation("X-Apertur-Timestamp", ts);
            headers.TryAddWithoutValidation("X-Apertur-Signature", Signatures.EventHmac(secret, timestamp, body));
        }

        var timeout = options.Value.AttemptTimeout;
        var started = time.GetTimestamp();
        int Elapsed() => (int)Math.Min(int.MaxValue, time.GetElapsedTime(started).TotalMilliseconds);
        using var timer = new CancellationTokenSource(timeout, time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
        try
        {
            var http = clients.CreateClient(Hosting.OutboundServices.HttpClientName);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
            var status = (int)response.StatusCode;
            var snippet = await ReadBodyAsync(response, attempt.Token, ct);
            var success = status is >= 200 and < 300;
            var error = success ? null : Describe(response);
            return new SendOutcome(success, status == 410, status, snippet, Elapsed(), error, RetryAfter(response));
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return Failed($"Timed out after {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s waiting for the receiver's answer", false, Elapsed());
        }
        catch (HttpRequestException e)
        {
            ct.ThrowIfCancellationRequested();
            return Find<OutboundBlockedException>(e) is { } blocked
                ? Failed(blocked.Message, true, Elapsed())
                : Failed(Describe(e, new Uri(webhook.Url)), false, Elapsed());
        }
    }

    private static SendOutcome Failed(string error, bool permanent, int durationMs) => new(false, permanent, null, null, durationMs, error, null);

    private static string Describe(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var text = string.IsNullOrWhiteSpace(response.ReasonPhrase) ? status.ToString(CultureInfo.InvariantCulture) : $"{status} {response.ReasonPhrase}";
        return status switch
        {
            >= 300 and < 400 => $"Receiver answered {text}: redirects are not followed (Location: {response.Headers.Location?.OriginalString ?? "none"})",
            410 => $"Receiver answered {text}: it asked for no more deliveries",
            _ => $"Receiver answered {text}",
        };
    }

    private static string Describe(HttpRequestException error, Uri url)
    {
        var endpoint = $"{url.Host}:{url.Port}";
        var what = Find<SocketException>(error)?.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
            SocketError.ConnectionReset => "connection reset",
            SocketError.TimedOut => "connection timed out",
            { } other => other.ToString(),
            null => error.HttpRequestError switch
            {
                HttpRequestError.NameResolutionError => "host not found",
                HttpRequestError.SecureConnectionError => "TLS handshake failed",
                HttpRequestError.ResponseEnded => "the receiver closed the connection without answering",
                HttpRequestError.InvalidResponse => "the receiver's answer is not valid HTTP",
                _ => error.InnerException?.Message ?? error.Message,
            },
        };
        return error.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
            ? $"Could not connect to {endpoint} ({what})"
            : $"Request to {endpoint} failed ({what})";
    }

    // At most the first 1024 characters of the answer; a body that breaks off or stalls only shortens it.
    private static async Task<string?> ReadBodyAsync(HttpResponseMessage response, CancellationToken attempt, CancellationToken ct)
    {
        var buffer = new byte[ResponseBodyLimit];
        var total = 0;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(attempt);
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), attempt)) > 0)
            {
                total += read;
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            ct.ThrowIfCancellationRequested();
        }
        if (total == 0)
        {
            return null;
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

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
}
