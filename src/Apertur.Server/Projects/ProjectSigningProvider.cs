using Apertur.Destinations;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Projects;

/// <summary>
/// The secrets that sign a project's outbound image webhooks at a given time: the current secret, plus the previous one
/// while it is younger than its 24 h grace period after a rotation, both revealed from their encrypted columns
/// (<see cref="WebhookSecretsAtRest"/>). The delivery worker and the destination test use it.
/// </summary>
public sealed class ProjectSigningProvider(WebhookSecretsAtRest secrets)
{
    /// <summary>How long a rotated-out secret keeps signing (in <c>webhook-signature</c>) next to the new one.</summary>
    public static readonly TimeSpan PreviousSecretGrace = TimeSpan.FromHours(24);

    /// <summary>The signing secrets of a loaded project at <paramref name="now"/>. The project must have a secret.</summary>
    public ProjectSigning For(Project project, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(project);
        var current = project.ProtectedWebhookSecret ?? throw new InvalidOperationException($"Project {project.Id} has no webhook secret.");
        var previous = project.ProtectedPreviousWebhookSecret is { Length: > 0 } p && project.PreviousWebhookSecretExpiresAt > now ? p : null;
        return new ProjectSigning(secrets.Reveal(current), previous is null ? null : secrets.Reveal(previous));
    }

    /// <summary>The signing secrets of a project at <paramref name="now"/>; a project without a secret gets one first.</summary>
    public async Task<ProjectSigning> GetAsync(AperturDb db, Guid projectId, DateTimeOffset now, CancellationToken ct)
    {
        var project = await db.Projects.AsNoTracking().FirstOrDefaultAsync(p => p.Id == projectId, ct)
            ?? throw new InvalidOperationException($"Project {projectId} does not exist.");
        project.ProtectedWebhookSecret ??= await EnsureWebhookSecretAsync(db, projectId, ct);
        return For(project, now);
    }

    /// <summary>
    /// The project's webhook secret as stored (encrypted), generated and stored now if it has none (projects made before
    /// every project got one at creation). Safe under concurrency: only a null secret is replaced, and the stored value is
    /// what is returned.
    /// </summary>
    public async Task<string> EnsureWebhookSecretAsync(AperturDb db, Guid projectId, CancellationToken ct)
    {
        var fresh = secrets.Protect(WebhookSecrets.Generate());
        await db.Projects.Where(p => p.Id == projectId && p.ProtectedWebhookSecret == null)
            .ExecuteUpdateAsync(s => s.SetProperty(p => p.ProtectedWebhookSecret, fresh), ct);
        return await db.Projects.Where(p => p.Id == projectId).Select(p => p.ProtectedWebhookSecret).FirstAsync(ct)
            ?? throw new InvalidOperationException($"Project {projectId} has no webhook secret.");
    }
}
