using System.Reflection;

namespace Apertur.Server.Home;

/// <summary>
/// <c>GET /</c>: a small page for whoever opens the server's address — where the dashboard, the health check and the
/// documentation are — instead of a JSON 404. Static, no script, no external resource.
/// </summary>
public static class HomePage
{
    /// <summary>This build's version (the informational version without its commit), shown here and written in backups.</summary>
    internal static readonly string Version = typeof(HomePage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        .Split('+')[0] ?? "?";

    private static readonly string Html = $$"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Apertur</title>
        <style>
          :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
          body { max-width: 36rem; margin: 3rem auto; padding: 0 1.25rem; line-height: 1.5; }
          h1 { font-size: 1.6rem; margin-bottom: .25rem; }
          p.lead { margin-top: 0; opacity: .8; }
          ul { list-style: none; padding: 0; }
          li { margin: .75rem 0; }
          a { font-weight: 600; }
          small { opacity: .7; }
        </style>
        </head>
        <body>
        <h1>Apertur</h1>
        <p class="lead">Photo collection and delivery. This server is running.</p>
        <ul>
          <li><a href="/dashboard">Dashboard</a><br><small>Projects, API keys, destinations, sessions and deliveries.</small></li>
          <li><a href="/healthz/ready">Readiness</a><br><small>Answers 200 when the database and the image store work, 503 when not; <a href="/healthz">/healthz</a> answers <code>{"status":"ok"}</code> when the server is up.</small></li>
          <li><a href="/docs">API reference</a><br><small>Interactive, over the OpenAPI document <a href="/openapi/v1.json">/openapi/v1.json</a>; <code>docs/api.md</code> in the source. The official SDKs work against <code>/api/v1</code> unchanged.</small></li>
        </ul>
        <p><small>Apertur {{Version}}. People upload through the links and QR codes of upload sessions (<code>/u/…</code>).</small></p>
        </body>
        </html>
        """;

    public static IEndpointRouteBuilder MapHomePage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/", (HttpContext http) =>
        {
            http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
            http.Response.Headers.XContentTypeOptions = "nosniff";
            return TypedResults.Content(Html, "text/html; charset=utf-8");
        }).ExcludeFromDescription();
        return app;
    }
}
