using System.Globalization;
using Apertur.Server.Dashboard.Charts;
using Apertur.Server.Data;
using Apertur.Server.Keys;
using Apertur.Server.Stats;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard.Projects;

/// <summary>A project's usage: live and test apart, per day and per destination, drawn as server-side SVG.</summary>
public sealed class OverviewModel(AperturDb db, UsageStats stats, TimeProvider time) : ProjectPageModel
{
    public const int Days = 30;

    public sealed record EnvUsage(string Env, UsageTotals Totals, IReadOnlyList<Bar> Uploaded, IReadOnlyList<Bar> Finished, IReadOnlyList<Bar> PerDestination);

    public IReadOnlyList<EnvUsage> Usage { get; private set; } = [];

    /// <summary>What the project still lacks, as links (no key, no destination, no session yet).</summary>
    public IReadOnlyList<(string Text, string Href)> Setup { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var usage = new List<EnvUsage>();
        var totalsByEnv = await stats.TotalsByEnvAsync(Project.Id, now, ct);
        foreach (var env in new[] { ApiKeyTokens.Live, ApiKeyTokens.Test })
        {
            var totals = totalsByEnv.GetValueOrDefault(env) ?? UsageTotals.None;
            if (env == ApiKeyTokens.Test && totals.SessionsTotal == 0)
            {
                continue;
            }
            var days = await stats.DailyAsync(Project.Id, env, now, Days, ct);
            var perDestination = await stats.PerDestinationAsync(Project.Id, env, days[0].Day, ct);
            usage.Add(new EnvUsage(env, totals,
                days.Select(d => new Bar(Label(d.Day), [d.Uploaded])).ToList(),
                days.Select(d => new Bar(Label(d.Day), [d.Sent, d.Failed])).ToList(),
                perDestination.Select(d => new Bar(d.Name ?? "(deleted destination)", [d.Sent, d.Failed])).ToList()));
        }
        Usage = usage;

        var setup = new List<(string, string)>();
        if (!await db.ApiKeys.AnyAsync(k => k.ProjectId == Project.Id && k.IsActive, ct))
        {
            setup.Add(("Create an API key: sessions are created with one", DashboardRoutes.Keys(Project.Id)));
        }
        if (!await db.Destinations.AnyAsync(d => d.ProjectId == Project.Id, ct))
        {
            setup.Add(("Add a destination: where photos are delivered", DashboardRoutes.Destinations(Project.Id)));
        }
        // Counted with the purged ones (Stats/DailyUsage.cs): a project whose old sessions were purged has started.
        if (usage.All(u => u.Totals.SessionsTotal == 0))
        {
            setup.Add(("Create a first session and scan its QR code", DashboardRoutes.Sessions(Project.Id)));
        }
        Setup = setup;
    }

    private static string Label(DateOnly day) => day.ToString("MM-dd", CultureInfo.InvariantCulture);
}
