using System.Net.Mail;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Projects;

/// <summary>
/// What the project API and the dashboard's project pages share: the rules of a project's name and notification address,
/// and the key's own project read, changed and its webhook secret rotated. Failures are <see cref="ApiException"/>s.
/// </summary>
public sealed partial class ProjectService(AperturDb db, ProjectSigningProvider signing, WebhookSecretsAtRest secrets, TimeProvider time,
    ILogger<Project> logger)
{
    public const int MaxNameLength = 100;

    public static string ValidName(string? name) =>
        TextFields.Required(name, MaxNameLength, $"'name' must be 1 to {MaxNameLength} characters.");

    /// <summary>A bare address (no display name) or null/empty to clear.</summary>
    public static string? ValidEmail(string? email)
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

    /// <summary>The caller's project (tracked), given a webhook secret if it never had one.</summary>
    public async Task<Project> LoadAsync(Caller caller, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Id == caller.ProjectId, ct)
            ?? throw ApiException.NotFound("Project not found.", "PROJECT_NOT_FOUND");
        project.ProtectedWebhookSecret ??= await signing.EnsureWebhookSecretAsync(db, project.Id, ct);
        return project;
    }

    /// <summary>Applies the parts given (<paramref name="setName"/>, <paramref name="setEmail"/>: the field was sent) and saves.</summary>
    public async Task<Project> PatchAsync(Caller caller, bool setName, string? name, bool setEmail, string? email, CancellationToken ct)
    {
        var project = await LoadAsync(caller, ct);
        if (setName)
        {
            project.Name = ValidName(name);
        }
        if (setEmail)
        {
            project.NotificationEmail = ValidEmail(email);
        }
        await db.SaveChangesAsync(ct);
        return project;
    }

    /// <summary>The current secret becomes the previous one for 24 h (a second rotation replaces it); a new one signs from now.</summary>
    public async Task<Project> RotateWebhookSecretAsync(Caller caller, CancellationToken ct)
    {
        var project = await LoadAsync(caller, ct);
        WebhookSecrets.Rotate(project, secrets, time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        LogRotated(logger, project.Id, caller.KeyId);
        return project;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook secret of project {ProjectId} rotated by key {KeyId}")]
    private static partial void LogRotated(ILogger logger, Guid projectId, Guid keyId);
}
