namespace Apertur.Server.Deliveries;

/// <summary>One image to one destination: the durable outbox row the delivery worker drains.</summary>
public sealed class Delivery
{
    public Guid Id { get; set; }
    public Guid ImageId { get; set; }
    public Guid SessionId { get; set; }
    /// <summary>The image's project, for the delivery log's index.</summary>
    public Guid ProjectId { get; set; }
    public Guid DestinationId { get; set; }
    public string Status { get; set; } = DeliveryStatus.Pending;
    public int Attempts { get; set; }
    public string? LastError { get; set; }
    public DateTimeOffset NextAttemptAt { get; set; }
    /// <summary>When the first attempt ran: the retry window counts from here.</summary>
    public DateTimeOffset? FirstAttemptAt { get; set; }
    /// <summary>What the destination wrote (URL, object key, file id), once sent.</summary>
    public string? RemoteRef { get; set; }
    public int? LastStatusCode { get; set; }
    /// <summary>When the project was told by email that this delivery failed for good.</summary>
    public DateTimeOffset? NotifiedAt { get; set; }
    public Guid? LeaseToken { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Sending = "sending";
    public const string Sent = "sent";
    public const string Failed = "failed";
    public const string Retrying = "retrying";
    /// <summary>Final: never attempted again because its image's bytes were deleted (the session was deleted, or retention).</summary>
    public const string Cancelled = "cancelled";

    /// <summary>Not final yet: waiting, being sent, or waiting for a retry (what a deletion cancels and retention waits for).</summary>
    public static readonly string[] Open = [Pending, Sending, Retrying];
}
