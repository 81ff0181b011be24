using Apertur.Server.Hosting;

namespace Apertur.Server.Polling;

/// <summary>Settings section <c>Apertur:Polling</c>: the delivery-status long-poll (docs/api.md "Delivery status").</summary>
public sealed class PollingOptions : ISettings
{
    public const string Section = "Apertur:Polling";

    /// <summary>Longest hold of <c>delivery-status?pollFrom</c> when nothing changes; short of default client timeouts.</summary>
    public TimeSpan DeliveryStatusHold { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>A held request re-reads the snapshot this often even without a wake-up, in case one was missed.</summary>
    public TimeSpan DeliveryStatusRecheck { get; set; } = TimeSpan.FromSeconds(5);

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (DeliveryStatusHold < TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(DeliveryStatusHold)} must not be negative (got {DeliveryStatusHold}).");
        }
        if (DeliveryStatusRecheck <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(DeliveryStatusRecheck)} must be positive (got {DeliveryStatusRecheck}).");
        }
        return problems;
    }
}
