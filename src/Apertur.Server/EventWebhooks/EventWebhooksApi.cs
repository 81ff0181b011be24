using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Projects;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.EventWebhooks;

/// <summary>
/// Event webhooks (docs/api.md "Event webhooks"): CRUD, a synchronous test send, the deliveries log and manual
/// retry. A key acts on its own project only: another project's id, or any id that is not a UUID, is 404.
/// </summary>
public static class EventWebhooksApi
{
    private const int DefaultLimit = 20;
    private const int MaxLimit = 100;

    public static IEndpointRouteBuilder MapEventWebhooksApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/projects/{projectId}/webhooks").AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        group.MapGet("", ListAsync);
        group.MapPost("", CreateAsync);
        group.MapGet("/{webhookId}", GetAsync);
        group.MapPatch("/{webhookId}", PatchAsync);
        group.MapDelete("/{webhookId}", DeleteAsync);
        group.MapPost("/{webhookId}/test", TestAsync);
        group.MapGet("/{webhookId}/deliveries", DeliveriesAsync);
        group.MapPost("/{webhookId}/deliveries/{deliveryId}/retry", RetryAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(string projectId, HttpContext http, AperturDb db, WebhookSecretsAtRest secrets, CancellationToken ct)
    {
        var project = ProjectOf(http, projectId);
        var webhooks = await db.EventWebhooks.AsNoTracking().Where(w => w.ProjectId == project)
            .OrderBy(w => w.CreatedAt).ThenBy(w => w.Id).ToListAsync(ct);
        return TypedResults.Ok(webhooks.Select(w => EventWebhookView.Of(w, secrets)).ToList());
    }

    private static async Task<IResult> CreateAsync(string projectId, HttpContext http, AperturDb db, WebhookSecretsAtRest secrets, TimeProvider time,
        CancellationToken ct)
    {
        var project = ProjectOf(http, projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var webhook = EventWebhookRequests.Create(body, project, Ids.New(time), Iso.Millis(time.GetUtcNow()), secrets);
        db.EventWebhooks.Add(webhook);
        await db.SaveChangesAsync(ct);
        return TypedResults.Created($"/api/v1/projects/{project}/webhooks/{webhook.Id}", EventWebhookView.Of(webhook, secrets));
    }

    private static async Task<IResult> GetAsync(string projectId, string webhookId, HttpContext http, AperturDb db, WebhookSecretsAtRest secrets,
        CancellationToken ct) =>
        TypedResults.Ok(EventWebhookView.Of(await FindAsync(db, ProjectOf(http, projectId), webhookId, ct), secrets));

    private static async Task<IResult> PatchAsync(string projectId, string webhookId, HttpContext http, AperturDb db, WebhookSecretsAtRest secrets,
        TimeProvider time, CancellationToken ct)
    {
        var webhook = await FindAsync(db, ProjectOf(http, projectId), webhookId, ct, track: true);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        EventWebhookRequests.Patch(webhook, body, Iso.Millis(time.GetUtcNow()));
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(EventWebhookView.Of(webhook, secrets));
    }

    private static async Task<IResult> DeleteAsync(string projectId, string webhookId, HttpContext http, AperturDb db, CancellationToken ct)
    {
        var webhook = await FindAsync(db, ProjectOf(http, projectId), webhookId, ct);
        // Its deliveries go with it (ON DELETE CASCADE).
        await db.EventWebhooks.Where(w => w.Id == webhook.Id).ExecuteDeleteAsync(ct);
        return TypedResults.NoContent();
    }

    /// <summary>Sends a <c>webhook.test</c> event now, signed like any other; the answer is 200 either way, saying what happened.</summary>
    private static async Task<IResult> TestAsync(string projectId, string webhookId, HttpContext http, AperturDb db, EventWebhookActions actions,
        CancellationToken ct)
    {
        var webhook = await FindAsync(db, ProjectOf(http, projectId), webhookId, ct);
        var (_, message) = await actions.SendTestAsync(webhook, ct);
        return TypedResults.Ok(new MessageView(message));
    }

    private static async Task<IResult> DeliveriesAsync(string projectId, string webhookId, HttpContext http, AperturDb db, int? page, int? limit,
        CancellationToken ct)
    {
        var webhook = await FindAsync(db, ProjectOf(http, projectId), webhookId, ct);
        if (page is < 1)
        {
            throw ApiException.BadRequest("'page' must be 1 or more.");
        }
        if (limit is < 1 or > MaxLimit)
        {
            throw ApiException.BadRequest($"'limit' must be between 1 and {MaxLimit}.");
        }
        var (number, size) = (page ?? 1, limit ?? DefaultLimit);
        var query = db.WebhookDeliveries.AsNoTracking().Where(d => d.WebhookId == webhook.Id);
        var total = await query.CountAsync(ct);
        var rows = await query.OrderByDescending(d => d.CreatedAt).ThenByDescending(d => d.Id)
            .Skip((number - 1) * size).Take(size).ToListAsync(ct);
        return TypedResults.Ok(new WebhookDeliveryPage(rows.Select(WebhookDeliveryView.Of).ToList(), total, number, size));
    }

    private static async Task<IResult> RetryAsync(string projectId, string webhookId, string deliveryId, HttpContext http, AperturDb db,
        EventWebhookActions actions, CancellationToken ct)
    {
        var webhook = await FindAsync(db, ProjectOf(http, projectId), webhookId, ct);
        return TypedResults.Ok(new MessageView(await actions.RetryAsync(webhook, Ids.ParseOrNotFound(deliveryId, "Delivery"), ct)));
    }

    // The route's project must be the caller's (docs/api.md "Authentication"); anything else is indistinguishable from a missing one.
    private static Guid ProjectOf(HttpContext http, string projectId) => http.RequireProject(projectId).ProjectId;

    internal static async Task<EventWebhook> FindAsync(AperturDb db, Guid projectId, string webhookId, CancellationToken ct, bool track = false)
    {
        var id = Ids.ParseOrNotFound(webhookId, "Webhook");
        var query = track ? db.EventWebhooks : db.EventWebhooks.AsNoTracking();
        return await query.FirstOrDefaultAsync(w => w.Id == id && w.ProjectId == projectId, ct)
            ?? throw ApiException.NotFound("Webhook not found.", "WEBHOOK_NOT_FOUND");
    }
}
