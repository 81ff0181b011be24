using System.Security.Cryptography;
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

/// <summary>A project's destinations (contract §2.7, decisions 17 and 18): CRUD and the connection test.</summary>
public static partial class DestinationsApi
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

    private static async Task<IResult> CreateAsync(string projectId, HttpContext http, AperturDb db, TimeProvider time,
        DestinationConfigs configs, ILogger<Destination> logger, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var typeText = body.Text("type");
        var kind = DestinationKinds.Normalise(typeText) ?? throw ApiException.BadRequest(
            (typeText is null ? "'type' is required" : $"Unknown destination type '{typeText}'")
            + $". Valid types: {string.Join(", ", DestinationKinds.All)} (gdrive is accepted for google_drive).", "INVALID_DESTINATION_TYPE");
        var name = ValidName(body.Text("name"));
        // Python omits config when None; Ruby sends the config fields flat, without the wrapper.
        var config = body.Has("config") ? body.Element("config") ?? EmptyObject() : body.Rest(EnvelopeFields);
        Validate(kind, config);

        var now = Iso.Millis(time.GetUtcNow());
        var destination = new Destination
        {
            Id = Ids.New(time),
            ProjectId = caller.ProjectId,
            Type = kind,
            Name = name,
            Config = configs.Protect(kind, config),
            IsActive = body.Flag("isActive", "is_active") ?? true,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Destinations.Add(destination);
        await db.SaveChangesAsync(ct);
        LogCreated(logger, destination.Id, kind, caller.ProjectId);
        LogWarnings(logger, destination, config);
        return TypedResults.Created($"/api/v1/projects/{caller.ProjectId}/destinations/{destination.Id}", View(destination));
    }

    private static async Task<IResult> PatchAsync(string projectId, string destId, HttpContext http, AperturDb db, TimeProvider time,
        DestinationConfigs configs, ILogger<Destination> logger, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var body = await JsonBody.ReadAsync(http.Request, ct);
        var destination = await FindAsync(db, caller, destId, ct);
        if (body.Has("name"))
        {
            destination.Name = ValidName(body.Text("name"));
        }
        if (body.Element("config") is { } patch)
        {
            var merged = configs.Merge(destination.Type, destination.Config, patch);
            JsonElement revealed;
            try
            {
                revealed = configs.Reveal(merged);
            }
            catch (CryptographicException)
            {
                throw ApiException.BadRequest(
                    "The stored credentials cannot be decrypted (was the master key changed?): send every secret again instead of the mask.",
                    "DESTINATION_SECRETS_UNREADABLE");
            }
            Validate(destination.Type, revealed);
            destination.Config = merged;
            LogWarnings(logger, destination, revealed);
        }
        if (body.Flag("isActive", "is_active") is { } active)
        {
            destination.IsActive = active;
        }
        destination.UpdatedAt = Iso.Millis(time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return TypedResults.Ok(View(destination));
    }

    /// <summary>
    /// Removes the destination and drops it from every key's default destinations. Deliveries already queued to it stay:
    /// the worker fails them as "destination deleted", so the delivery log keeps their history.
    /// </summary>
    private static async Task<IResult> DeleteAsync(string projectId, string destId, HttpContext http, AperturDb db, ILogger<Destination> logger,
        CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var destination = await FindAsync(db, caller, destId, ct);
        var keys = await db.ApiKeys.Where(k => k.ProjectId == caller.ProjectId).ToListAsync(ct);
        foreach (var key in keys)
        {
            var kept = key.DefaultDestinations.Where(s => !Guid.TryParse(s, out var id) || id != destination.Id).ToArray();
            if (kept.Length != key.DefaultDestinations.Length)
            {
                key.DefaultDestinations = kept;
            }
        }
        db.Destinations.Remove(destination);
        await db.SaveChangesAsync(ct);
        LogDeleted(logger, destination.Id, caller.ProjectId);
        return TypedResults.NoContent();
    }

    /// <summary>The adapter's own connection test, with the project's signing secrets and the decrypted config; always 200.</summary>
    private static async Task<IResult> TestAsync(string projectId, string destId, HttpContext http, AperturDb db, TimeProvider time,
        DestinationConfigs configs, DestinationRegistry registry, ILogger<Destination> logger, CancellationToken ct)
    {
        var caller = http.RequireProject(projectId);
        var destination = await FindAsync(db, caller, destId, ct);
        var adapter = registry.Find(destination.Type);
        if (adapter is null)
        {
            return TypedResults.Ok(TestView.Failed($"No adapter for {destination.Type} is installed in this version"));
        }
        if (adapter is not IConnectionTestable testable)
        {
            return TypedResults.Ok(TestView.Failed($"The {destination.Type} adapter has no connection test in this version"));
        }
        JsonElement config;
        try
        {
            config = configs.Reveal(destination.Config);
        }
        catch (CryptographicException)
        {
            return TypedResults.Ok(TestView.Failed(
                "The stored credentials cannot be decrypted (was the master key changed?). Enter them again with PATCH."));
        }
        var signing = await ProjectSigningProvider.GetAsync(db, caller.ProjectId, time.GetUtcNow(), ct);
        var target = new DestinationTarget(destination.Id, destination.Type, destination.Name, config);
        ConnectionTestResult result;
        try
        {
            result = await testable.TestAsync(target, signing, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTestCrashed(logger, e, destination.Id, destination.Type);
            return TypedResults.Ok(TestView.Failed($"The {destination.Type} adapter failed unexpectedly: {e.Message}"));
        }
        return TypedResults.Ok(result.Success
            ? new TestView(true, result.StatusCode, result.Message, null)
            : new TestView(false, result.StatusCode, result.Message, result.Message));
    }

    private static async Task<Destination> FindAsync(AperturDb db, Caller caller, string destId, CancellationToken ct)
    {
        var id = Ids.ParseOrNotFound(destId, "Destination");
        return await db.Destinations.FirstOrDefaultAsync(d => d.Id == id && d.ProjectId == caller.ProjectId, ct)
            ?? throw ApiException.NotFound("Destination not found.", "DESTINATION_NOT_FOUND");
    }

    /// <summary>Kinds with an adapter check their config in words; the others only need a JSON object until their adapter lands.</summary>
    private static void Validate(string kind, JsonElement config)
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
    /// Answered as <c>warnings</c> beside the contract's fields (the SDKs ignore unknown fields; Rust's serde included) and
    /// left out when there is none.
    /// </summary>
    internal static IReadOnlyList<string> Warnings(string kind, JsonElement config) => kind switch
    {
        DestinationKinds.Ftp => FtpConfig.Warnings(config),
        DestinationKinds.WebDav => WebDavConfig.Warnings(config),
        _ => [],
    };

    private static void LogWarnings(ILogger logger, Destination destination, JsonElement config)
    {
        foreach (var warning in Warnings(destination.Type, config))
        {
            LogUnsafeConfig(logger, destination.Id, destination.Type, warning);
        }
    }

    private static string ValidName(string? name)
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {DestinationId} ({Kind}) created in project {ProjectId}")]
    private static partial void LogCreated(ILogger logger, Guid destinationId, string kind, Guid projectId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {DestinationId} deleted from project {ProjectId}")]
    private static partial void LogDeleted(ILogger logger, Guid destinationId, Guid projectId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Destination {DestinationId} ({Kind}) is configured unsafely: {Warning}")]
    private static partial void LogUnsafeConfig(ILogger logger, Guid destinationId, string kind, string warning);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection test of destination {DestinationId} ({Kind}) threw")]
    private static partial void LogTestCrashed(ILogger logger, Exception exception, Guid destinationId, string kind);
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
