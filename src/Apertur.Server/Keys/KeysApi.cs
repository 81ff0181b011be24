using System.ComponentModel;
using System.Text.Json.Serialization;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.OpenApi;
using Apertur.Server.Projects;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Keys;

/// <summary>
/// A project's API keys (docs/api.md "API keys"): list, create (the plain key is shown once), change, delete, and a key's default
/// destinations. Routing and mapping only: the rules are <see cref="KeyService"/>'s.
/// </summary>
public static class KeysApi
{
    public static IEndpointRouteBuilder MapKeysApi(this IEndpointRouteBuilder app)
    {
        var project = app.MapGroup("/api/v1/projects/{projectId}/keys").RequireApiKey().WithRateLimit(RateLimitPolicies.Api).WithTags("API keys");
        project.MapGet("", ListAsync).WithName("ListKeys").WithSummary("The project's API keys (never the keys themselves)").Errors(404);
        project.MapPost("", CreateAsync).WithName("CreateKey").WithSummary("Create a key: the plain key is in this answer only")
            .Body<KeyRequest>().Errors(400, 404);
        project.MapPatch("/{keyId}", PatchAsync).WithName("UpdateKey").WithSummary("Change a key's label, state or limits")
            .Body<KeyRequest>().Errors(400, 404);
        project.MapDelete("/{keyId}", DeleteAsync).WithName("DeleteKey").WithSummary("Delete a key").Errors(400, 404);

        var keys = app.MapGroup("/api/v1/keys").RequireApiKey().WithRateLimit(RateLimitPolicies.Api).WithTags("API keys");
        keys.MapPut("/{keyId}/destinations", SetDestinationsAsync).WithName("SetKeyDestinations")
            .WithSummary("Replace a key's default destinations").Body<KeyDestinationsRequest>().Errors(400, 404);
        return app;
    }

    private static async Task<Ok<List<ApiKeyView>>> ListAsync(string projectId, HttpContext http, KeyService keys, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        return TypedResults.Ok((await keys.ListAsync(caller.ProjectId, ct)).Select(View).ToList());
    }

    private static async Task<Created<KeyCreatedView>> CreateAsync(string projectId, HttpContext http, KeyService keys, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var (key, plain) = await keys.CreateAsync(caller, body.Text("label", "name"), body.Text("env"), body, ct);
        var id = key.Id.ToString();
        return TypedResults.Created($"/api/v1/projects/{caller.ProjectId}/keys/{id}", new KeyCreatedView(View(key), plain, plain, id));
    }

    private static async Task<Ok<ApiKeyView>> PatchAsync(string projectId, string keyId, HttpContext http, KeyService keys, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        return TypedResults.Ok(View(await keys.PatchAsync(caller, keyId, body, ct)));
    }

    private static async Task<NoContent> DeleteAsync(string projectId, string keyId, HttpContext http, KeyService keys, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        await keys.DeleteAsync(caller, keyId, ct);
        return TypedResults.NoContent();
    }

    /// <summary><c>destination_ids</c> replaces the key's defaults (each must be a destination of the project).</summary>
    private static async Task<Ok<KeyDestinationsView>> SetDestinationsAsync(string keyId, HttpContext http, KeyService keys, CancellationToken ct)
    {
        var caller = http.GetCaller();
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var (key, defaults) = await keys.SetDestinationsAsync(caller, keyId, body.TextArray("destination_ids", "destinationIds"),
            body.Flag("long_polling_enabled", "long_polling", "longPollingEnabled"), ct);
        var destinations = defaults.Select(d => new KeyDestinationView(d.Id.ToString(), d.Type, d.Name, d.IsActive)).ToList();
        return TypedResults.Ok(new KeyDestinationsView(destinations, key.LongPollingEnabled));
    }

    private static ApiKeyView View(ApiKey k) => new(
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

/// <summary>
/// The body of key create and PATCH as the API reference shows it (each field also under its snake_case alias; absent stays,
/// null clears a limit). <c>label</c> is required on create.
/// </summary>
public sealed record KeyRequest(
    [property: JsonPropertyName("label"), Description("1–100 characters (alias name).")] string? Label,
    [property: JsonPropertyName("env"), Description("live or test; create only, default the caller's.")] string? Env,
    [property: JsonPropertyName("isActive"), Description("PATCH only.")] bool? IsActive,
    [property: JsonPropertyName("maxImages")] int? MaxImages,
    [property: JsonPropertyName("allowedMimeTypes")] IReadOnlyList<string>? AllowedMimeTypes,
    [property: JsonPropertyName("maxImageDimension")] int? MaxImageDimension,
    [property: JsonPropertyName("allowedIps"), Description("Addresses or CIDR networks.")] IReadOnlyList<string>? AllowedIps,
    [property: JsonPropertyName("allowedDomains")] IReadOnlyList<string>? AllowedDomains,
    [property: JsonPropertyName("longPollingEnabled")] bool? LongPollingEnabled);

public sealed record KeyDestinationsRequest(
    [property: JsonPropertyName("destination_ids"), Description("The key's default destinations, replacing the old list (alias destinationIds).")] IReadOnlyList<string>? DestinationIds,
    [property: JsonPropertyName("long_polling_enabled"), Description("Absent leaves it as it is (aliases long_polling, longPollingEnabled).")] bool? LongPollingEnabled);
