namespace Apertur.Server.Deliveries;

/// <summary>One attempt of a delivery, as the delivery log shows it.</summary>
public sealed class DeliveryAttempt
{
    public Guid Id { get; set; }
    public Guid DeliveryId { get; set; }
    public int Attempt { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public int DurationMs { get; set; }
    /// <summary><c>sent</c>, <c>retry</c> or <c>failed</c>.</summary>
    public required string Outcome { get; set; }
    public int? StatusCode { get; set; }
    public string? ResponseSnippet { get; set; }
    public string? Error { get; set; }
}
