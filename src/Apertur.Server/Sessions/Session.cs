namespace Apertur.Server.Sessions;

/// <summary>An upload session: the capability behind one QR code.</summary>
public sealed class Session
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public Guid? ApiKeyId { get; set; }
    public required string Env { get; set; }
    /// <summary><c>active</c> or <c>completed</c>; <c>expired</c> is derived from <see cref="ExpiresAt"/> when read.</summary>
    public string Status { get; set; } = SessionStatus.Active;
    public DateTimeOffset ExpiresAt { get; set; }
    public int MaxImages { get; set; }
    public string[] AllowedMimeTypes { get; set; } = [];
    public int? MaxImageDimension { get; set; }
    public long MaxImageBytes { get; set; }
    public string? PasswordHash { get; set; }
    public string[] Tags { get; set; } = [];
    public string? Metadata { get; set; }
    public string? Label { get; set; }
    public bool LongPolling { get; set; }
    /// <summary>Images accepted so far; also the next image's 0-based index.</summary>
    public int ImageCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Last time anything observable about the session changed (delivery-status <c>lastChanged</c>).</summary>
    public DateTimeOffset LastChangedAt { get; set; }
    /// <summary>When <c>project.session.expired</c> was queued for this session: the sweep's once-only marker.</summary>
    public DateTimeOffset? ExpiredAnnouncedAt { get; set; }
    /// <summary>
    /// When the session was deleted on demand (<see cref="SessionEraser"/>): it takes no more uploads and reads as
    /// <c>expired</c>; its rows stay for the delivery log, its images' bytes are gone.
    /// </summary>
    public DateTimeOffset? DeletedAt { get; set; }
    public List<SessionDestination> Destinations { get; set; } = [];
}

/// <summary>A destination chosen for a session at creation, in order.</summary>
public sealed class SessionDestination
{
    public Guid SessionId { get; set; }
    public Guid DestinationId { get; set; }
    public int Position { get; set; }
}

public static class SessionStatus
{
    public const string Active = "active";
    public const string Completed = "completed";
    public const string Expired = "expired";
    /// <summary>Only in <c>project.session.deleted</c>'s data: the API reads a deleted session as <see cref="Expired"/>.</summary>
    public const string Deleted = "deleted";
}
