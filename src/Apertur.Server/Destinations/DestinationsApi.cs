using System.ComponentModel;
using System.Text.Json.Serialization;
using System.Text.Json;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.OpenApi;
using Apertur.Server.Projects;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Destinations;

/// <summary>
/// A project's destinations (docs/api.md "Destinations"): CRUD and the connection test. Routing and mapping only: the
/// rules are <see cref="DestinationService"/>'s.
/// </summary>
public static class DestinationsApi
{
    /// <summary>Body fields that are not config when a client sends the config flat, without a <c>config</c> wrapper (Ruby).</summary>
    private static readonly string[] EnvelopeFields = ["type", "name", "config", "isActive", "is_active"];

    public static IEndpointRouteBuilder MapDestinationsApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/projects/{projectId}/destinations")
            .RequireApiKey().WithRateLimit(RateLimitPolicies.Api).WithTags("Destinations");
        keyed.MapGet("", ListAsync).WithName("ListDestinations").WithSummary("The project's destinations").Errors(404);
        keyed.MapPost("", CreateAsync).WithName("CreateDestination").WithSummary("Add a destination")
            .Body<DestinationRequest>().Errors(400, 404);
        keyed.MapPatch("/{destId}", PatchAsync).WithName("UpdateDestination").WithSummary("Change a destination (config is a merge patch)")
            .Body<DestinationRequest>().Errors(400, 404);
        keyed.MapDelete("/{destId}", DeleteAsync).WithName("DeleteDestination").WithSummary("Delete a destination").Errors(404);
        keyed.MapPost("/{destId}/test", TestAsync).WithName("TestDestination").WithSummary("Test a destination's connection (always 200)")
            .Errors(404);
        return app;
    }

    private static async Task<Ok<List<DestinationView>>> ListAsync(string projectId, HttpContext http, DestinationService destinations, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        return TypedResults.Ok((await destinations.ListAsync(caller.ProjectId, ct)).Select(destinations.View).ToList());
    }

    private static async Task<Created<DestinationView>> CreateAsync(string projectId, HttpContext http, DestinationService destinations, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var kind = destinations.Kind(body.Text("type"));
        // Python omits config when None; Ruby sends the config fields flat, without the wrapper.
        var config = body.Has("config") ? body.Element("config") ?? EmptyObject() : body.Rest(EnvelopeFields);
        var destination = await destinations.CreateAsync(caller.ProjectId, kind, body.Text("name"), config, body.Flag("isActive", "is_active") ?? true, ct);
        return TypedResults.Created($"/api/v1/projects/{caller.ProjectId}/destinations/{destination.Id}", destinations.View(destination));
    }

    private static async Task<Ok<DestinationView>> PatchAsync(string projectId, string destId, HttpContext http, DestinationService destinations, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var id = Ids.ParseOrNotFound(destId, "Destination");
        // A present "name" is checked even when null or empty.
        var name = body.Has("name") ? body.Text("name") ?? "" : null;
        var destination = await destinations.PatchAsync(caller.ProjectId, id, name, body.Element("config"), body.Flag("isActive", "is_active"), ct);
        return TypedResults.Ok(destinations.View(destination));
    }

    private static async Task<NoContent> DeleteAsync(string projectId, string destId, HttpContext http, DestinationService destinations, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        await destinations.DeleteAsync(caller.ProjectId, Ids.ParseOrNotFound(destId, "Destination"), ct);
        return TypedResults.NoContent();
    }

    /// <summary>The adapter's own connection test, with the project's signing secrets and the decrypted config; always 200.</summary>
    private static async Task<Ok<TestView>> TestAsync(string projectId, string destId, HttpContext http, DestinationService destinations, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        return TypedResults.Ok(await destinations.TestAsync(caller.ProjectId, Ids.ParseOrNotFound(destId, "Destination"), ct));
    }

    private static JsonElement EmptyObject() => JsonSerializer.SerializeToElement(new Dictionary<string, object>());
}

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

/// <summary>
/// The body of destination create and PATCH as the API reference shows it: <c>type</c>, <c>name</c> and <c>config</c> are
/// required on create (a config sent flat, without the wrapper, is read too); on PATCH every field is optional.
/// </summary>
public sealed record DestinationRequest(
    [property: JsonPropertyName("type"), Description("webhook, s3, google_drive (gdrive), dropbox, onedrive, ftp, sftp, webdav or azure_blob; create only.")] string? Type,
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("config"), Description("The kind's settings (README, docs/cloud-drives.md); secrets sent back as ******** keep their value.")] JsonElement? Config,
    [property: JsonPropertyName("isActive"), Description("Alias is_active; default true.")] bool? IsActive);
