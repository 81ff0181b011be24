using Apertur.Server.Dashboard.Accounts;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Hosting;
using Apertur.Server.Projects;
using Apertur.Server.Retention;
using Apertur.Server.Sessions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Dashboard.Projects;

/// <summary>Project settings (owners): name, notification e-mail, retry window, session defaults, retention, webhook secret, members.</summary>
public sealed class SettingsModel(AperturDb db, AccountService accounts, ProjectSigningProvider signing, WebhookSecretsAtRest secrets,
    TimeProvider time, IOptions<DeliveryOptions> delivery, IOptions<UploadSessionOptions> sessions, IOptions<UploadOptions> uploads,
    IOptions<RetentionOptions> retention) : ProjectPageModel
{
    public sealed record MemberRow(Guid UserId, string Username, string Role, bool IsAdmin, DateTimeOffset? LastLoginAt);

    public IReadOnlyList<MemberRow> Members { get; private set; } = [];

    /// <summary>The project's webhook secret itself, for owners to reveal and copy.</summary>
    public string WebhookSecret { get; private set; } = "";

    public DateTimeOffset Now => time.GetUtcNow();

    public int ServerRetryWindowHours => (int)delivery.Value.RetryWindow.TotalHours;
    public int ServerDefaultMaxImages => sessions.Value.DefaultMaxImages;
    public int MaxImagesCap => sessions.Value.MaxImagesCap;
    public int ServerDefaultExpiryMinutes => (int)sessions.Value.DefaultExpiry.TotalMinutes;
    public int MaxExpiryMinutes => (int)sessions.Value.MaxExpiry.TotalMinutes;
    public int MaxImageSizeMb => (int)(uploads.Value.MaxImageBytes / (1024 * 1024));
    public TimeSpan ServerImagesAfterDelivery => retention.Value.ImagesAfterDelivery;
    public TimeSpan ServerMaxImageAge => retention.Value.MaxImageAge;

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostProjectAsync(string? name, string? notificationEmail, int? retryWindowHours, int? defaultMaxImages,
        int? defaultExpiryMinutes, int? defaultMaxImageSizeMb, string? imagesAfterDeliveryDays, string? maxImageAgeDays, CancellationToken ct)
    {
        var ok = await TryAsync(() =>
        {
            var validName = ProjectService.ValidName(name);
            var email = ProjectService.ValidEmail(notificationEmail);
            Project.RetryWindowMinutes = Within(retryWindowHours, 1, 720, "The retry window must be 1 to 720 hours.") * 60;
            Project.DefaultMaxImages = Within(defaultMaxImages, 1, MaxImagesCap, $"Max images must be 1 to {MaxImagesCap}.");
            Project.DefaultExpiryMinutes = Within(defaultExpiryMinutes, 1, MaxExpiryMinutes, $"The session lifetime must be 1 to {MaxExpiryMinutes} minutes.");
            Project.DefaultMaxImageSizeMb = Within(defaultMaxImageSizeMb, 1, Math.Max(1, MaxImageSizeMb), $"The image size must be 1 to {MaxImageSizeMb} MB.");
            Project.ImagesAfterDeliveryMinutes = ProjectRetention.ValidImagesAfterDelivery(imagesAfterDeliveryDays, ServerImagesAfterDelivery);
            Project.MaxImageAgeMinutes = ProjectRetention.ValidMaxImageAge(maxImageAgeDays, ServerMaxImageAge);
            Project.Name = validName;
            Project.NotificationEmail = email;
            return Task.CompletedTask;
        });
        if (!ok)
        {
            await db.Entry(Project).ReloadAsync(ct);
            await LoadAsync(ct);
            return Page();
        }
        await db.SaveChangesAsync(ct);
        Notice = "Settings saved.";
        return Redirect(DashboardRoutes.Settings(Project.Id));
    }

    public async Task<IActionResult> OnPostRotateAsync(CancellationToken ct)
    {
        Project.ProtectedWebhookSecret ??= await signing.EnsureWebhookSecretAsync(db, Project.Id, ct);
        WebhookSecrets.Rotate(Project, secrets, time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        Notice = "Webhook secret rotated. The previous one keeps signing for 24 hours.";
        return Redirect(DashboardRoutes.Settings(Project.Id));
    }

    public async Task<IActionResult> OnPostAddMemberAsync(string? username, string? role, string? initialPassword, CancellationToken ct)
    {
        if (!await TryAsync(() => accounts.AddMemberAsync(Project.Id, username, role, initialPassword, ct)))
        {
            await LoadAsync(ct);
            return Page();
        }
        Notice = $"{AccountService.NormaliseUsername(username)} is now {role} of this project.";
        return Redirect(DashboardRoutes.Settings(Project.Id));
    }

    public async Task<IActionResult> OnPostRemoveMemberAsync(Guid userId, CancellationToken ct)
    {
        if (!await TryAsync(() => accounts.RemoveMemberAsync(Project.Id, userId, ct)))
        {
            await LoadAsync(ct);
            return Page();
        }
        Notice = "Member removed.";
        return Redirect(DashboardRoutes.Settings(Project.Id));
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Project.ProtectedWebhookSecret ??= await signing.EnsureWebhookSecretAsync(db, Project.Id, ct);
        WebhookSecret = IsOwner ? secrets.Reveal(Project.ProtectedWebhookSecret) : "";
        Members = await (
                from m in db.ProjectMembers.AsNoTracking()
                join u in db.DashboardUsers.AsNoTracking() on m.UserId equals u.Id
                where m.ProjectId == Project.Id
                orderby u.Username
                select new MemberRow(u.Id, u.Username, m.Role, u.IsAdmin, u.LastLoginAt))
            .ToListAsync(ct);
    }

    private static int? Within(int? value, int min, int max, string message) =>
        value is null ? null : value >= min && value <= max ? value : throw ApiException.BadRequest(message);
}
