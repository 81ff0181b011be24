namespace Apertur.Server.Stats;

/// <summary>
/// The counts of one project's purged records on one UTC day (table <c>usage_days</c>, docs/operations.md "Retention"): sessions
/// created, images uploaded, images among them delivered (sent to a destination or acknowledged), deliveries finished sent or
/// failed that day. Written only by the record purge (Retention/RecordPurge.cs), in the transaction that deletes the rows it
/// counts; <see cref="UsageStats"/> adds it to the live rows.
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
/// Purged deliveries that finished sent or failed, per destination and upload day of their image (table
/// <c>usage_destination_days</c>); kept after the destination is deleted, like the live rows.
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
