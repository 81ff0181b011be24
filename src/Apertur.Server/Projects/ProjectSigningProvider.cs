using Apertur.Destinations;
using Apertur.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Projects;

/// <summary>
/// The secrets that sign a project's outbound image webhooks at a given time: the current secret, plus the previous one
/// while it is younger than its 24 h grace period after a rotation. The delivery worker and the destination test use it.
/// </summary>
public static class ProjectSigningProvider
{
    /// <summary>How long a rotated-out secret keeps signing (in <c>webhook-signature</c>) next to the new one.</summary>
    public static readonly TimeSpan PreviousSecretGrace = TimeSpan.FromHours(24);

    /// <summary>The signing secrets of a loaded project at <paramref name="now"/>. The project must have a secret.</summary>
    public static ProjectSigning For(Project project, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(project);
        var current = project.WebhookSecret ?? throw new InvalidOperationException($"Project {project.Id} has no webhook secret.");
        var previous = project.PreviousWebhookSecret is { Length: > 0 } p && project.PreviousWebhookSecretExpiresAt > now ? p : null;
        return new ProjectSigning(current, previous);
    }

    /// <summary>The signing secrets of a project at <paramref name="now"/>; a project without a secret gets one first.</summary>
    public static async Task<ProjectSigning> GetAsync(AperturDb db, Guid projectId, DateTimeOffset now, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct)
            ?? throw new InvalidOperationException($"Project {projectId} does not exist.");
        if (project.WebhookSecret is null)
        {
            project.WebhookSecret = await EnsureWebhookSecretAsync(db, projectId, ct);
        }
        return For(project, now);
    }

    /// <summary>
    /// The project's webhook secret, generated and stored now if it has none (projects made before every project got one
    /// at creation). Safe under concurrency: only a null secret is replaced, and the stored value is what is returned.
    /// </summary>
    public static async Task<string> EnsureWebhookSecretAsync(AperturDb db, Guid projectId, CancellationToken ct)
    {
        var fresh = WebhookSecrets.Generate();
        await db.Projects.Where(p => p.Id == projectId && p.WebhookSecret == null)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.WebhookSecret, fresh), ct);
        return await db.Projects.Where(p => p.Id == projectId).Select(p => p.WebhookSecret).FirstAsync(ct)
            ?? throw new InvalidOperationException($"Project {projectId} has no webhook secret.");
    }
}
