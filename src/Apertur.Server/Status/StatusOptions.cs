using Apertur.Server.Hosting;

namespace Apertur.Server.Status;

/// <summary>Settings section <c>Apertur:Status</c>: the public status page (docs/operations.md "Status page").</summary>
public sealed class StatusOptions : ISettings
{
    public const string Section = "Apertur:Status";

    /// <summary>Serve <c>/status</c> and <c>/status.json</c> (default true; false answers 404 there).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Also show each delivery component's success rate and queue lag (default false: states only, nothing that hints at volumes).</summary>
    public bool ShowFigures { get; set; }

    /// <summary>How long a computed status is reused, so the public page costs a few queries per period whatever the traffic (default 10 s).</summary>
    public TimeSpan CacheFor { get; set; } = TimeSpan.FromSeconds(10);

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (CacheFor < TimeSpan.Zero || CacheFor > TimeSpan.FromMinutes(5))
        {
            problems.Add($"{Section}:{nameof(CacheFor)} must be between 0 and 5 minutes (got {CacheFor}).");
        }
        return problems;
    }
}
