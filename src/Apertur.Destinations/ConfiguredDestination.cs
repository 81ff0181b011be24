using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Apertur.Destinations;

/// <summary>A destination config record read from the stored JSON, with its problems in words when it cannot be.</summary>
public interface IDestinationConfig<TSelf> where TSelf : class, IDestinationConfig<TSelf>
{
    static abstract bool TryParse(JsonElement config, [NotNullWhen(true)] out TSelf? parsed, out IReadOnlyList<string> problems);
}

/// <summary>
/// An adapter whose delivery and connection test start from its parsed config: the config is read once here, and a
/// config that cannot be read ends the attempt as <see cref="DeliveryResult.Rejected"/> (or a failed test) saying
/// "Invalid {kind} config: …" with its problems, before the adapter's own code runs.
/// </summary>
public abstract class ConfiguredDestination<TConfig> : IDestination, IConnectionTestable
    where TConfig : class, IDestinationConfig<TConfig>
{
    public abstract string Kind { get; }

    public async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!TConfig.TryParse(request.Target.Config, out var config, out var problems))
        {
            return new DeliveryResult.Rejected(Invalid(problems));
        }
        return await DeliverAsync(request, config, ct).ConfigureAwait(false);
    }

    public async Task<ConnectionTestResult> TestAsync(DestinationTarget target, ProjectSigning signing, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!TConfig.TryParse(target.Config, out var config, out var problems))
        {
            return new ConnectionTestResult(false, Invalid(problems));
        }
        return await TestAsync(target, config, signing, ct).ConfigureAwait(false);
    }

    /// <summary>Delivers with the request's config, already read.</summary>
    protected abstract Task<DeliveryResult> DeliverAsync(DeliveryRequest request, TConfig config, CancellationToken ct);

    /// <summary>Tests the connection with the target's config, already read.</summary>
    protected abstract Task<ConnectionTestResult> TestAsync(DestinationTarget target, TConfig config, ProjectSigning signing, CancellationToken ct);

    private string Invalid(IReadOnlyList<string> problems) => $"Invalid {Kind} config: " + string.Join(" ", problems);
}
