namespace Apertur.Server.Uploads;

/// <summary>An accepted image. Its bytes live in the image store under <see cref="Id"/>.</summary>
public sealed class Image
{
    public Guid Id { get; set; }
    public Guid SessionId { get; set; }
    public Guid ProjectId { get; set; }
    public required string Env { get; set; }
    public int ImageIndex { get; set; }
    public required string Filename { get; set; }
    public required string MimeType { get; set; }
    public long SizeBytes { get; set; }
    public int Width { get; set; }
    public int Height { get; set; }
    public required string Source { get; set; }
    public bool IsEncrypted { get; set; }
    /// <summary>Set when a long-polling client acknowledged the image; null while it is in the poll queue or polling is off.</summary>
    public DateTimeOffset? AcknowledgedAt { get; set; }
    /// <summary>
    /// When the image first reached a destination or was acknowledged: set by the database's triggers (migration 0014), which
    /// count it once in the daily usage (docs/performance.md "Usage aggregates"); null until then.
    /// </summary>
    public DateTimeOffset? DeliveredAt { get; set; }
    public bool InPollQueue { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>The client's <c>Idempotency-Key</c>, unique per session; null when the upload sent none.</summary>
    public string? IdempotencyKey { get; set; }
    /// <summary>SHA-256 of the stored bytes, kept only with an <see cref="IdempotencyKey"/> to tell a retry from another image.</summary>
    public byte[]? ContentSha256 { get; set; }
    /// <summary>When the bytes were removed from the image store (the row stays); null while they are kept.</summary>
    public DateTimeOffset? BytesDeletedAt { get; set; }
    /// <summary>Why the bytes were removed: one of <see cref="BytesDeleted"/>'s reasons; null while they are kept.</summary>
    public string? BytesDeletedReason { get; set; }
    /// <summary>The W3C traceparent of the upload's commit span when it was traced: its delivery attempts continue that trace.</summary>
    public string? TraceParent { get; set; }
}
