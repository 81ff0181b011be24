using Apertur.Server.Queues;

namespace Apertur.Server.Deliveries;

/// <summary>Settings section <c>Apertur:Delivery</c>: the retry policy and the worker (whether it runs: <see cref="WorkersOptions"/>).</summary>
public sealed class DeliveryOptions : ILeaseWorkerOptions, Hosting.ISettings
{
    public const string Section = "Apertur:Delivery";

    /// <summary>Waits between attempts; the last one repeats until <see cref="RetryWindow"/> ends.</summary>
    public List<TimeSpan> RetrySchedule { get; set; } = [];

    /// <summary>How long after the first attempt a delivery keeps being retried (default 3 days).</summary>
    public TimeSpan RetryWindow { get; set; } = TimeSpan.FromDays(3);

    /// <summary>± fraction applied to each wait (default 0.2 = ±20 %).</summary>
    public double Jitter { get; set; } = 0.2;

    /// <summary>The least wait after a timeout or a 429 (default 60 s).</summary>
    public TimeSpan MinimumWaitAfterThrottle { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Deliveries in flight at once in this process, from claim to recorded outcome (default 32).</summary>
    public int Concurrency { get; set; } = 32;

    /// <summary>How often the worker looks for due deliveries when nothing nudges it (default 1 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a claim holds a delivery; a worker that dies loses it after this (default 2 min, more than an attempt).</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one attempt may wait for the receiver (default 30 s).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>When no adapter for a destination's kind is installed, look again after this (default 1 h).</summary>
    public TimeSpan MissingAdapterRecheck { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a signed <c>download_url</c> handed to receivers stays valid (default 24 h).</summary>
    public TimeSpan DownloadLinkLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Failures of one project within this window go out as one email (default 1 min).</summary>
    public TimeSpan NotificationBatchWindow { get; set; } = TimeSpan.FromMinutes(1);

    public static readonly IReadOnlyList<TimeSpan> DefaultSchedule =
    [
        TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(6),
    ];

    /// <summary>These settings with another retry window (a project's own, set in the dashboard).</summary>
    public DeliveryOptions WithRetryWindow(TimeSpan retryWindow)
    {
        var copy = (DeliveryOptions)MemberwiseClone();
        copy.RetryWindow = retryWindow;
        return copy;
    }

    public IReadOnlyList<TimeSpan> EffectiveSchedule => RetrySchedule.Count > 0 ? RetrySchedule : DefaultSchedule;

    public IReadOnlyList<string> Problems()
    {
        var problems = Queues.LeaseWorkerSettings.Problems(Section, this, 1024, TimeSpan.FromSeconds(1)).ToList();
        void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                problems.Add($"{Section}:{name} must be positive (got {value}).");
            }
        }
        Positive(RetryWindow, nameof(RetryWindow));
        Positive(MissingAdapterRecheck, nameof(MissingAdapterRecheck));
        Positive(DownloadLinkLifetime, nameof(DownloadLinkLifetime));
        if (Jitter is < 0 or >= 1)
        {
            problems.Add($"{Section}:{nameof(Jitter)} must be at least 0 and below 1 (got {Jitter}).");
        }
        if (RetrySchedule.Any(w => w <= TimeSpan.Zero))
        {
            problems.Add($"{Section}:{nameof(RetrySchedule)}: every wait must be positive (got {string.Join(", ", RetrySchedule)}).");
        }
        if (NotificationBatchWindow < TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(NotificationBatchWindow)} must not be negative (got {NotificationBatchWindow}).");
        }
        return problems;
    }
}
