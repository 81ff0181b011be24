using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Polling;

/// <summary>
/// Delivery status (docs/api.md "Delivery status"): the snapshot, or with <c>pollFrom</c> a long-poll that answers
/// as soon as the session changed after that instant, or with the unchanged snapshot at the hold limit (<see cref="DeliveryStatusPoll"/>).
/// Kept beside polling rather than in a <c>DeliveryStatus/</c> folder: that namespace would shadow
/// <c>Deliveries.DeliveryStatus</c> for every file under <c>Apertur.Server</c>, and its setting lives in <c>Apertur:Polling</c>.
/// </summary>
public static class DeliveryStatusApi
{
    public static IEndpointRouteBuilder MapDeliveryStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/v1").RequireApiKey()
            .MapGet("/upload-sessions/{uuid}/delivery-status", GetAsync)
            .WithRateLimit(RateLimitPolicies.SessionRead)
            .WithTags("Delivery status").WithName("GetDeliveryStatus")
            .WithSummary("Delivery status per file and destination; with pollFrom, waits until something changes").Errors(400, 404);
        return app;
    }

    private static async Task<Ok<DeliveryStatusSnapshot>> GetAsync(string uuid, string? pollFrom, HttpContext http, DeliveryStatusPoll poll,
        CancellationToken ct)
    {
        DateTimeOffset? since = null;
        if (!string.IsNullOrWhiteSpace(pollFrom))
        {
            since = DeliveryStatusPoll.TryParsePollFrom(pollFrom, out var parsed)
                ? parsed
                : throw ApiException.BadRequest("'pollFrom' must be an ISO-8601 date-time such as a previous lastChanged.", "INVALID_POLL_FROM");
        }
        // Changed or not, the answer is 200 with the current snapshot: never 204 or 304.
        return TypedResults.Ok(await poll.ReadAsync(http.GetCaller().ProjectId, uuid, since, ct));
    }
}
