using System.Text.Json;
using System.Text.Json.Serialization;
using Apertur.Destinations;
using Apertur.Destinations.AzureBlob;
using Apertur.Destinations.Dropbox;
using Apertur.Destinations.Ftp;
using Apertur.Destinations.GoogleDrive;
using Apertur.Destinations.OneDrive;
using Apertur.Destinations.S3;
using Apertur.Destinations.Sftp;
using Apertur.Destinations.WebDav;
using Apertur.Destinations.Webhooks;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Projects;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Destinations;

/// <summary>A project's destinations (docs/api.md "Destinations"): CRUD and the connection test.</summary>
public static class DestinationsApi
{
    public const int MaxNameLength = 100;

    /// <summary>Body fields that are not config when a client sends the config flat, without a <c>config</c> wrapper (Ruby).</summary>
    private static readonly string[] EnvelopeFields = ["type", "name", "config", "isActive", "is_active"];

    public static IEndpointRouteBuilder MapDestinationsApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/projects/{projectId}/destinations")
            .AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        keyed.MapGet("", ListAsync);
        keyed.MapPost("", CreateAsync);
        keyed.MapPatch("/{destId}", PatchAsync);
        keyed.MapDelete("/{destId}", DeleteAsync);
        keyed.MapPost("/{destId}/test", TestAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(string projectId, HttpContext http, AperturDb db, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var rows = await db.Destinations.AsNoTracking().Where(d => d.ProjectId == caller.ProjectId)
            .OrderBy(d => d.CreatedAt).ThenBy(d => d.Id).ToListAsync(ct);
        return TypedResults.Ok(rows.Select(View).ToList());
    }

    private static async Task<IResult> CreateAsync(string projectId, HttpContext http, DestinationService destinations, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var kind = DestinationService.Kind(body.Text("type"));
        // Python omits config when None; Ruby sends the config fields flat, without the wrapper.
        var config = body.Has("config") ? body.Element("config") ?? EmptyObject() : body.Rest(EnvelopeFields);
        var destination = await destinations.CreateAsync(caller.ProjectId, kind, body.Text("name"), config, body.Flag("isActive", "is_active") ?? true, ct);
        return TypedResults.Created($"/api/v1/projects/{caller.ProjectId}/destinations/{destination.Id}", View(destination));
    }

    private static async Task<IResult> PatchAsync(string projectId, string destId, HttpContext http, DestinationService destinations, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var id = Ids.ParseOrNotFound(destId, "Destination");
        // A present "name" is checked even when null or empty.
        var name = body.Has("name") ? body.Text("name") ?? "" : null;
        var destination = await destinations.PatchAsync(caller.ProjectId, id, name, body.Element("config"), body.Flag("isActive", "is_active"), ct);
        return TypedResults.Ok(View(destination));
    }

    private static async Task<IResult> DeleteAsync(string projectId, string destId, HttpContext http, DestinationService destinations, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        await destinations.DeleteAsync(caller.ProjectId, Ids.ParseOrNotFound(destId, "Destination"), ct);
        return TypedResults.NoContent();
    }

    /// <summary>The adapter's own connection test, with the project's signing secrets and the decrypted config; always 200.</summary>
    private static async Task<IResult> TestAsync(string projectId, string destId, HttpContext http, DestinationService destinations, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        return TypedResults.Ok(await destinations.TestAsync(caller.ProjectId, Ids.ParseOrNotFound(destId, "Destination"), ct));
    }

    /// <summary>Kinds with an adapter check their config in words; the others only need a JSON object until their adapter lands.</summary>
    internal static void Validate(string kind, JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.BadRequest("'config' must be a JSON object.");
        }
        IReadOnlyList<string> problems = kind switch
        {
            DestinationKinds.Webhook => WebhookDestination.Validate(config),
            DestinationKinds.S3 => S3Destination.Validate(config),
            DestinationKinds.AzureBlob => AzureBlobDestination.Validate(config),
            DestinationKinds.Sftp => SftpDestination.Validate(config),
            DestinationKinds.Ftp => FtpDestination.Validate(config),
            DestinationKinds.WebDav => WebDavDestination.Validate(config),
            DestinationKinds.GoogleDrive => GoogleDriveDestination.Validate(config),
            DestinationKinds.Dropbox => DropboxDestination.Validate(config),
            DestinationKinds.OneDrive => OneDriveDestination.Validate(config),
            _ => [],
        };
        if (problems.Count > 0)
        {
            throw ApiException.BadRequest(string.Join(" ", problems));
        }
    }

    /// <summary>
    /// What a person should know about a config that works but is unsafe (plain FTP, TLS checks off, WebDAV over http).
    /// Answered as <c>warnings</c> beside the documented fields (the SDKs ignore unknown fields; Rust's serde included) and
    /// left out when there is none.
    /// </summary>
    internal static IReadOnlyList<string> Warnings(string kind, JsonElement config) => kind switch
    {
        DestinationKinds.Ftp => FtpConfig.Warnings(config),
        DestinationKinds.WebDav => WebDavConfig.Warnings(config),
        _ => [],
    };

    internal static string ValidName(string? name)
    {
        var trimmed = name?.Trim();
        return string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxNameLength
            ? throw ApiException.BadRequest($"'name' must be 1 to {MaxNameLength} characters.")
            : trimmed;
    }

    private static JsonElement EmptyObject() => JsonSerializer.SerializeToElement(new Dictionary<string, object>());

    internal static DestinationView View(Destination d)
    {
        var config = DestinationConfigs.Mask(d.Type, d.Config);
        var warnings = Warnings(d.Type, config);
        return new(d.Id.ToString(), d.Type, d.Name, config, d.IsActive, Iso.Format(d.CreatedAt), Iso.Format(d.UpdatedAt),
            warnings.Count > 0 ? warnings : null);
    }
}

/// <summary>A destination as the API shows it (all fields Rust-required, camelCase); secrets in config are masked.</summary>
public sealed record DestinationView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("config")] JsonElement Config,
    [property: JsonPropertyName("isActive")] bool IsActive,
    [property: JsonPropertyName("createdAt")] string CreatedAt,
    [property: JsonPropertyName("updatedAt")] string UpdatedAt,
    [property: JsonPropertyName("warnings"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Warnings = null);

/// <summary>The connection test answer: <c>success</c> always; <c>status</c> when the target answered; <c>error</c> on failure.</summary>
public sealed record TestView(
    [property: JsonPropertyName("success")] bool Success,
    [property: JsonPropertyName("status"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Status,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("error"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Error)
{
    public static TestView Failed(string message) => new(false, null, message, message);
}
