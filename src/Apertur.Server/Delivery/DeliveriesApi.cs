using System.Text.Json.Serialization;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Sessions;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Delivery;

/// <summary>
/// The project's image deliveries (the dashboard's delivery log, over the API): list, one with its attempt log, and the
/// manual retry that re-queues a failed delivery with a fresh retry window (design.md "Retries and failure").
/// </summary>
public static class DeliveriesApi
{
    private static readonly string[] Statuses =
        [DeliveryStatus.Pending, DeliveryStatus.Sending, DeliveryStatus.Sent, DeliveryStatus.Failed, DeliveryStatus.Retrying];

    public static IEndpointRouteBuilder MapDeliveriesApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/deliveries").AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        keyed.MapGet("", ListAsync);
        keyed.MapPost("/retry-failed", RetryFailedAsync);
        keyed.MapGet("/{id}", GetAsync);
        keyed.MapPost("/{id}/retry", RetryAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext http, AperturDb db, TimeProvider time, string? status, string? sessionId,
        int? page, int? pageSize, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var (number, size) = Paging.Normalise(page, pageSize);
        var query = Rows(db, caller.ProjectId);
        if (!string.IsNullOrEmpty(status))
        {
            query = Statuses.Contains(status)
                ? query.Where(r => r.Delivery.Status == status)
                : throw ApiException.BadRequest($"'status' must be one of {string.Join(", ", Statuses)}.");
        }
        if (!string.IsNullOrEmpty(sessionId))
        {
            var session = Guid.TryParse(sessionId, out var parsed) ? parsed : throw ApiException.BadRequest("'sessionId' must be a session id.");
            query = query.Where(r => r.Delivery.SessionId == session);
        }
        var total = await query.CountAsync(ct);
        var rows = await query.OrderByDescending(r => r.Delivery.CreatedAt).ThenByDescending(r => r.Delivery.Id)
            .Skip((number - 1) * size).Take(size).ToListAsync(ct);
        return TypedResults.Ok(new Page<DeliveryView>(rows.Select(r => r.ToView()).ToList(), total, number, size, Paging.TotalPages(total, size)));
    }

    private static async Task<IResult> GetAsync(string id, HttpContext http, AperturDb db, CancellationToken ct)
    {
        var row = await FindAsync(db, http.GetCaller().ProjectId, id, ct);
        var log = await db.DeliveryAttempts.AsNoTracking().Where(a => a.DeliveryId == row.Delivery.Id)
            .OrderBy(a => a.StartedAt).ThenBy(a => a.Attempt).ToListAsync(ct);
        return TypedResults.Ok(new DeliveryDetail(row.ToView(), log.Select(a => new AttemptView(
            a.Attempt, Iso.Format(a.StartedAt), a.DurationMs, a.Outcome, a.StatusCode, a.ResponseSnippet, a.Error)).ToList()));
    }

    private static async Task<IResult> RetryAsync(string id, HttpContext http, AperturDb db, TimeProvider time, DeliveryNudge nudge, CancellationToken ct)
    {
        var projectId = http.GetCaller().ProjectId;
        var row = await FindAsync(db, projectId, id, ct);
        var now = Iso.Millis(time.GetUtcNow());
        var requeued = await Requeue(db.Deliveries.Where(d => d.Id == row.Delivery.Id && d.Status == DeliveryStatus.Failed), now, ct);
        if (requeued == 0)
        {
            throw new ApiException(409, "DELIVERY_NOT_FAILED", $"Only a failed delivery can be retried; this one is {row.Delivery.Status}.");
        }
        await TouchSessionsAsync(db, [row.Delivery.SessionId], now, ct);
        nudge.Poke();
        var fresh = await FindAsync(db, projectId, id, ct);
        return TypedResults.Ok(new RetryResult("Delivery re-queued: it will be attempted again now.", fresh.ToView()));
    }

    private static async Task<IResult> RetryFailedAsync(HttpContext http, AperturDb db, TimeProvider time, DeliveryNudge nudge, string? sessionId,
        CancellationToken ct)
    {
        var projectId = http.GetCaller().ProjectId;
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var sessionText = sessionId ?? body.Text("sessionId", "session_id");
        var failed = db.Deliveries.Where(d => d.Status == DeliveryStatus.Failed && db.Sessions.Any(s => s.Id == d.SessionId && s.ProjectId == projectId));
        if (!string.IsNullOrEmpty(sessionText))
        {
            var session = Guid.TryParse(sessionText, out var parsed) ? parsed : throw ApiException.BadRequest("'sessionId' must be a session id.");
            failed = failed.Where(d => d.SessionId == session);
        }
        var now = Iso.Millis(time.GetUtcNow());
        var sessions = await failed.Select(d => d.SessionId).Distinct().ToListAsync(ct);
        var count = await Requeue(failed, now, ct);
        await TouchSessionsAsync(db, sessions, now, ct);
        if (count > 0)
        {
            nudge.Poke();
        }
        return TypedResults.Ok(new RetryFailedResult($"Re-queued {count} failed {(count == 1 ? "delivery" : "deliveries")}.", count));
    }

    /// <summary>Due now, a fresh retry window and schedule, not yet notified: as if it had just been uploaded.</summary>
    private static Task<int> Requeue(IQueryable<Delivery> deliveries, DateTimeOffset now, CancellationToken ct) =>
        deliveries.ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Status, DeliveryStatus.Pending)
            .SetProperty(d => d.Attempts, 0)
            .SetProperty(d => d.NextAttemptAt, now)
            .SetProperty(d => d.FirstAttemptAt, (DateTimeOffset?)null)
            .SetProperty(d => d.NotifiedAt, (DateTimeOffset?)null)
            .SetProperty(d => d.LeaseToken, (Guid?)null)
            .SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null)
            .SetProperty(d => d.UpdatedAt, now), ct);

    private static async Task TouchSessionsAsync(AperturDb db, List<Guid> sessionIds, DateTimeOffset now, CancellationToken ct)
    {
        if (sessionIds.Count > 0)
        {
            await db.Sessions.Where(s => sessionIds.Contains(s.Id) && s.LastChangedAt < now)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastChangedAt, now), ct);
        }
    }

    private static IQueryable<DeliveryRow> Rows(AperturDb db, Guid projectId) =>
        from d in db.Deliveries.AsNoTracking()
        join s in db.Sessions.AsNoTracking() on d.SessionId equals s.Id
        where s.ProjectId == projectId
        join dest in db.Destinations.AsNoTracking() on d.DestinationId equals dest.Id into found
        from dest in found.DefaultIfEmpty()
        select new DeliveryRow { Delivery = d, DestinationName = dest == null ? null : dest.Name, DestinationType = dest == null ? null : dest.Type };

    private static async Task<DeliveryRow> FindAsync(AperturDb db, Guid projectId, string id, CancellationToken ct)
    {
        var deliveryId = Ids.ParseOrNotFound(id, "Delivery");
        return await Rows(db, projectId).FirstOrDefaultAsync(r => r.Delivery.Id == deliveryId, ct)
            ?? throw ApiException.NotFound("Delivery not found.", "DELIVERY_NOT_FOUND");
    }

    private sealed class DeliveryRow
    {
        public required Delivery Delivery { get; init; }
        public string? DestinationName { get; init; }
        public string? DestinationType { get; init; }

        public DeliveryView ToView()
        {
            var d = Delivery;
            var waiting = d.Status is DeliveryStatus.Pending or DeliveryStatus.Retrying;
            return new DeliveryView(d.Id.ToString(), d.ImageId.ToString(), d.SessionId.ToString(), d.DestinationId.ToString(),
                DestinationName, DestinationType, d.Status, d.Attempts, d.LastError, d.LastStatusCode,
                waiting ? Iso.Format(d.NextAttemptAt) : null, Iso.Format(d.CreatedAt), Iso.Format(d.UpdatedAt));
        }
    }
}

public sealed record DeliveryView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("imageId")] string ImageId,
    [property: JsonPropertyName("sessionId")] string SessionId,
    [property: JsonPropertyName("destinationId")] string DestinationId,
    [property: JsonPropertyName("destinationName")] string? DestinationName,
    [property: JsonPropertyName("destinationType")] string? DestinationType,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("lastError")] string? LastError,
    [property: JsonPropertyName("lastStatusCode")] int? LastStatusCode,
    [property: JsonPropertyName("nextAttemptAt")] string? NextAttemptAt,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("updatedAt")] string UpdatedAt);

/// <summary>One delivery and its attempt log (<c>attemptLog</c>; <c>attempts</c> stays the count, as in the list).</summary>
public sealed record DeliveryDetail(
    [property: JsonIgnore] DeliveryView View,
    [property: JsonPropertyName("attemptLog")] IReadOnlyList<AttemptView> AttemptLog)
{
    [JsonPropertyName("id")] public string Id => View.Id;
    [JsonPropertyName("imageId")] public string ImageId => View.ImageId;
    [JsonPropertyName("sessionId")] public string SessionId => View.SessionId;
    [JsonPropertyName("destinationId")] public string DestinationId => View.DestinationId;
    [JsonPropertyName("destinationName")] public string? DestinationName => View.DestinationName;
    [JsonPropertyName("destinationType")] public string? DestinationType => View.DestinationType;
    [JsonPropertyName("status")] public string Status => View.Status;
    [JsonPropertyName("attempts")] public int Attempts => View.Attempts;
    [JsonPropertyName("lastError")] public string? LastError => View.LastError;
    [JsonPropertyName("lastStatusCode")] public int? LastStatusCode => View.LastStatusCode;
    [JsonPropertyName("nextAttemptAt")] public string? NextAttemptAt => View.NextAttemptAt;
    [JsonPropertyName("createdAt")] public string CreatedAt => View.CreatedAt;
    [JsonPropertyName("updatedAt")] public string UpdatedAt => View.UpdatedAt;
}

public sealed record AttemptView(
    [property: JsonPropertyName("attempt")] int Attempt,
    [property: JsonPropertyName("startedAt")] string StartedAt,
    [property: JsonPropertyName("durationMs")] int DurationMs,
    [property: JsonPropertyName("outcome")] string Outcome,
    [property: JsonPropertyName("statusCode")] int? StatusCode,
    [property: JsonPropertyName("responseSnippet")] string? ResponseSnippet,
    [property: JsonPropertyName("error")] string? Error);

public sealed record RetryResult(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("delivery")] DeliveryView Delivery);

public sealed record RetryFailedResult(
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("count")] int Count);
