using Apertur.Server.Hosting;
using Apertur.Server.Keys;

namespace Apertur.Server.Telemetry;

/// <summary>
/// Settings section <c>Apertur:Metrics</c> (docs/operations.md "Metrics and traces"): the Prometheus scrape endpoint
/// <c>/metrics</c> is served only when <see cref="Enabled"/>; <see cref="AllowedNetworks"/> limits who may read it.
/// </summary>
public sealed class MetricsOptions : ISettings
{
    public const string Section = "Apertur:Metrics";

    /// <summary>Serve <c>/metrics</c> (default false: 404).</summary>
    public bool Enabled { get; set; }

    /// <summary>Client addresses or CIDR networks allowed to scrape; empty: anyone who can reach the server. Others get 404.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    public IReadOnlyList<string> Problems() =>
        AllowedNetworks.Where(n => !IpAllowList.TryParse(n, out _))
            .Select(n => $"{Section}:AllowedNetworks has \"{n}\", which is neither an address nor a CIDR network.").ToList();
}
