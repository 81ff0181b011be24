using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Apertur.Server.Health;

/// <summary>
/// <c>GET /healthz</c> (answers once the database is migrated and the server listens, as it always has),
/// <c>GET /healthz/live</c> (the process answers) and <c>GET /healthz/ready</c> (the checks of <see cref="HealthServices"/>: 200
/// when none fails, "degraded" when one works with less, 503 when one fails), for load balancers and orchestrators
/// (docs/operations.md "Health", docs/scale-out.md "Readiness").
/// </summary>
public static class HealthApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthView("ok")));
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = (context, _) => WriteAsync(context, "live", new Dictionary<string, HealthReportEntry>()) });
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions
        {
            ResponseWriter = (context, report) => WriteAsync(context, report.Status switch
            {
                HealthStatus.Healthy => "ready",
                HealthStatus.Degraded => "degraded",
                _ => "not ready",
            }, report.Entries),
        });
        return app;
    }

    // {"status":"ready","checks":{"database":{"status":"healthy","durationMs":2},…}}; never cached.
    private static Task WriteAsync(HttpContext context, string status, IReadOnlyDictionary<string, HealthReportEntry> entries)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        var view = new ReadinessView(
            status,
            entries.ToDictionary(e => e.Key, e => new CheckView(
                e.Value.Status.ToString().ToLowerInvariant(),
                e.Value.Description,
                (long)e.Value.Duration.TotalMilliseconds)));
        return context.Response.WriteAsync(JsonSerializer.Serialize(view, Json));
    }
}

/// <summary>The answer of <c>/healthz</c>: <c>{"status":"ok"}</c>.</summary>
public sealed record HealthView([property: JsonPropertyName("status")] string Status);

/// <summary>The answer of <c>/healthz/live</c> and <c>/healthz/ready</c>.</summary>
public sealed record ReadinessView(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("checks")] IReadOnlyDictionary<string, CheckView> Checks);

public sealed record CheckView(
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("description"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Description,
    [property: JsonPropertyName("durationMs")] long DurationMs);
