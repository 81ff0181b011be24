using Apertur.Server.Hosting;

namespace Apertur.Server.Retention;

/// <summary>
/// Settings section <c>Apertur:Retention</c>: how long image bytes are kept, then how long their records are (docs/operations.md
/// "Retention"). Once the bytes are gone the rows stay until <see cref="Records"/> (the delivery log shows what was deleted; a
/// download answers 410 <c>IMAGE_DELETED</c>); the usage counts outlive them as daily totals.
/// </summary>
public sealed class RetentionOptions : ISettings
{
    public const string Section = "Apertur:Retention";

    /// <summary>
    /// An image's bytes are deleted this long after it is done with: every delivery final (sent, failed for good,
    /// cancelled) and, in a long-polling session, the image acknowledged. Default 7 days; 0 deletes them at the next sweep.
    /// </summary>
    public TimeSpan ImagesAfterDelivery { get; set; } = TimeSpan.FromDays(7);

    /// <summary>No image's bytes are kept longer than this after its upload, whatever its state (its open deliveries are cancelled). Default 30 days.</summary>
    public TimeSpan MaxImageAge { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Sessions (with their images, deliveries and attempts), events and their webhook deliveries are deleted this long after
    /// they were created, a session only once it has expired, every image's bytes are deleted and no delivery is open.
    /// Default 90 days; at least <see cref="MaxImageAge"/>, so a record never goes before its bytes would.
    /// </summary>
    public TimeSpan Records { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often the retention sweep runs (one replica at a time). Default 10 minutes.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (ImagesAfterDelivery < TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(ImagesAfterDelivery)} must not be negative (got {ImagesAfterDelivery}).");
        }
        if (MaxImageAge <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(MaxImageAge)} must be positive (got {MaxImageAge}).");
        }
        if (Records < MaxImageAge)
        {
            problems.Add($"{Section}:{nameof(Records)} must be at least {nameof(MaxImageAge)} ({MaxImageAge}): a record outlives its image bytes (got {Records}).");
        }
        if (SweepInterval <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(SweepInterval)} must be positive (got {SweepInterval}).");
        }
        return problems;
    }
}
