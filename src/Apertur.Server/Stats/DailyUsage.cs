namespace Apertur.Server.Stats;

/// <summary>
/// The usage of one project and environment on one UTC day (table <c>usage_days</c>, docs/performance.md "Usage aggregates"):
/// sessions created, images uploaded, images among them delivered (sent to a destination or acknowledged), deliveries whose
/// last update that day left them sent or failed. Written only by the database's triggers (migration 0014), in the
/// transaction of each change they count; kept when the record purge deletes the rows. <see cref="UsageStats"/> reads it.
/// </summary>
public sealed class DailyUsage
{
    public Guid ProjectId { get; set; }
    public required string Env { get; set; }
    public DateOnly Day { get; set; }
    public int Sessions { get; set; }
    public int ImagesUploaded { get; set; }
    public int ImagesDelivered { get; set; }
    public int DeliveriesSent { get; set; }
    public int DeliveriesFailed { get; set; }
}

/// <summary>
/// Deliveries that are sent or failed, per destination and upload day of their image (table <c>usage_destination_days</c>),
/// kept by the same triggers; kept after the destination is deleted, like the rows.
/// </summary>
public sealed class DestinationDailyUsage
{
    public Guid ProjectId { get; set; }
    public required string Env { get; set; }
    public DateOnly Day { get; set; }
    public Guid DestinationId { get; set; }
    public int DeliveriesSent { get; set; }
    public int DeliveriesFailed { get; set; }
}

/// <summary>
/// One change of usage not yet rolled up (table <c>usage_deltas</c>, migration 0015; docs/performance.md "Usage aggregates"):
/// the database's triggers only insert these, so no two writers wait on a shared row; <see cref="UsageRollup"/> moves them into
/// <see cref="DailyUsage"/> (<see cref="DestinationId"/> null) or <see cref="DestinationDailyUsage"/> (set), and
/// <see cref="UsageStats"/> adds those not moved yet.
/// </summary>
public sealed class UsageDelta
{
    public long Id { get; set; }
    public Guid ProjectId { get; set; }
    public required string Env { get; set; }
    public DateOnly Day { get; set; }
    public Guid? DestinationId { get; set; }
    public int Sessions { get; set; }
    public int ImagesUploaded { get; set; }
    public int ImagesDelivered { get; set; }
    public int DeliveriesSent { get; set; }
    public int DeliveriesFailed { get; set; }
}
