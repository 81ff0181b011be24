using System.Globalization;
using System.Text;
using Apertur.Server.CloudDrives;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Queues;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Deliveries;

/// <summary>
/// Tells a project by email when deliveries fail for good: one email per batch, i.e. every failure of the project not yet
/// notified, sent once the oldest of them is <see cref="DeliveryOptions.NotificationBatchWindow"/> old. The deliveries
/// are marked (<c>notified_at</c>) in the same guarded update that claims them, before the email goes out, so a restart or
/// another replica never sends the same failure twice; if sending fails, the mark is taken back and it is tried again.
/// A project without a notification address, or a server without <c>Apertur:Smtp:Host</c>, is logged and marked.
/// Each pass also sends the "needs reconnect" emails of cloud drive destinations (<see cref="ReconnectNotices"/>).
/// </summary>
public sealed partial class FailureNotifier(IServiceScopeFactory scopes, FailureNudge nudge, PublicUrls urls, TimeProvider time,
    IOptions<DeliveryOptions> delivery, IOptions<WorkersOptions> workers, SmtpMailer mailer, ReconnectNotices reconnects, IJobLock jobs, ILogger<FailureNotifier> logger) : BackgroundService
{
    private const int MaxListed = 100;
    private static readonly TimeSpan SmtpBackoff = TimeSpan.FromMinutes(1);
    private DateTimeOffset _smtpRetryAt = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stopping = stoppingToken;
        if (!workers.Value.Enabled)
        {
            return;
        }
        await Task.Yield();
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                try
                {
                    // One replica sends at a time (docs/scale-out.md).
                    await jobs.TryRunAsync(Jobs.FailureEmails, NotifyDueAsync, stopping);
                    // Cloud drive destinations whose grant was refused: one "reconnect" email each.
                    await jobs.TryRunAsync(Jobs.ReconnectNotices, reconnects.NotifyDueAsync, stopping);
                }
                // Anything but stopping (a timeout's cancellation included) fails this pass only, never the host.
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    DatabaseUnavailable.LogJobFailure(logger, e, "Failure e-mails", LogPassFailed);
                }
                await nudge.WaitAsync(delivery.Value.PollInterval, time, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopping; what was not sent is found again at the next start.
        }
    }

    /// <summary>One pass: every project whose oldest unnotified failure is past the batch window gets its email.</summary>
    internal async Task NotifyDueAsync(CancellationToken ct)
    {
        var now = Iso.Millis(time.GetUtcNow());
        if (now < _smtpRetryAt)
        {
            return;
        }
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var waiting = await (
            from d in db.Deliveries.AsNoTracking()
            where d.Status == DeliveryStatus.Failed && d.NotifiedAt == null
            join s in db.Sessions.AsNoTracking() on d.SessionId equals s.Id
            select new { d.Id, s.ProjectId, d.UpdatedAt })
            .ToListAsync(ct);
        var window = delivery.Value.NotificationBatchWindow;
        foreach (var project in waiting.GroupBy(w => w.ProjectId).Where(g => g.Min(w => w.UpdatedAt) + window <= now))
        {
            await NotifyProjectAsync(db, project.Key, project.Select(w => w.Id).ToList(), now, ct);
            db.ChangeTracker.Clear();
        }
    }

    private async Task NotifyProjectAsync(AperturDb db, Guid projectId, List<Guid> ids, DateTimeOffset now, CancellationToken ct)
    {
        // Claim: mark them all or none; a replica that marked some first owns this batch.
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var marked = await db.Deliveries.Where(d => ids.Contains(d.Id) && d.NotifiedAt == null && d.Status == DeliveryStatus.Failed)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.NotifiedAt, now), ct);
            if (marked != ids.Count)
            {
                await tx.RollbackAsync(ct);
                return;
            }
            await tx.CommitAsync(ct);
        }

        var project = await db.Projects.AsNoTracking().FirstAsync(p => p.Id == projectId, ct);
        if (!mailer.Configured || string.IsNullOrWhiteSpace(project.NotificationEmail))
        {
            LogSkipped(logger, ids.Count, project.Name, !mailer.Configured ? "Apertur:Smtp:Host is not set" : "the project has no notification email");
            return;
        }
        var failures = await (
            from d in db.Deliveries.AsNoTracking()
            where ids.Contains(d.Id)
            join i in db.Images.AsNoTracking() on d.ImageId equals i.Id
            join dest in db.Destinations.AsNoTracking() on d.DestinationId equals dest.Id into found
            from dest in found.DefaultIfEmpty()
            orderby d.UpdatedAt, d.Id
            select new FailedDelivery(d.Id, d.ImageId, i.Filename, d.SessionId, d.DestinationId, dest == null ? null : dest.Name,
                dest == null ? null : dest.Type, d.Attempts, d.LastError, d.UpdatedAt))
            .ToListAsync(ct);
        var (subject, body) = FailureEmail.Compose(project.Name, failures, urls.BaseUrl(), MaxListed);
        try
        {
            await mailer.SendAsync(project.NotificationEmail!, subject, body, ct);
            LogSent(logger, failures.Count, project.Name, project.NotificationEmail!);
        }
        catch (MailNotSentException e)
        {
            LogSendFailed(logger, e, failures.Count, project.Name);
            _smtpRetryAt = now + SmtpBackoff;
            await db.Deliveries.Where(d => ids.Contains(d.Id) && d.NotifiedAt == now)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.NotifiedAt, (DateTimeOffset?)null), CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Emailed {Count} failed deliveries of project {Project} to {Address}")]
    private static partial void LogSent(ILogger logger, int count, string project, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not emailing {Count} failed deliveries of project {Project}: {Reason}")]
    private static partial void LogSkipped(ILogger logger, int count, string project, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Emailing {Count} failed deliveries of project {Project} failed; trying again later")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, int count, string project);

    [LoggerMessage(Level = LogLevel.Error, Message = "Looking for failed deliveries to notify failed")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}

/// <summary>One failed delivery as the notification lists it.</summary>
public sealed record FailedDelivery(Guid Id, Guid ImageId, string Filename, Guid SessionId, Guid DestinationId, string? DestinationName,
    string? DestinationType, int Attempts, string? LastError, DateTimeOffset FailedAt);

/// <summary>The plain-text notification: what failed, why, and how to retry.</summary>
public static class FailureEmail
{
    public static (string Subject, string Body) Compose(string projectName, IReadOnlyList<FailedDelivery> failures, string baseUrl, int maxListed)
    {
        var count = failures.Count;
        var noun = count == 1 ? "delivery" : "deliveries";
        var subject = $"[Apertur] {count} image {noun} failed in project \"{projectName}\"";
        var text = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        text.Append(inv, $"{count} image {noun} of project \"{projectName}\" failed for good: the destination refused them, or kept failing until the retry window ended.\n");
        text.Append("The images are stored safely; nothing is lost. Fix the cause below, then retry.\n\n");
        foreach (var f in failures.Take(maxListed))
        {
            text.Append(inv, $"Delivery {f.Id}\n");
            text.Append(inv, $"  Image:       {f.ImageId} ({f.Filename})\n");
            text.Append(inv, $"  Session:     {f.SessionId}\n");
            text.Append(inv, $"  Destination: {f.DestinationName ?? "(deleted)"} ({f.DestinationType ?? "unknown type"}, {f.DestinationId})\n");
            text.Append(inv, $"  Attempts:    {f.Attempts}, failed at {Iso.Format(f.FailedAt)}\n");
            text.Append(inv, $"  Last error:  {f.LastError ?? "(none recorded)"}\n\n");
        }
        if (count > maxListed)
        {
            text.Append(inv, $"... and {count - maxListed} more (GET {baseUrl}/api/v1/deliveries?status=failed lists them all).\n\n");
        }
        text.Append("To retry, call the API with one of this project's keys (Authorization: Bearer <key>):\n");
        if (count == 1)
        {
            text.Append(inv, $"  POST {baseUrl}/api/v1/deliveries/{failures[0].Id}/retry\n");
        }
        else
        {
            text.Append(inv, $"  POST {baseUrl}/api/v1/deliveries/<delivery id>/retry   (one delivery)\n");
        }
        text.Append(inv, $"  POST {baseUrl}/api/v1/deliveries/retry-failed   (every failed delivery of the project)\n");
        text.Append("A retried delivery starts a fresh retry window.\n");
        return (subject, text.ToString());
    }
}
