using System.Text.Json.Serialization;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Sessions;
using Apertur.Server.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Deliveries;

/// <summary>
/// The project's image deliveries (the dashboard's delivery log, over the API): list, one with its attempt log, and the
/// manual retry that re-queues a failed delivery with a fresh retry window (docs/api.md "Deliveries").
/// </summary>
public static class DeliveriesApi
{
    public static IEndpointRouteBuilder MapDeliveriesApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/deliveries").RequireApiKey().WithRateLimit(RateLimitPolicies.Api).WithTags("Deliveries");
        keyed.MapGet("", ListAsync).WithName("ListDeliveries").WithSummary("The project's image deliveries, paged, newest first").Errors(400);
        keyed.MapPost("/retry-failed", RetryFailedAsync).WithName("RetryFailedDeliveries")
            .WithSummary("Re-queue every failed delivery, or those of one session").Body<RetryFailedRequest>().Errors(400);
        keyed.MapGet("/{id}", GetAsync).WithName("GetDelivery").WithSummary("One delivery with its attempt log").Errors(404);
        keyed.MapPost("/{id}/retry", RetryAsync).WithName("RetryDelivery").WithSummary("Re-queue a failed delivery with a fresh retry window")
            .Errors(404, 409);
        return app;
    }

    private static async Task<Ok<Page<DeliveryView>>> ListAsync(HttpContext http, DeliveryLog log, string? status, string? sessionId, string? destinationId,
        string? from, string? until, int? page, int? pageSize, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var (number, size) = Paging.Normalise(page, pageSize);
        var filter = new DeliveryFilter(status, OptionalId(sessionId, "sessionId"), OptionalId(destinationId, "destinationId"),
            OptionalTime(from, "from"), OptionalTime(until, "until"));
        var (entries, total) = await log.ListAsync(caller.ProjectId, filter, number, size, ct);
        return TypedResults.Ok(new Page<DeliveryView>(entries.Select(e => e.ToView()).ToList(), total, number, size, Paging.TotalPages(total, size)));
    }

    private static async Task<Ok<DeliveryDetail>> GetAsync(string id, HttpContext http, DeliveryLog log, CancellationToken ct)
    {
        var (entry, attempts) = await log.GetAsync(http.GetCaller().ProjectId, Ids.ParseOrNotFound(id, "Delivery"), ct);
        return TypedResults.Ok(new DeliveryDetail(entry.ToView(), attempts.Select(a => new AttemptView(
            a.Attempt, Iso.Format(a.StartedAt), a.DurationMs, a.Outcome, a.StatusCode, a.ResponseSnippet, a.Error)).ToList()));
    }

    private static async Task<Ok<RetryResult>> RetryAsync(string id, HttpContext http, DeliveryLog log, CancellationToken ct)
    {
        var entry = await log.RetryAsync(http.GetCaller().ProjectId, Ids.ParseOrNotFound(id, "Delivery"), ct);
        return TypedResults.Ok(new RetryResult("Delivery re-queued: it will be attempted again now.", entry.ToView()));
    }

    private static async Task<Ok<RetryFailedResult>> RetryFailedAsync(HttpContext http, DeliveryLog log, string? sessionId, CancellationToken ct)
    {
        var projectId = http.GetCaller().ProjectId;
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var session = OptionalId(sessionId ?? body.Text("sessionId", "session_id"), "sessionId");
        var count = await log.RetryFailedAsync(projectId, session, ct);
        return TypedResults.Ok(new RetryFailedResult($"Re-queued {count} failed {(count == 1 ? "delivery" : "deliveries")}.", count));
    }

    private static Guid? OptionalId(string? text, string name) =>
        string.IsNullOrEmpty(text) ? null : Guid.TryParse(text, out var id) ? id : throw ApiException.BadRequest($"'{name}' must be an id.");

    private static DateTimeOffset? OptionalTime(string? text, string name) =>
        string.IsNullOrEmpty(text) ? null : Iso.TryParse(text, out var at) ? at : throw ApiException.BadRequest($"'{name}' must be an ISO-8601 date-time.");
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

/// <summary>The optional body of <c>POST /api/v1/deliveries/retry-failed</c> (the query's <c>sessionId</c> wins).</summary>
public sealed record RetryFailedRequest([property: JsonPropertyName("sessionId")] string? SessionId);
