using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Deliveries;

/// <summary>
/// Ends the deliveries of images whose bytes are deleted (a deleted session, retention): every one not yet final becomes
/// <c>cancelled</c>, final, with no failure e-mail. A <c>sending</c> one loses its lease, so the outcome of its attempt is
/// dropped by <see cref="DeliveryRecorder"/>'s lease-guarded update and it is never retried.
/// </summary>
public static class DeliveryCancellation
{
    public static Task<int> CancelOpenAsync(IQueryable<Delivery> deliveries, string? bytesDeletedReason, DateTimeOffset now, CancellationToken ct) =>
        deliveries
            .Where(d => DeliveryStatus.Open.Contains(d.Status))
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, DeliveryStatus.Cancelled)
                .SetProperty(d => d.LastError, DeliveryOutcome.CancelledBecause(bytesDeletedReason))
                .SetProperty(d => d.LeaseToken, (Guid?)null)
                .SetProperty(d => d.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(d => d.UpdatedAt, now), ct);
}
