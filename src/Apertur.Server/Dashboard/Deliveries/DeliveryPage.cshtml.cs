using Apertur.Server.Deliveries;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace Apertur.Server.Dashboard.Deliveries;

/// <summary>One delivery and every attempt: when, how long, outcome, status code, the receiver's answer and the error.</summary>
public sealed class DeliveryPageModel(DeliveryLog log) : ProjectPageModel
{
    public DeliveryEntry Entry { get; private set; } = null!;

    public IReadOnlyList<DeliveryAttempt> Attempts { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(Guid deliveryId, CancellationToken ct)
    {
        try
        {
            (Entry, var attempts) = await log.GetAsync(Project.Id, deliveryId, ct);
            Attempts = attempts;
        }
        catch (ApiException)
        {
            return NotFoundPage();
        }
        return Page();
    }
}
