using Apertur.Server.Hosting;

namespace Apertur.Server.Retention;

/// <summary>
/// Settings section <c>Apertur:Retention</c>: how long image bytes are kept (docs/operations.md "Retention"). The rows stay
/// (the delivery log shows what was deleted); a download of deleted bytes answers 410 <c>IMAGE_DELETED</c>.
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
        if (SweepInterval <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(SweepInterval)} must be positive (got {SweepInterval}).");
        }
        return problems;
    }
}
