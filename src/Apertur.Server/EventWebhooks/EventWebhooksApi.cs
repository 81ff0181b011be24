using System.ComponentModel;
using System.Text.Json.Serialization;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.OpenApi;
using Apertur.Server.Projects;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.EventWebhooks;

/// <summary>
/// Event webhooks (docs/api.md "Event webhooks"): CRUD, a synchronous test send, the deliveries log and manual
/// retry. A key acts on its own project only: another project's id, or any id that is not a UUID, is 404. Routing and
/// mapping only: <see cref="EventWebhookService"/> and <see cref="EventWebhookActions"/> do the work.
/// </summary>
public static class EventWebhooksApi
{
    public static IEndpointRouteBuilder MapEventWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/projects/{projectId}/webhooks").RequireApiKey().WithRateLimit(RateLimitPolicies.Api).WithTags("Event webhooks");
        group.MapGet("", ListAsync).WithName("ListEventWebhooks").WithSummary("The project's event webhooks").Errors(404);
        group.MapPost("", CreateAsync).WithName("CreateEventWebhook").WithSummary("Subscribe a URL to events")
            .Body<EventWebhookRequest>().Errors(400, 404);
        group.MapGet("/{webhookId}", GetAsync).WithName("GetEventWebhook").WithSummary("One event webhook").Errors(404);
        group.MapPatch("/{webhookId}", PatchAsync).WithName("UpdateEventWebhook").WithSummary("Change an event webhook")
            .Body<EventWebhookRequest>().Errors(400, 404);
        group.MapDelete("/{webhookId}", DeleteAsync).WithName("DeleteEventWebhook").WithSummary("Delete an event webhook and its deliveries")
            .Errors(404);
        group.MapPost("/{webhookId}/test", TestAsync).WithName("TestEventWebhook").WithSummary("Send a webhook.test event now").Errors(404);
        group.MapGet("/{webhookId}/deliveries", DeliveriesAsync).WithName("ListEventWebhookDeliveries")
            .WithSummary("An event webhook's deliveries, paged").Errors(400, 404);
        group.MapPost("/{webhookId}/deliveries/{deliveryId}/retry", RetryAsync).WithName("RetryEventWebhookDelivery")
            .WithSummary("Send one delivery again").Errors(404, 409);
        return app;
    }

    private static async Task<Ok<List<EventWebhookView>>> ListAsync(string projectId, HttpContext http, EventWebhookService webhooks,
        WebhookSecretsAtRest secrets, CancellationToken ct) =>
        TypedResults.Ok((await webhooks.ListAsync(ProjectOf(http, projectId), ct)).Select(w => EventWebhookView.Of(w, secrets)).ToList());

    private static async Task<Created<EventWebhookView>> CreateAsync(string projectId, HttpContext http, EventWebhookService webhooks,
        WebhookSecretsAtRest secrets, CancellationToken ct)
    {
        var project = ProjectOf(http, projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var webhook = await webhooks.CreateAsync(project, body, ct);
        return TypedResults.Created($"/api/v1/projects/{project}/webhooks/{webhook.Id}", EventWebhookView.Of(webhook, secrets));
    }

    private static async Task<Ok<EventWebhookView>> GetAsync(string projectId, string webhookId, HttpContext http, EventWebhookService webhooks,
        WebhookSecretsAtRest secrets, CancellationToken ct) =>
        TypedResults.Ok(EventWebhookView.Of(await webhooks.FindAsync(ProjectOf(http, projectId), webhookId, ct), secrets));

    private static async Task<Ok<EventWebhookView>> PatchAsync(string projectId, string webhookId, HttpContext http, EventWebhookService webhooks,
        WebhookSecretsAtRest secrets, CancellationToken ct)
    {
        // An unknown webhook is 404 before the body is read.
        var webhook = await webhooks.FindAsync(ProjectOf(http, projectId), webhookId, ct, track: true);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        return TypedResults.Ok(EventWebhookView.Of(await webhooks.PatchAsync(webhook, body, ct), secrets));
    }

    private static async Task<NoContent> DeleteAsync(string projectId, string webhookId, HttpContext http, EventWebhookService webhooks, CancellationToken ct)
    {
        await webhooks.DeleteAsync(ProjectOf(http, projectId), webhookId, ct);
        return TypedResults.NoContent();
    }

    /// <summary>Sends a <c>webhook.test</c> event now, signed like any other; the answer is 200 either way, saying what happened.</summary>
    private static async Task<Ok<MessageView>> TestAsync(string projectId, string webhookId, HttpContext http, EventWebhookService webhooks,
        EventWebhookActions actions, CancellationToken ct)
    {
        var webhook = await webhooks.FindAsync(ProjectOf(http, projectId), webhookId, ct);
        var (_, message) = await actions.SendTestAsync(webhook, ct);
        return TypedResults.Ok(new MessageView(message));
    }

    private static async Task<Ok<WebhookDeliveryPage>> DeliveriesAsync(string projectId, string webhookId, HttpContext http, EventWebhookService webhooks,
        int? page, int? limit, CancellationToken ct)
    {
        var (rows, total, number, size) = await webhooks.DeliveriesAsync(ProjectOf(http, projectId), webhookId, page, limit, ct);
        return TypedResults.Ok(new WebhookDeliveryPage(rows.Select(WebhookDeliveryView.Of).ToList(), total, number, size));
    }

    private static async Task<Ok<MessageView>> RetryAsync(string projectId, string webhookId, string deliveryId, HttpContext http,
        EventWebhookService webhooks, EventWebhookActions actions, CancellationToken ct)
    {
        var webhook = await webhooks.FindAsync(ProjectOf(http, projectId), webhookId, ct);
        return TypedResults.Ok(new MessageView(await actions.RetryAsync(webhook, Ids.ParseOrNotFound(deliveryId, "Delivery"), ct)));
    }

    // The route's project must be the caller's (docs/api.md "Authentication"); anything else is indistinguishable from a missing one.
    private static Guid ProjectOf(HttpContext http, string projectId) => http.RequireProject(projectId).ProjectId;
}

/// <summary>
/// The body of event webhook create and PATCH as the API reference shows it (each field also under its snake_case alias).
/// <c>url</c> and <c>topics</c> are required on create.
/// </summary>
public sealed record EventWebhookRequest(
    [property: JsonPropertyName("url"), Description("Absolute http or https URL.")] string? Url,
    [property: JsonPropertyName("topics"), Description("Topics, patterns with * or aliases (alias events).")] IReadOnlyList<string>? Topics,
    [property: JsonPropertyName("isActive"), Description("PATCH: re-activating clears the failure count.")] bool? IsActive,
    [property: JsonPropertyName("signatureMethod"), Description("hmac_sha256 (default) or svix.")] string? SignatureMethod,
    [property: JsonPropertyName("maxRetries"), Description("0–20, default 5.")] int? MaxRetries,
    [property: JsonPropertyName("retryIntervals"), Description("1–20 waits in seconds; the last repeats.")] IReadOnlyList<int>? RetryIntervals,
    [property: JsonPropertyName("disableAfterFailures"), Description("Consecutive failures that deactivate the webhook, default 20.")] int? DisableAfterFailures,
    [property: JsonPropertyName("customHeaders"), Description("Up to 20 string headers.")] IReadOnlyDictionary<string, string>? CustomHeaders);
