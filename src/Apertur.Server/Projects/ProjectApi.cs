using System.ComponentModel;
using System.Text.Json.Serialization;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.OpenApi;
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
        var keyed = app.MapGroup("/api/v1/project").RequireApiKey().WithRateLimit(RateLimitPolicies.Api).WithTags("Project");
        keyed.MapGet("", GetAsync).WithName("GetProject").WithSummary("The key's project");
        keyed.MapPatch("", PatchAsync).WithName("UpdateProject").WithSummary("Rename the project or set its notification e-mail")
            .Body<ProjectPatchRequest>().Errors(400);
        keyed.MapPost("/webhook-secret/rotate", RotateAsync).WithName("RotateWebhookSecret")
            .WithSummary("A new webhook secret; the previous one keeps signing beside it for 24 h");
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

/// <summary>The body of <c>PATCH /api/v1/project</c> as the API reference shows it; absent fields stay.</summary>
public sealed record ProjectPatchRequest(
    [property: JsonPropertyName("name"), Description("1–100 characters.")] string? Name,
    [property: JsonPropertyName("notificationEmail"), Description("Where delivery-failure e-mails go (alias notification_email); null clears it.")] string? NotificationEmail);
