namespace Apertur.Server.Events;

/// <summary>Settings section <c>Apertur:Events</c>: the SSE stream.</summary>
public sealed class EventsOptions
{
    public const string Section = "Apertur:Events";

    /// <summary>Idle time after which the stream sends a <c>: heartbeat</c> comment, keeping proxies and the client awake.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    public static bool IsValid(EventsOptions o) => o.HeartbeatInterval > TimeSpan.Zero;
}
