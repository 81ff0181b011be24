using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Apertur.Destinations.OAuth;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Webhooks;
using Apertur.Destinations.Storage;

namespace Apertur.Destinations.CloudDrives;

/// <summary>How the cloud drive adapters pace themselves (settings <c>Apertur:OAuth:*</c>).</summary>
/// <param name="AttemptTimeout">The most one delivery attempt may take, chunks and waits included (keep it below the delivery lease).</param>
/// <param name="RefreshBefore">Access tokens are refreshed when they expire within this margin.</param>
/// <param name="MaxInlineWait">A throttle wait up to this long is waited inside the attempt, keeping an upload's progress;
/// longer ones end the attempt and the delivery queue schedules the next one no earlier than the provider asked.</param>
/// <param name="InlineRetries">How many throttle answers in a row one request may wait out inside the attempt.</param>
/// <param name="Backoff">First wait of the exponential backoff when a provider throttles without Retry-After (Drive's 403 rate limit).</param>
public sealed record CloudDriveTuning(TimeSpan AttemptTimeout, TimeSpan RefreshBefore, TimeSpan MaxInlineWait, int InlineRetries, TimeSpan Backoff)
{
    public static CloudDriveTuning Default { get; } = new(TimeSpan.FromSeconds(100), TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(10), 3, TimeSpan.FromSeconds(1));
}

/// <summary>An answer, read whole (provider answers are small JSON documents; image bytes only ever go out).</summary>
internal sealed record ProviderResponse(int Status, string? Reason, TimeSpan? RetryAfter, Uri? Location, string? Range, string Body)
{
    public bool IsSuccess => Status is >= 200 and < 300;

    public string StatusText => string.IsNullOrWhiteSpace(Reason) ? Status.ToString(CultureInfo.InvariantCulture) : $"{Status} {Reason}";

    public string Snippet => Body.Length > 1024 ? Body[..1024] : Body;

    /// <summary>A top-level string property of a JSON answer; null when absent or when the body is not a JSON object.</summary>
    public string? Field(string name)
    {
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(Body);
            return json.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && json.RootElement.TryGetProperty(name, out var value)
                ? value.GetString()
                : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}

/// <summary>A provider asking to slow down: wait <see cref="RetryAfter"/> (or back off), or for a quota, <see cref="LongWait"/>.</summary>
internal sealed record Throttle(string Reason, TimeSpan? RetryAfter = null, TimeSpan? LongWait = null);

/// <summary>Ends a delivery attempt from anywhere inside an adapter with this result.</summary>
internal sealed class DeliveryStop(DeliveryResult result) : Exception(result switch
{
    DeliveryResult.RetryLater r => r.Reason,
    DeliveryResult.Rejected r => r.Reason,
    _ => "stopped",
})
{
    public DeliveryResult Result { get; } = result;

    public static DeliveryStop Retry(string reason, ProviderResponse? response = null, TimeSpan? minimumWait = null) =>
        new(new DeliveryResult.RetryLater(reason, minimumWait, Throttled: false, response?.Status, response?.Snippet, minimumWait));

    public static DeliveryStop Reject(string reason, ProviderResponse? response = null) =>
        new(new DeliveryResult.Rejected(reason, response?.Status, response?.Snippet));
}

/// <summary>The connection to the provider failed before an answer (refused, reset, timed out, blocked by the SSRF guard).</summary>
internal sealed class ProviderUnreachableException(string message, bool permanent, Exception? inner = null) : Exception(message, inner)
{
    public bool Permanent { get; } = permanent;
}

/// <summary>
/// One request to a provider API, with the two things every cloud drive call needs: the bearer token renewed once after a
/// 401, and throttling (429, 503, Drive's 403 rate limit) waited out inside the attempt when the wait is short, otherwise
/// turned into a throttled <see cref="DeliveryResult.RetryLater"/> that carries the provider's wait as a minimum.
/// </summary>
internal sealed class ProviderHttp(HttpClient http, TimeProvider time, CloudDriveTuning tuning, string provider)
{
    private const int MaxAnswerChars = 1024 * 1024;

    public TimeProvider Time => time;

    /// <param name="build">Builds the request; called again for every resend (a 401 renewal, a throttle wait).</param>
    /// <param name="auth">Adds <c>Authorization: Bearer</c> when given; upload URLs that are capabilities get none.</param>
    /// <param name="throttled">Says whether an answer asks to slow down.</param>
    public async Task<ProviderResponse> SendAsync(Func<HttpRequestMessage> build, AccessSession? auth, Func<ProviderResponse, Throttle?> throttled,
        CancellationToken ct)
    {
        var renewed = false;
        for (var waits = 0; ; waits++)
        {
            if (auth is not null)
            {
                await auth.EnsureFreshAsync(ct).ConfigureAwait(false);
            }
            var response = await SendOnceAsync(build, auth, ct).ConfigureAwait(false);
            if (response.Status == 401 && auth is not null && !renewed)
            {
                renewed = true;
                await auth.RenewAsync(ct).ConfigureAwait(false);
                waits--;
                continue;
            }
            if (throttled(response) is not { } throttle)
            {
                return response;
            }
            if (throttle.LongWait is { } longWait)
            {
                throw new DeliveryStop(new DeliveryResult.RetryLater($"{provider} answered {response.StatusText}: {throttle.Reason}; trying again in {Describe(longWait)}",
                    longWait, Throttled: true, response.Status, response.Snippet, MinimumWait: longWait));
            }
            var wait = throttle.RetryAfter ?? tuning.Backoff * Math.Pow(2, waits);
            if (waits >= tuning.InlineRetries || wait > tuning.MaxInlineWait)
            {
                throw new DeliveryStop(new DeliveryResult.RetryLater($"{provider} answered {response.StatusText}: {throttle.Reason}",
                    throttle.RetryAfter ?? wait, Throttled: true, response.Status, response.Snippet, MinimumWait: throttle.RetryAfter));
            }
            await Task.Delay(wait, time, ct).ConfigureAwait(false);
        }
    }

    private async Task<ProviderResponse> SendOnceAsync(Func<HttpRequestMessage> build, AccessSession? auth, CancellationToken ct)
    {
        using var request = build();
        if (auth is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", auth.Token);
        }
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            var body = await ReadBodyAsync(response, ct).ConfigureAwait(false);
            var range = response.Headers.TryGetValues("Range", out var ranges) ? ranges.FirstOrDefault() : null;
            return new ProviderResponse((int)response.StatusCode, response.ReasonPhrase, RetryAfter(response), response.Headers.Location, range, body);
        }
        catch (HttpRequestException e)
        {
            ct.ThrowIfCancellationRequested();
            throw Unreachable(e, request.RequestUri);
        }
    }

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var buffer = new char[8192];
            var text = new StringBuilder();
            int read;
            while (text.Length < MaxAnswerChars && (read = await reader.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
            {
                text.Append(buffer, 0, read);
            }
            return text.ToString();
        }
    }

    private TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - time.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static ProviderUnreachableException Unreachable(HttpRequestException error, Uri? url)
    {
        for (Exception? inner = error; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case OutboundBlockedException blocked:
                    return new ProviderUnreachableException(blocked.Message, permanent: true, error);
                case ImageSourceException image:
                    throw image;
            }
        }
        var socket = error.InnerException as SocketException ?? error.InnerException?.InnerException as SocketException;
        var what = socket?.SocketErrorCode.ToString() ?? error.HttpRequestError.ToString();
        return new ProviderUnreachableException($"Could not reach {url?.Host}:{url?.Port} ({what}: {error.Message})", permanent: false, error);
    }

    internal static string Describe(TimeSpan wait) => wait.TotalHours >= 1
        ? $"{wait.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h"
        : wait.TotalMinutes >= 1 ? $"{wait.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)} min" : $"{wait.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s";
}
