using System.Text.Json.Serialization;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Projects;

/// <summary>
/// The key's own project (docs/api.md "Project"): read it, rename it, set the notification address, rotate the webhook
/// secret. Routing and mapping only: the rules are <see cref="ProjectService"/>'s.
/// </summary>
public static class ProjectApi
{
    public static IEndpointRouteBuilder MapProjectApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/project").AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        keyed.MapGet("", GetAsync);
        keyed.MapPatch("", PatchAsync);
        keyed.MapPost("/webhook-secret/rotate", RotateAsync);
        return app;
    }

    private static async Task<Ok<ProjectView>> GetAsync(HttpContext http, ProjectService projects, WebhookSecretsAtRest secrets, CancellationToken ct) =>
        TypedResults.Ok(View(await projects.LoadAsync(http.GetCaller(), ct), secrets));

    private static async Task<Ok<ProjectView>> PatchAsync(HttpContext http, ProjectService projects, WebhookSecretsAtRest secrets, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var project = await projects.PatchAsync(caller, body.Has("name"), body.Text("name"),
            body.Has("notificationEmail", "notification_email"), body.Text("notificationEmail", "notification_email"), ct);
        return TypedResults.Ok(View(project, secrets));
    }

    private static async Task<Ok<ProjectView>> RotateAsync(HttpContext http, ProjectService projects, WebhookSecretsAtRest secrets, CancellationToken ct) =>
        TypedResults.Ok(View(await projects.RotateWebhookSecretAsync(http.GetCaller(), ct), secrets));

    private static ProjectView View(Project p, WebhookSecretsAtRest secrets) => new(
        p.Id.ToString(), p.Name, secrets.Reveal(p.ProtectedWebhookSecret!), p.NotificationEmail, Iso.Format(p.CreatedAt), Iso.Format(p.PreviousWebhookSecretExpiresAt));
}

/// <summary>The project as <c>GET /api/v1/project</c> shows it (camelCase, like every project-data resource).</summary>
public sealed record ProjectView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("webhookSecret")] string WebhookSecret,
    [property: JsonPropertyName("notificationEmail")] string? NotificationEmail,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("previousWebhookSecretExpiresAt")] string? PreviousWebhookSecretExpiresAt);
