using System.Globalization;
using System.Text;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.CloudDrives;

/// <summary>
/// Emails a project once when one of its cloud drive destinations needs reconnecting (the provider refused the stored
/// grant), so deliveries waiting on it are not a silent loss. Run by <see cref="FailureNotifier"/>'s loop, with the same
/// SMTP settings and the same claim-then-send rule: the grant is marked (<c>reconnect_notified_at</c>) in a guarded update
/// before the email goes out, and unmarked if sending fails, so no replica or restart sends it twice.
/// </summary>
public sealed partial class ReconnectNotices(IServiceScopeFactory scopes, PublicUrls urls, TimeProvider time,
    IOptions<DeliveryOptions> delivery, SmtpMailer mailer, Apertur.Destinations.DestinationKindRegistry kinds, ILogger<ReconnectNotices> logger)
{
    private static readonly TimeSpan SmtpBackoff = TimeSpan.FromMinutes(1);
    private DateTimeOffset _smtpRetryAt = DateTimeOffset.MinValue;

    internal async Task NotifyDueAsync(CancellationToken ct)
    {
        var now = Iso.Millis(time.GetUtcNow());
        if (now < _smtpRetryAt)
        {
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var due = await db.OAuthConnections.AsNoTracking()
            .Where(c => c.Status == OAuthConnectionStatus.NeedsReconnect && c.ReconnectNotifiedAt == null)
            .Select(c => new { c.DestinationId, c.Generation })
            .ToListAsync(ct);
        foreach (var grant in due)
        {
            await NotifyAsync(db, grant.DestinationId, grant.Generation, now, ct);
        }
    }

    private async Task NotifyAsync(AperturDb db, Guid destinationId, long generation, DateTimeOffset now, CancellationToken ct)
    {
        var claimed = await db.OAuthConnections
            .Where(c => c.DestinationId == destinationId && c.Generation == generation && c.Status == OAuthConnectionStatus.NeedsReconnect
                && c.ReconnectNotifiedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ReconnectNotifiedAt, now), ct);
        if (claimed != 1)
        {
            return;
        }
        var found = await (
            from c in db.OAuthConnections.AsNoTracking()
            where c.DestinationId == destinationId
            join d in db.Destinations.AsNoTracking() on c.DestinationId equals d.Id
            join p in db.Projects.AsNoTracking() on d.ProjectId equals p.Id
            select new { Connection = c, Destination = d, Project = p })
            .FirstOrDefaultAsync(ct);
        if (found is null)
        {
            return;
        }
        var address = found.Project.NotificationEmail;
        if (!mailer.Configured || string.IsNullOrWhiteSpace(address))
        {
            LogSkipped(logger, found.Destination.Name, found.Project.Name,
                !mailer.Configured ? "Apertur:Smtp:Host is not set" : "the project has no notification email");
            return;
        }
        var waiting = await db.Deliveries.AsNoTracking()
            .CountAsync(d => d.DestinationId == destinationId && (d.Status == DeliveryStatus.Pending || d.Status == DeliveryStatus.Retrying || d.Status == DeliveryStatus.Sending), ct);
        var (subject, body) = Compose(found.Project.Name, found.Project.Id, found.Destination.Id, found.Destination.Name, found.Destination.Type,
            kinds.DisplayName(found.Destination.Type), found.Connection.AccountName, found.Connection.LastError, waiting, delivery.Value.RetryWindow, urls.BaseUrl());
        try
        {
            await mailer.SendAsync(address, subject, body, ct);
            LogSent(logger, found.Destination.Name, found.Project.Name, address);
        }
        catch (MailNotSentException e)
        {
            LogSendFailed(logger, e, found.Destination.Name);
            _smtpRetryAt = now + SmtpBackoff;
            await db.OAuthConnections.Where(c => c.DestinationId == destinationId && c.ReconnectNotifiedAt == now)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.ReconnectNotifiedAt, (DateTimeOffset?)null), CancellationToken.None);
        }
    }

    /// <summary>The plain-text notice: which destination, why, that nothing is lost yet, and how to reconnect.</summary>
    /// <param name="provider">How the kind is named (its <see cref="Apertur.Destinations.DestinationDescriptor.DisplayName"/>).</param>
    public static (string Subject, string Body) Compose(string projectName, Guid projectId, Guid destinationId, string destinationName, string kind,
        string provider, string? account, string? reason, int waiting, TimeSpan retryWindow, string baseUrl)
    {
        var inv = CultureInfo.InvariantCulture;
        var subject = $"[Apertur] Reconnect the {provider} destination \"{destinationName}\" in project \"{projectName}\"";
        var text = new StringBuilder();
        text.Append(inv, $"The {provider} destination \"{destinationName}\" ({kind}, {destinationId}) of project \"{projectName}\" can no longer deliver images");
        text.Append(account is null ? ".\n" : $" to the account {account}.\n");
        text.Append(inv, $"Reason: {reason ?? "the provider refused the stored authorization"}\n\n");
        text.Append(inv, $"Nothing is lost yet: {waiting} {(waiting == 1 ? "delivery is" : "deliveries are")} waiting, and every delivery to this destination ");
        text.Append(inv, $"is kept and retried for its retry window ({retryWindow.TotalDays.ToString("0.##", inv)} days). As soon as the account is connected again, ");
        text.Append("waiting deliveries are sent at once.\n\n");
        text.Append(inv, $"To reconnect, press Reconnect on the dashboard's Destinations page ({baseUrl}{Apertur.Server.Dashboard.DashboardRoutes.Destinations(projectId)}),\n");
        text.Append("or call the API with one of this project's keys and open the authorizeUrl it answers in a browser:\n");
        text.Append(inv, $"  POST {baseUrl}/api/v1/projects/{projectId}/destinations/{destinationId}/oauth/start\n");
        text.Append(inv, $"(or GET {baseUrl}/api/v1/projects/{projectId}/destinations/{destinationId}/oauth/start, which redirects there).\n");
        return (subject, text.ToString());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Emailed that destination {Destination} of project {Project} needs reconnecting to {Address}")]
    private static partial void LogSent(ILogger logger, string destination, string project, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not emailing that destination {Destination} of project {Project} needs reconnecting: {Reason}")]
    private static partial void LogSkipped(ILogger logger, string destination, string project, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Emailing that destination {Destination} needs reconnecting failed; trying again later")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string destination);
}
