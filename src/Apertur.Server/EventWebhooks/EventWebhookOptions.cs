namespace Apertur.Server.EventWebhooks;

/// <summary>Settings section <c>Apertur:EventWebhooks</c>: how the event delivery worker and the expiry sweep run.</summary>
public sealed class EventWebhookOptions
{
    public const string Section = "Apertur:EventWebhooks";

    /// <summary>How often the worker looks for due deliveries when nothing nudged it (default 5 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a claim holds a delivery; a worker that dies frees it after this (default 2 min, above the timeout).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Deliveries claimed, and sent concurrently, at once (default 16).</summary>
    public int BatchSize { get; set; } = 16;

    /// <summary>How long one attempt may wait for the receiver's answer (default 30 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often sessions past their expiry are looked for and announced (default 30 s).</summary>
    public TimeSpan ExpirySweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    public static bool IsValid(EventWebhookOptions o) =>
        o.PollInterval > TimeSpan.Zero && o.Timeout > TimeSpan.Zero && o.LeaseDuration > o.Timeout
        && o.BatchSize is > 0 and <= 256 && o.ExpirySweepInterval > TimeSpan.Zero;
}
