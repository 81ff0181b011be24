using Apertur.Server.Queues;

namespace Apertur.Server.EventWebhooks;

/// <summary>
/// Settings section <c>Apertur:EventWebhooks</c>: how the event delivery worker and the expiry sweep run (whether they
/// run: <see cref="WorkersOptions"/>). The worker's settings have the names of <c>Apertur:Delivery</c>'s.
/// </summary>
public sealed class EventWebhookOptions : ILeaseWorkerOptions, Hosting.ISettings
{
    public const string Section = "Apertur:EventWebhooks";

    /// <summary>Deliveries in flight at once in this process, from claim to recorded outcome (default 16).</summary>
    public int Concurrency { get; set; } = 16;

    /// <summary>How often the worker looks for due deliveries when nothing nudged it (default 5 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a claim holds a delivery; a worker that dies frees it after this (default 2 min, above the attempt timeout).</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long one attempt may wait for the receiver's answer (default 30 s).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often sessions past their expiry are looked for and announced (default 30 s).</summary>
    public TimeSpan ExpirySweepInterval { get; set; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<string> Problems()
    {
        var problems = LeaseWorkerSettings.Problems(Section, this, 256, TimeSpan.Zero).ToList();
        if (ExpirySweepInterval <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(ExpirySweepInterval)} must be positive (got {ExpirySweepInterval}).");
        }
        return problems;
    }
}
