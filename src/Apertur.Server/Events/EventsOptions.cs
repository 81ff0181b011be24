using Apertur.Server.Hosting;

namespace Apertur.Server.Events;

/// <summary>Settings section <c>Apertur:Events</c>: the SSE stream.</summary>
public sealed class EventsOptions : ISettings
{
    public const string Section = "Apertur:Events";

    /// <summary>Idle time after which the stream sends a <c>: heartbeat</c> comment, keeping proxies and the client awake.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    public IReadOnlyList<string> Problems() => HeartbeatInterval > TimeSpan.Zero
        ? []
        : [$"{Section}:{nameof(HeartbeatInterval)} must be positive (got {HeartbeatInterval})."];
}
