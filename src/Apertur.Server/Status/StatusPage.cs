using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Serialization;
using Apertur.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Status;

/// <summary>
/// <c>GET /status</c>, the public status page (server-rendered HTML, no script, light and dark, phone-sized), and
/// <c>GET /status.json</c>, the same for machines (docs/operations.md "Status page"). Both read the cached report of
/// <see cref="StatusService"/>; both answer 404 when <c>Apertur:Status:Enabled</c> is false.
/// </summary>
public static class StatusPage
{
    public const string Path = "/status";
    public const string JsonPath = "/status.json";

    public static IEndpointRouteBuilder MapStatusPage(this IEndpointRouteBuilder app)
    {
        app.MapGet(Path, async Task<IResult> (HttpContext http, StatusService status, IOptions<StatusOptions> options, CancellationToken ct) =>
        {
            if (!options.Value.Enabled)
            {
                return TypedResults.NotFound();
            }
            var report = await status.CurrentAsync(ct);
            Headers(http, options.Value);
            return TypedResults.Content(Html(report), "text/html; charset=utf-8");
        }).ExcludeFromDescription();
        app.MapGet(JsonPath, async Task<IResult> (HttpContext http, StatusService status, IOptions<StatusOptions> options, CancellationToken ct) =>
        {
            if (!options.Value.Enabled)
            {
                return TypedResults.NotFound();
            }
            var report = await status.CurrentAsync(ct);
            Headers(http, options.Value);
            return TypedResults.Ok(View(report));
        }).ExcludeFromDescription();
        return app;
    }

    /// <summary>The JSON answer: camelCase like the API, times in ISO 8601 UTC.</summary>
    public static StatusView View(StatusReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return new StatusView(
            report.Components.Select(c => new ComponentView(c.Name, c.State, c.SuccessPercent, c.LagMinutes)).ToList(),
            report.Incidents.Select(e => new IncidentView(e.Incident.Id, e.Incident.Title, e.Incident.State, Iso.Format(e.Incident.CreatedAt),
                Iso.Format(e.Incident.ResolvedAt), e.Updates.Select(u => new IncidentUpdateView(u.State, u.Message, Iso.Format(u.CreatedAt))).ToList())).ToList());
    }

    private static void Headers(HttpContext http, StatusOptions options)
    {
        http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        // Shared caches may keep it as long as the server does: the answer is the same for everyone.
        http.Response.Headers.CacheControl = options.CacheFor >= TimeSpan.FromSeconds(1)
            ? string.Create(CultureInfo.InvariantCulture, $"public, max-age={(int)options.CacheFor.TotalSeconds}")
            : "no-cache";
    }

    private static string Html(StatusReport report)
    {
        var overall = report.Overall;
        var html = new StringBuilder(Head);
        html.Append(CultureInfo.InvariantCulture, $"<p class=\"banner {overall}\" data-overall=\"{overall}\">{Banner(overall)}</p>\n");
        html.Append("<h2>Components</h2>\n<ul class=\"components\">\n");
        foreach (var c in report.Components)
        {
            var figures = new List<string>();
            if (c.SuccessPercent is { } percent)
            {
                figures.Add(string.Create(CultureInfo.InvariantCulture, $"{percent} % succeeded"));
            }
            if (c.LagMinutes is { } lag)
            {
                figures.Add(lag == 0 ? "no wait" : string.Create(CultureInfo.InvariantCulture, $"{lag} min behind"));
            }
            html.Append(CultureInfo.InvariantCulture, $"<li data-component=\"{E(c.Name)}\" data-state=\"{c.State}\"><span class=\"name\">{E(c.Name)}");
            if (figures.Count > 0)
            {
                html.Append(CultureInfo.InvariantCulture, $" <small>{E(string.Join(" · ", figures))}</small>");
            }
            html.Append(CultureInfo.InvariantCulture, $"</span><span class=\"state {c.State}\">{StateLabel(c.State)}</span></li>\n");
        }
        html.Append("</ul>\n");
        var open = report.Incidents.Where(i => i.Incident.ResolvedAt is null).ToList();
        var past = report.Incidents.Where(i => i.Incident.ResolvedAt is not null).ToList();
        if (open.Count > 0)
        {
            html.Append("<h2>Current incidents</h2>\n");
            open.ForEach(i => Incident(html, i));
        }
        html.Append("<h2>Past incidents <small>last 90 days</small></h2>\n");
        if (past.Count == 0)
        {
            html.Append("<p class=\"empty\">No incidents.</p>\n");
        }
        past.ForEach(i => Incident(html, i));
        html.Append(CultureInfo.InvariantCulture, $"<footer><p>Updated {When(report.At)}. Deliveries are judged on the last 15 minutes. Also as <a href=\"{JsonPath}\">{JsonPath}</a>.</p></footer>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void Incident(StringBuilder html, IncidentService.Entry entry)
    {
        var i = entry.Incident;
        html.Append(CultureInfo.InvariantCulture, $"<article class=\"incident\" data-incident=\"{i.Id}\" data-state=\"{i.State}\">\n<h3>{E(i.Title)} <span class=\"badge {i.State}\">{IncidentStates.Label(i.State)}</span></h3>\n<ol>\n");
        foreach (var u in entry.Updates)
        {
            html.Append(CultureInfo.InvariantCulture, $"<li><strong>{IncidentStates.Label(u.State)}</strong> <time datetime=\"{Iso.Format(u.CreatedAt)}\">{When(u.CreatedAt)}</time><p>{E(u.Message)}</p></li>\n");
        }
        html.Append("</ol>\n</article>\n");
    }

    private static string Banner(string state) => state switch
    {
        ComponentStates.Down => "Some parts of the service are down",
        ComponentStates.Degraded => "Some parts of the service are degraded",
        _ => "All systems operational",
    };

    private static string StateLabel(string state) => state switch
    {
        ComponentStates.Down => "Down",
        ComponentStates.Degraded => "Degraded",
        _ => "Operational",
    };

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("d MMM yyyy, HH:mm", CultureInfo.InvariantCulture) + " UTC";

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Head = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <title>Status · Apertur</title>
        <style>
          :root { color-scheme: light dark; font-family: system-ui, sans-serif; --ok: #1a7f37; --warn: #9a6700; --down: #cf222e;
                  --line: #d0d7de; --muted: #57606a; --card: #f6f8fa; --bg: #fff; --fg: #1f2328; }
          @media (prefers-color-scheme: dark) {
            :root { --ok: #3fb950; --warn: #d29922; --down: #f85149; --line: #30363d; --muted: #8b949e; --card: #161b22; --bg: #0d1117; --fg: #e6edf3; }
          }
          body { max-width: 44rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; background: var(--bg); color: var(--fg); }
          h1 { font-size: 1.5rem; margin: 0 0 1rem; }
          h2 { font-size: 1.1rem; margin: 2rem 0 .75rem; }
          h2 small, .components small, footer { color: var(--muted); font-weight: normal; }
          .components { list-style: none; margin: 0; padding: 0; border: 1px solid var(--line); border-radius: .5rem; }
          .components li { display: flex; justify-content: space-between; align-items: baseline; gap: 1rem; padding: .7rem 1rem; border-top: 1px solid var(--line); }
          .components li:first-child { border-top: 0; }
          .components small { display: block; font-size: .85rem; }
          .state { white-space: nowrap; font-weight: 600; }
          .state::before { content: ""; display: inline-block; width: .6em; height: .6em; border-radius: 50%; background: currentColor; margin-right: .45em; }
          .operational { color: var(--ok); }
          .degraded { color: var(--warn); }
          .down { color: var(--down); }
          /* After the state colours: the banner's text stays readable on its own colour. */
          .banner { margin: 0; padding: .9rem 1rem; border-radius: .5rem; font-weight: 600; }
          .banner.operational, .banner.degraded, .banner.down { color: #fff; }
          .banner.operational { background: var(--ok); }
          .banner.degraded { background: var(--warn); }
          .banner.down { background: var(--down); }
          @media (prefers-color-scheme: dark) { .banner.operational, .banner.degraded, .banner.down { color: #0d1117; } }
          .incident { background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: .25rem 1rem; margin-bottom: 1rem; }
          .incident h3 { font-size: 1rem; margin: .75rem 0 .5rem; }
          .badge { font-size: .8rem; font-weight: 600; border: 1px solid currentColor; border-radius: 1rem; padding: 0 .5rem; white-space: nowrap; color: var(--warn); }
          .badge.resolved { color: var(--ok); }
          .incident ol { list-style: none; padding: 0; margin: 0 0 .75rem; }
          .incident li { border-top: 1px solid var(--line); padding: .5rem 0; }
          .incident li p { margin: .25rem 0 0; overflow-wrap: anywhere; }
          time { color: var(--muted); font-size: .9rem; margin-left: .35rem; }
          .empty { color: var(--muted); }
          footer { margin-top: 2.5rem; font-size: .9rem; }
          a { color: inherit; }
        </style>
        </head>
        <body>
        <h1>Apertur status</h1>

        """;
}

/// <summary>The answer of <c>/status.json</c>.</summary>
public sealed record StatusView(
    [property: JsonPropertyName("components")] IReadOnlyList<ComponentView> Components,
    [property: JsonPropertyName("incidents")] IReadOnlyList<IncidentView> Incidents);

/// <summary>A component and its state (<c>operational</c>, <c>degraded</c> or <c>down</c>); the figures only when the operator shows them.</summary>
public sealed record ComponentView(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("successPercent"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? SuccessPercent,
    [property: JsonPropertyName("lagMinutes"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? LagMinutes);

public sealed record IncidentView(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("resolvedAt")] string? ResolvedAt,
    [property: JsonPropertyName("updates")] IReadOnlyList<IncidentUpdateView> Updates);

public sealed record IncidentUpdateView(
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("createdAt")] string CreatedAt);
