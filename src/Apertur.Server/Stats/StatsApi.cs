using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Apertur.Server.Data;
using Apertur.Server.Delivery;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Stats;

/// <summary>
/// Usage of the key's project (contract §2.13, decisions 13 and 20): live data only, test sessions and their images are
/// not counted. <c>imagesDelivered</c> counts images that reached at least one destination or were acknowledged by a
/// long-polling client. <c>deliverySuccessRate</c> is sent / (sent + failed) deliveries in percent, one decimal; with no
/// finished delivery yet it is 100.0 (nothing has failed). <c>activeKeys</c> counts the project's active keys of both
/// environments: keys are configuration, not usage. A key sees one project, so <c>totalProjects</c> is 1.
/// </summary>
public static class StatsApi
{
    public static IEndpointRouteBuilder MapStatsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/stats", GetAsync).AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        return app;
    }

    private static async Task<IResult> GetAsync(HttpContext http, AperturDb db, TimeProvider time, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var projectId = caller.ProjectId;
        var now = time.GetUtcNow();
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);

        var sessions = db.Sessions.AsNoTracking().Where(s => s.ProjectId == projectId && s.Env == ApiKeyTokens.Live);
        var sessionsTotal = await sessions.CountAsync(ct);
        var sessionsThisMonth = await sessions.CountAsync(s => s.CreatedAt >= monthStart, ct);

        var images = db.Images.AsNoTracking().Where(i => i.ProjectId == projectId && i.Env == ApiKeyTokens.Live);
        var imagesUploaded = await images.CountAsync(ct);
        var imagesDelivered = await images.CountAsync(i => i.AcknowledgedAt != null
            || db.Deliveries.Any(d => d.ImageId == i.Id && d.Status == DeliveryStatus.Sent), ct);

        var deliveries = db.Deliveries.AsNoTracking().Where(d => images.Any(i => i.Id == d.ImageId));
        var sent = await deliveries.CountAsync(d => d.Status == DeliveryStatus.Sent, ct);
        var failed = await deliveries.CountAsync(d => d.Status == DeliveryStatus.Failed, ct);
        var successRate = sent + failed == 0 ? 100.0 : Math.Round(sent * 100.0 / (sent + failed), 1);

        var activeKeys = await db.ApiKeys.AsNoTracking().CountAsync(k => k.ProjectId == projectId && k.IsActive, ct);

        return TypedResults.Ok(new StatsView(
            SessionsThisMonth: sessionsThisMonth,
            SessionsTotal: sessionsTotal,
            ImagesUploaded: imagesUploaded,
            ImagesDelivered: imagesDelivered,
            DeliverySuccessRate: successRate,
            TotalProjects: 1,
            ActiveKeys: activeKeys,
            TopProjects: [new TopProjectView(projectId.ToString(), caller.ProjectName, sessionsTotal)]));
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

/// <summary>Writes a float with a decimal point (<c>100.0</c>, not <c>100</c>): the contract types the rate as a float.</summary>
public sealed class DecimalPointConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDouble();

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteRawValue(value.ToString("0.0###", CultureInfo.InvariantCulture));
    }
}
