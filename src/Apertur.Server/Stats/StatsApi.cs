using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Stats;

/// <summary>
/// Usage of the key's project (docs/api.md "Stats"): live data only, test sessions and their images are
/// not counted. <c>imagesDelivered</c> counts images that reached at least one destination or were acknowledged by a
/// long-polling client. <c>deliverySuccessRate</c> is sent / (sent + failed) deliveries in percent, one decimal; with no
/// finished delivery yet it is 100.0 (nothing has failed). <c>activeKeys</c> counts the project's active keys of both
/// environments: keys are configuration, not usage. A key sees one project, so <c>totalProjects</c> is 1.
/// </summary>
public static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/stats", GetAsync).RequireApiKey().WithRateLimit(RateLimitPolicies.Api)
            .WithTags("Stats").WithName("GetStats").WithSummary("Usage of the key's project, live data only");
        return app;
    }

    private static async Task<Ok<StatsView>> GetAsync(HttpContext http, UsageStats usage, TimeProvider time, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var projectId = caller.ProjectId;
        var live = await usage.TotalsAsync(projectId, ApiKeyTokens.Live, time.GetUtcNow(), ct);
        var activeKeys = await usage.ActiveKeysAsync(projectId, ct);

        return TypedResults.Ok(new StatsView(
            SessionsThisMonth: live.SessionsThisMonth,
            SessionsTotal: live.SessionsTotal,
            ImagesUploaded: live.ImagesUploaded,
            ImagesDelivered: live.ImagesDelivered,
            DeliverySuccessRate: live.SuccessRate,
            TotalProjects: 1,
            ActiveKeys: activeKeys,
            TopProjects: [new TopProjectView(projectId.ToString(), caller.ProjectName, live.SessionsTotal)]));
    }
}

/// <summary>The stats body. Exactly one period field, <c>sessionsThisMonth</c> (Rust fails on both).</summary>
public sealed record StatsView(
    [property: JsonPropertyName("sessionsThisMonth")] int SessionsThisMonth,
    [property: JsonPropertyName("sessionsTotal")] int SessionsTotal,
    [property: JsonPropertyName("imagesUploaded")] int ImagesUploaded,
    [property: JsonPropertyName("imagesDelivered")] int ImagesDelivered,
    [property: JsonPropertyName("deliverySuccessRate"), JsonConverter(typeof(DecimalPointConverter))] double DeliverySuccessRate,
    [property: JsonPropertyName("totalProjects")] int TotalProjects,
    [property: JsonPropertyName("activeKeys")] int ActiveKeys,
    [property: JsonPropertyName("topProjects")] IReadOnlyList<TopProjectView> TopProjects);

public sealed record TopProjectView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("sessions")] int Sessions);

/// <summary>Writes a float with a decimal point (<c>100.0</c>, not <c>100</c>): the SDKs type the rate as a float.</summary>
public sealed class DecimalPointConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteRawValue(value.ToString("0.0###", CultureInfo.InvariantCulture));
    }
}
