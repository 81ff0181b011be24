using System.Diagnostics.Metrics;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Apertur.Server.Telemetry;

/// <summary>
/// Metrics and traces with OpenTelemetry (docs/operations.md "Metrics and traces"). What is measured and traced is set
/// here once; where it goes is chosen by settings: the Prometheus endpoint <c>/metrics</c> when
/// <c>Apertur:Metrics:Enabled</c>, OTLP when the standard <c>OTEL_EXPORTER_OTLP_*ENDPOINT</c> variables name a collector.
/// With neither, no provider is built and the instruments cost next to nothing.
/// </summary>
public static class TelemetryServices
{
    public const string Path = "/metrics";

    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<MetricsOptions>(MetricsOptions.Section);
        var metrics = configuration.ReadSettings<MetricsOptions>(MetricsOptions.Section);
        services.AddSingleton<QueueFigures>();
        services.AddSingleton<AperturMetrics>();

        // What any tracer or meter provider records, whoever builds it (the exporters below, or a test's in-memory one).
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing
            .AddSource(AperturTelemetry.Name)
            .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsProbe(http.Request.Path))
            .AddHttpClientInstrumentation()
            .AddNpgsql());
        services.ConfigureOpenTelemetryMeterProvider(meters => meters
            .AddMeter(AperturTelemetry.Name)
            .AddAspNetCoreInstrumentation()
            .AddHttpClientInstrumentation()
            .AddRuntimeInstrumentation()
            .AddNpgsqlInstrumentation()
            // EF Core's own meter (SQLite and PostgreSQL alike): queries, saves, optimistic concurrency failures.
            .AddMeter("Microsoft.EntityFrameworkCore"));
        // This server's figures only: meters another host in the same process made with its own IMeterFactory (as the
        // integration tests run several servers side by side) are left out; process-wide meters (runtime, HttpClient) stay.
        services.ConfigureOpenTelemetryMeterProvider((provider, meters) =>
        {
            var own = provider.GetRequiredService<IMeterFactory>();
            meters.AddView(instrument => instrument.Meter.Scope is null || instrument.Meter.Scope == own ? null : MetricStreamConfiguration.Drop);
        });

        var otel = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(configuration["OTEL_SERVICE_NAME"] ?? "apertur"));
        var otlpTraces = OtlpConfigured(configuration, "TRACES");
        var otlpMetrics = OtlpConfigured(configuration, "METRICS");
        if (otlpTraces)
        {
            otel.WithTracing(tracing => tracing.AddOtlpExporter());
        }
        if (metrics.Enabled || otlpMetrics)
        {
            otel.WithMetrics(meters =>
            {
                if (metrics.Enabled)
                {
                    // Scrapes read live values: the queue gauges have their own short cache (QueueFigures).
                    meters.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                }
                if (otlpMetrics)
                {
                    meters.AddOtlpExporter();
                }
            });
        }
        return services;
    }

    /// <summary>
    /// Serves <c>/metrics</c> when <c>Apertur:Metrics:Enabled</c>, to the clients of <c>Apertur:Metrics:AllowedNetworks</c>
    /// when set; every other request (and every one when off) goes on to routing, which answers 404.
    /// </summary>
    public static WebApplication UseMetricsEndpoint(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (options.Enabled)
        {
            var allowed = options.AllowedNetworks;
            app.UseOpenTelemetryPrometheusScrapingEndpoint(
                meterProvider: null,
                predicate: http => http.Request.Path == Path && (allowed.Count == 0 || IpAllowList.Allows(allowed, http.Connection.RemoteIpAddress)),
                path: null,
                configureBranchedPipeline: null,
                optionsName: null);
        }
        return app;
    }

    // Health probes and scrapes would be most of the traces and say nothing.
    private static bool IsProbe(PathString path) => path.StartsWithSegments("/healthz") || path.StartsWithSegments(Path);

    // The exporter's own defaults point at localhost: export only to a collector the operator named.
    private static bool OtlpConfigured(IConfiguration configuration, string signal) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])
        || !string.IsNullOrWhiteSpace(configuration[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"]);
}
