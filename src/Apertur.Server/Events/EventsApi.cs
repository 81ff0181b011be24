using System.Text.Json;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.OpenApi;
using Apertur.Server.Sessions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Events;

/// <summary>
/// Live session events over SSE (docs/api.md "Live events (SSE)"). Public: the session UUID is the capability,
/// so the docs' alias path accepts and ignores a Bearer header or <c>?token=</c>.
/// </summary>
public static partial class EventsApi
{
    public static IEndpointRouteBuilder MapEventsApi(this IEndpointRouteBuilder app)
    {
        // A browser on another site may listen only if the session's key allows that site (allowedDomains).
        app.MapGet("/api/v1/upload/{uuid}/events", StreamAsync).WithRateLimit(RateLimitPolicies.PublicSession).AddEndpointFilter<AllowedDomainsFilter>()
            .WithName("SessionEvents").WithSummary("Live events of a session (Server-Sent Events)").Public().WithTags("Live events").EventStream().Errors(403, 404);
        app.MapGet("/api/v1/sessions/{uuid}/events", StreamAsync).WithRateLimit(RateLimitPolicies.PublicSession).AddEndpointFilter<AllowedDomainsFilter>()
            .WithName("SessionEventsAlias").WithSummary("Live events of a session (alias of /upload/{uuid}/events)").Public().WithTags("Live events").EventStream().Errors(403, 404);
        return app;
    }

    // No typed result: the handler writes the SSE frames itself as events arrive (a JSON 404 goes through ApiException first).
    private static async Task StreamAsync(string uuid, HttpContext http, SessionService sessions, SessionEventHub hub, TimeProvider time,
        IOptions<EventsOptions> options, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        // Unknown session: a JSON 404 before anything is streamed.
        var session = await sessions.FindAsync(uuid, http.RequestAborted);
        // The stream ends when the client leaves or the server stops (the client reconnects, maybe to another replica).
        using var end = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        var ct = end.Token;
        using var events = hub.Subscribe(session.Id);
        using var counted = http.RequestServices.GetRequiredService<Apertur.Server.Telemetry.AperturMetrics>().SseConnection();

        // Every frame goes out as it is written: no response buffering or compression batching.
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        var response = http.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";

        var logger = loggers.CreateLogger(typeof(EventsApi));
        LogOpened(logger, session.Id);
        try
        {
            await WriteAsync(response, SseFrame.Event(SessionEventNames.Connected, JsonSerializer.Serialize(new { sessionId = session.Id.ToString() })), ct);
            var heartbeat = options.Value.HeartbeatInterval;
            while (true)
            {
                if (!await WaitAsync(events, heartbeat, time, ct))
                {
                    await WriteAsync(response, SseFrame.Heartbeat, ct);
                    continue;
                }
                while (events.Reader.TryRead(out var evt))
                {
                    await WriteAsync(response, SseFrame.Event(evt.Name, evt.DataJson), ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away or the server is stopping: the only ways a stream ends.
        }
        LogClosed(logger, session.Id);
    }

    /// <summary>True when events are waiting; false when the interval passed in silence.</summary>
    private static async Task<bool> WaitAsync(SessionEventHub.Subscription events, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
        try
        {
            return await events.Reader.WaitToReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    // One frame, one write: the Node parser loses an event split across network reads.
    private static async Task WriteAsync(HttpResponse response, string frame, CancellationToken ct) =>
        await response.BodyWriter.WriteAsync(SseFrame.Bytes(frame), ct);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SSE stream opened for session {SessionId}")]
    private static partial void LogOpened(ILogger logger, Guid sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "SSE stream closed for session {SessionId}")]
    private static partial void LogClosed(ILogger logger, Guid sessionId);
}
