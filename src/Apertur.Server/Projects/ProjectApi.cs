using System.Net.Mail;
using System.Text.Json.Serialization;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Projects;

/// <summary>The key's own project: read it, rename it, set the notification address, rotate the webhook secret.</summary>
public static partial class ProjectApi
{
    public const int MaxNameLength = 100;

    public static IEndpointRouteBuilder MapProjectApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/project").AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        keyed.MapGet("", GetAsync);
        keyed.MapPatch("", PatchAsync);
        keyed.MapPost("/webhook-secret/rotate", RotateAsync);
        return app;
    }

    private static async Task<IResult> GetAsync(HttpContext http, AperturDb db, ProjectSigningProvider signing, WebhookSecretsAtRest secrets,
        CancellationToken ct)
    {
        var project = await LoadAsync(db, signing, http.GetCaller(), ct);
        return TypedResults.Ok(View(project, secrets));
    }

    private static async Task<IResult> PatchAsync(HttpContext http, AperturDb db, ProjectSigningProvider signing, WebhookSecretsAtRest secrets,
        CancellationToken ct)
    {
        var caller = http.GetCaller();
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var project = await LoadAsync(db, signing, caller, ct);
        if (body.Has("name"))
        {
            project.Name = ValidName(body.Text("name"));
        }
        if (body.Has("notificationEmail", "notification_email"))
        {
            project.NotificationEmail = ValidEmail(body.Text("notificationEmail", "notification_email"));
        }
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(View(project, secrets));
    }

    /// <summary>The current secret becomes the previous one for 24 h (a second rotation replaces it); a new one signs from now.</summary>
    private static async Task<IResult> RotateAsync(HttpContext http, AperturDb db, ProjectSigningProvider signing, WebhookSecretsAtRest secrets,
        TimeProvider time, ILogger<Project> logger, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var project = await LoadAsync(db, signing, caller, ct);
        WebhookSecrets.Rotate(project, secrets, time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        LogRotated(logger, project.Id, caller.KeyId);
        return TypedResults.Ok(View(project, secrets));
    }

    private static async Task<Project> LoadAsync(AperturDb db, ProjectSigningProvider signing, Caller caller, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == caller.ProjectId, ct)
            ?? throw ApiException.NotFound("Project not found.", "PROJECT_NOT_FOUND");
        project.ProtectedWebhookSecret ??= await signing.EnsureWebhookSecretAsync(db, project.Id, ct);
        return project;
    }

    internal static string ValidName(string? name)
    {
        var trimmed = name?.Trim();
        return string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxNameLength
            ? throw ApiException.BadRequest($"'name' must be 1 to {MaxNameLength} characters.")
            : trimmed;
    }

    /// <summary>A bare address (no display name) or null/empty to clear.</summary>
    internal static string? ValidEmail(string? email)
    {
        var trimmed = email?.Trim();
        if (string.IsNullOrEmpty(trimmed))
        {
            return null;
        }
        return trimmed.Length <= 254 && MailAddress.TryCreate(trimmed, out var address) && address.Address == trimmed
            && address.DisplayName.Length == 0 && !trimmed.Any(char.IsWhiteSpace)
            ? trimmed
            : throw ApiException.BadRequest($"'notificationEmail' must be an e-mail address such as ops@example.com, or null to clear it (got '{trimmed}').");
    }

    private static ProjectView View(Project p, WebhookSecretsAtRest secrets) => new(
        p.Id.ToString(), p.Name, secrets.Reveal(p.ProtectedWebhookSecret!), p.NotificationEmail, Iso.Format(p.CreatedAt), Iso.Format(p.PreviousWebhookSecretExpiresAt));

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook secret of project {ProjectId} rotated by key {KeyId}")]
    private static partial void LogRotated(ILogger logger, Guid projectId, Guid keyId);
}

/// <summary>The project as <c>GET /api/v1/project</c> shows it (camelCase, like every project-data resource).</summary>
public sealed record ProjectView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("webhookSecret")] string WebhookSecret,
    [property: JsonPropertyName("notificationEmail")] string? NotificationEmail,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("previousWebhookSecretExpiresAt")] string? PreviousWebhookSecretExpiresAt);
