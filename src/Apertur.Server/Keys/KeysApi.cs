using System.Text.Json.Serialization;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Projects;
using Apertur.Server.Sessions;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Keys;

/// <summary>
/// A project's API keys (docs/api.md "API keys"): list, create (the plain key is shown once), change, delete, and a key's default
/// destinations. A key may deactivate or delete any key of its project, itself included; the <c>keys create</c> command
/// is the way back in when none is left.
/// </summary>
public static partial class KeysApi
{
    public const int MaxLabelLength = 100;

    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var project = app.MapGroup("/api/v1/projects/{projectId}/keys").AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        project.MapGet("", ListAsync);
        project.MapPost("", CreateAsync);
        project.MapPatch("/{keyId}", PatchAsync);
        project.MapDelete("/{keyId}", DeleteAsync);

        var keys = app.MapGroup("/api/v1/keys").AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        keys.MapPut("/{keyId}/destinations", SetDestinationsAsync);
        return app;
    }

    private static async Task<IResult> ListAsync(string projectId, HttpContext http, AperturDb db, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var keys = await db.ApiKeys.AsNoTracking().Where(k => k.ProjectId == caller.ProjectId)
            .OrderBy(k => k.CreatedAt).ThenBy(k => k.Id).ToListAsync(ct);
        return TypedResults.Ok(keys.Select(View).ToList());
    }

    private static async Task<IResult> CreateAsync(string projectId, HttpContext http, KeyIssuer issuer, ILogger<ApiKey> logger, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var label = ValidLabel(body.Text("label", "name"));
        var env = body.Text("env")?.Trim().ToLowerInvariant() ?? caller.Env;
        if (env is not (ApiKeyTokens.Live or ApiKeyTokens.Test))
        {
            throw ApiException.BadRequest("'env' must be \"live\" or \"test\".");
        }
        // Every field is read (and checked) before anything is stored.
        var changes = ReadChanges(body);
        var (key, plain) = await issuer.CreateConfiguredKeyAsync(caller.ProjectId, env, label, changes.ApplyTo, ct);
        LogCreated(logger, key.Id, env, caller.ProjectId, caller.KeyId);
        var id = key.Id.ToString();
        return TypedResults.Created($"/api/v1/projects/{caller.ProjectId}/keys/{id}", new KeyCreatedView(View(key), plain, plain, id));
    }

    private static async Task<IResult> PatchAsync(string projectId, string keyId, HttpContext http, AperturDb db, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var key = await FindAsync(db, caller, keyId, ct);
        var changes = ReadChanges(body);
        if (body.Has("label", "name"))
        {
            key.Label = ValidLabel(body.Text("label", "name"));
        }
        if (body.Flag("isActive", "is_active") is { } active)
        {
            key.IsActive = active;
        }
        changes.ApplyTo(key);
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(View(key));
    }

    private static async Task<IResult> DeleteAsync(string projectId, string keyId, HttpContext http, AperturDb db, ILogger<ApiKey> logger,
        CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var key = await FindAsync(db, caller, keyId, ct);
        db.ApiKeys.Remove(key);
        await db.SaveChangesAsync(ct);
        LogDeleted(logger, key.Id, caller.ProjectId, caller.KeyId);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// <c>destination_ids</c> replaces the key's defaults (each must be a destination of the project); the long-polling flag
    /// changes only when sent, because SDKs differ on whether they send it at all.
    /// </summary>
    private static async Task<IResult> SetDestinationsAsync(string keyId, HttpContext http, AperturDb db, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var key = await FindAsync(db, caller, keyId, ct);
        if (body.TextArray("destination_ids", "destinationIds") is { } requested)
        {
            await SetDefaultDestinationsAsync(db, caller.ProjectId, key, requested, ct);
        }
        if (body.Flag("long_polling_enabled", "long_polling", "longPollingEnabled") is { } longPolling)
        {
            key.LongPollingEnabled = longPolling;
        }
        await db.SaveChangesAsync(ct);

        var defaults = key.DefaultDestinations.Select(s => Guid.TryParse(s, out var g) ? g : Guid.Empty).ToList();
        var rows = await db.Destinations.AsNoTracking().Where(d => d.ProjectId == caller.ProjectId && defaults.Contains(d.Id)).ToListAsync(ct);
        var destinations = defaults.Select(id => rows.FirstOrDefault(d => d.Id == id)).OfType<Destinations.Destination>()
            .Select(d => new KeyDestinationView(d.Id.ToString(), d.Type, d.Name, d.IsActive)).ToList();
        return TypedResults.Ok(new KeyDestinationsView(destinations, key.LongPollingEnabled));
    }

    /// <summary>Replaces the key's default destinations (tracked, not saved); each id must be a destination of the project (400 otherwise).</summary>
    internal static async Task SetDefaultDestinationsAsync(AperturDb db, Guid projectId, ApiKey key, IEnumerable<string> requested, CancellationToken ct)
    {
        var ids = new List<Guid>();
        foreach (var raw in requested)
        {
            var id = Guid.TryParse(raw, out var g) ? g : throw ApiException.BadRequest($"Unknown destination id '{raw}'.", "DESTINATION_NOT_FOUND");
            if (!ids.Contains(id))
            {
                ids.Add(id);
            }
        }
        var known = await db.Destinations.Where(d => d.ProjectId == projectId && ids.Contains(d.Id)).Select(d => d.Id).ToListAsync(ct);
        var missing = ids.Where(id => !known.Contains(id)).ToList();
        if (missing.Count > 0)
        {
            throw ApiException.BadRequest($"Unknown destination id '{missing[0]}'.", "DESTINATION_NOT_FOUND");
        }
        key.DefaultDestinations = ids.Select(id => id.ToString()).ToArray();
    }

    private static async Task<ApiKey> FindAsync(AperturDb db, Caller caller, string keyId, CancellationToken ct)
    {
        var id = Ids.ParseOrNotFound(keyId, "Key");
        return await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id && k.ProjectId == caller.ProjectId, ct)
            ?? throw ApiException.NotFound("Key not found.", "KEY_NOT_FOUND");
    }

    /// <summary>The limit fields of a create or update, checked; absent fields stay as they are, null clears.</summary>
    internal static KeyChanges ReadChanges(JsonBody body)
    {
        var changes = new KeyChanges();
        if (body.Has("maxImages", "max_images"))
        {
            changes.MaxImages = PositiveOrNull(body, "'maxImages' must be a positive integer or null.", "maxImages", "max_images");
            changes.SetMaxImages = true;
        }
        if (body.Has("allowedMimeTypes", "allowed_mime_types"))
        {
            var types = (body.TextArray("allowedMimeTypes", "allowed_mime_types") ?? [])
                .Select(t => t.Trim().ToLowerInvariant()).Select(t => t == "image/jpg" ? ImageTypes.Jpeg : t).Distinct().ToArray();
            if (types.Any(t => !ImageTypes.All.Contains(t)))
            {
                throw ApiException.BadRequest($"'allowedMimeTypes' must be a subset of {string.Join(", ", ImageTypes.All)} (empty allows all).");
            }
            changes.AllowedMimeTypes = types;
        }
        if (body.Has("maxImageDimension", "max_image_dimension"))
        {
            changes.MaxImageDimension = PositiveOrNull(body, "'maxImageDimension' must be a positive number of pixels or null.",
                "maxImageDimension", "max_image_dimension");
            changes.SetMaxImageDimension = true;
        }
        if (body.Has("allowedIps", "allowed_ips"))
        {
            var ips = (body.TextArray("allowedIps", "allowed_ips") ?? []).Select(ip => ip.Trim()).Where(ip => ip.Length > 0).Distinct().ToArray();
            if (ips.FirstOrDefault(ip => !IpAllowList.TryParse(ip, out _)) is { } bad)
            {
                throw ApiException.BadRequest($"'allowedIps' entries must be IP addresses or CIDR networks such as 203.0.113.0/24 (got '{bad}').");
            }
            changes.AllowedIps = ips;
        }
        if (body.Has("allowedDomains", "allowed_domains"))
        {
            var domains = (body.TextArray("allowedDomains", "allowed_domains") ?? [])
                .Select(d => d.Trim().ToLowerInvariant()).Where(d => d.Length > 0).Distinct().ToArray();
            if (domains.FirstOrDefault(d => !DomainAllowList.TryParse(d, out _)) is { } bad)
            {
                throw ApiException.BadRequest(
                    $"'allowedDomains' entries must be host names such as shop.example.com, *.example.com or https://shop.example.com:8443 (got '{bad}').");
            }
            changes.AllowedDomains = domains;
        }
        changes.LongPollingEnabled = body.Flag("longPollingEnabled", "long_polling_enabled");
        return changes;
    }

    private static int? PositiveOrNull(JsonBody body, string message, params string[] names) => body.Number(names) switch
    {
        null => null,
        >= 1 and <= int.MaxValue and var n => (int)n,
        _ => throw ApiException.BadRequest(message),
    };

    internal sealed class KeyChanges
    {
        public bool SetMaxImages;
        public int? MaxImages;
        public string[]? AllowedMimeTypes;
        public bool SetMaxImageDimension;
        public int? MaxImageDimension;
        public string[]? AllowedIps;
        public string[]? AllowedDomains;
        public bool? LongPollingEnabled;

        public void ApplyTo(ApiKey key)
        {
            if (SetMaxImages)
            {
                key.MaxImages = MaxImages;
            }
            if (SetMaxImageDimension)
            {
                key.MaxImageDimension = MaxImageDimension;
            }
            key.AllowedMimeTypes = AllowedMimeTypes ?? key.AllowedMimeTypes;
            key.AllowedIps = AllowedIps ?? key.AllowedIps;
            key.AllowedDomains = AllowedDomains ?? key.AllowedDomains;
            key.LongPollingEnabled = LongPollingEnabled ?? key.LongPollingEnabled;
        }
    }

    internal static string ValidLabel(string? label)
    {
        var trimmed = label?.Trim();
        return string.IsNullOrEmpty(trimmed) || trimmed.Length > MaxLabelLength
            ? throw ApiException.BadRequest($"'label' is required: 1 to {MaxLabelLength} characters.")
            : trimmed;
    }

    internal static ApiKeyView View(ApiKey k) => new(
        Id: k.Id.ToString(),
        Prefix: k.Prefix,
        Label: k.Label,
        Env: k.Env,
        IsActive: k.IsActive,
        LastUsedAt: Iso.Format(k.LastUsedAt),
        MaxImages: k.MaxImages,
        AllowedMimeTypes: k.AllowedMimeTypes ?? [],
        MaxImageDimension: k.MaxImageDimension,
        LongPollingEnabled: k.LongPollingEnabled,
        DefaultDestinations: k.DefaultDestinations ?? [],
        AllowedIps: k.AllowedIps ?? [],
        AllowedDomains: k.AllowedDomains ?? [],
        TotpEnabled: false,
        ClientCertEnabled: false,
        ClientCertFingerprint: null,
        CreatedAt: Iso.Format(k.CreatedAt));

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} ({Env}) created in project {ProjectId} by key {CallerKeyId}")]
    private static partial void LogCreated(ILogger logger, Guid keyId, string env, Guid projectId, Guid callerKeyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} deleted from project {ProjectId} by key {CallerKeyId}")]
    private static partial void LogDeleted(ILogger logger, Guid keyId, Guid projectId, Guid callerKeyId);
}

/// <summary>An API key as listed (docs/api.md "API keys"; camelCase, every field Rust-required, arrays never null). Never the key itself.</summary>
public sealed record ApiKeyView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("label")] string Label,
    [property: JsonPropertyName("env")] string Env,
    [property: JsonPropertyName("isActive")] bool IsActive,
    [property: JsonPropertyName("lastUsedAt")] string? LastUsedAt,
    [property: JsonPropertyName("maxImages")] int? MaxImages,
    [property: JsonPropertyName("allowedMimeTypes")] IReadOnlyList<string> AllowedMimeTypes,
    [property: JsonPropertyName("maxImageDimension")] int? MaxImageDimension,
    [property: JsonPropertyName("longPollingEnabled")] bool LongPollingEnabled,
    [property: JsonPropertyName("defaultDestinations")] IReadOnlyList<string> DefaultDestinations,
    [property: JsonPropertyName("allowedIps")] IReadOnlyList<string> AllowedIps,
    [property: JsonPropertyName("allowedDomains")] IReadOnlyList<string> AllowedDomains,
    [property: JsonPropertyName("totpEnabled")] bool TotpEnabled,
    [property: JsonPropertyName("clientCertEnabled")] bool ClientCertEnabled,
    [property: JsonPropertyName("clientCertFingerprint")] string? ClientCertFingerprint,
    [property: JsonPropertyName("createdAt")] string CreatedAt);

/// <summary>KeyCreated: the plain key under both spellings (.NET README reads <c>plain_text_key</c>), shown this once.</summary>
public sealed record KeyCreatedView(
    [property: JsonPropertyName("key")] ApiKeyView Key,
    [property: JsonPropertyName("plainTextKey")] string PlainTextKey,
    [property: JsonPropertyName("plain_text_key")] string PlainTextKeySnake,
    [property: JsonPropertyName("id")] string Id);

public sealed record KeyDestinationView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("isActive")] bool IsActive);

public sealed record KeyDestinationsView(
    [property: JsonPropertyName("destinations")] IReadOnlyList<KeyDestinationView> Destinations,
    [property: JsonPropertyName("longPollingEnabled")] bool LongPollingEnabled);
