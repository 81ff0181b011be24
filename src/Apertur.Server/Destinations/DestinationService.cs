using System.Security.Cryptography;
using System.Text.Json;
using Apertur.Destinations;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Projects;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Destinations;

/// <summary>
/// What the destinations API and the dashboard both do to a project's destinations: create, change, delete and the
/// connection test. Input is already read (kind, name, config); failures are <see cref="ApiException"/>s with a reason.
/// </summary>
public sealed partial class DestinationService(AperturDb db, TimeProvider time, DestinationConfigs configs, ProjectSigningProvider signingProvider,
    DestinationRegistry registry, DestinationKindRegistry kinds, ILogger<Destination> logger)
{
    public const int MaxNameLength = 100;

    public static string ValidName(string? name) =>
        TextFields.Required(name, MaxNameLength, $"'name' must be 1 to {MaxNameLength} characters.");

    /// <summary>The project's destinations, oldest first.</summary>
    public Task<List<Destination>> ListAsync(Guid projectId, CancellationToken ct) =>
        db.Destinations.AsNoTracking().Where(d => d.ProjectId == projectId).OrderBy(d => d.CreatedAt).ThenBy(d => d.Id).ToListAsync(ct);

    /// <summary>The kind from a client's <c>type</c> (aliases accepted), or 400 listing the valid ones.</summary>
    public string Kind(string? typeText) => kinds.Find(typeText)?.Kind ?? throw ApiException.BadRequest(
        (typeText is null ? "'type' is required" : $"Unknown destination type '{typeText}'")
        + $". Valid types: {string.Join(", ", kinds.All.Select(k => k.Kind))}"
        + string.Concat(kinds.All.SelectMany(k => k.Aliases.Select(a => $" ({a} is accepted for {k.Kind})"))) + ".",
        "INVALID_DESTINATION_TYPE");

    /// <summary>
    /// 400 with the kind's problems in words (<see cref="DestinationDescriptor.Validate"/>). A kind this version does not
    /// register (a row written by a newer version) only needs a JSON object.
    /// </summary>
    internal void Validate(string kind, JsonElement config)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.BadRequest("'config' must be a JSON object.");
        }
        var problems = kinds.Find(kind)?.Validate(config) ?? [];
        if (problems.Count > 0)
        {
            throw ApiException.BadRequest(string.Join(" ", problems));
        }
    }

    /// <summary>
    /// What a person should know about a config that works but is unsafe (plain FTP, TLS checks off, WebDAV over http).
    /// Answered as <c>warnings</c> beside the documented fields (docs/api.md "Destinations"; the SDKs ignore unknown fields,
    /// Rust's serde included) and left out when there is none.
    /// </summary>
    internal IReadOnlyList<string> Warnings(string kind, JsonElement config) => kinds.Find(kind)?.Warnings(config) ?? [];

    /// <summary>A destination as the API answers it: secrets masked, warnings when any.</summary>
    internal DestinationView View(Destination d)
    {
        var config = configs.Mask(d.Type, d.Config);
        var warnings = Warnings(d.Type, config);
        return new(d.Id.ToString(), d.Type, d.Name, config, d.IsActive, Iso.Format(d.CreatedAt), Iso.Format(d.UpdatedAt),
            warnings.Count > 0 ? warnings : null);
    }

    public async Task<Destination> CreateAsync(Guid projectId, string kind, string? name, JsonElement config, bool isActive, CancellationToken ct)
    {
        var validName = ValidName(name);
        Validate(kind, config);
        var now = Iso.Millis(time.GetUtcNow());
        var destination = new Destination
        {
            Id = Ids.New(time),
            ProjectId = projectId,
            Type = kind,
            Name = validName,
            Config = configs.Protect(kind, config),
            IsActive = isActive,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Destinations.Add(destination);
        await db.SaveChangesAsync(ct);
        LogCreated(logger, destination.Id, kind, projectId);
        LogWarnings(destination, config);
        return destination;
    }

    /// <summary>
    /// Applies the parts given: a new name, a config merge patch (secrets sent as the mask keep their stored value), the
    /// active flag. The merged config is validated in clear before it is stored.
    /// </summary>
    public async Task<Destination> PatchAsync(Guid projectId, Guid destinationId, string? name, JsonElement? configPatch, bool? isActive, CancellationToken ct)
    {
        var destination = await FindAsync(projectId, destinationId, ct);
        if (name is not null)
        {
            destination.Name = ValidName(name);
        }
        if (configPatch is { } patch)
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
            LogWarnings(destination, revealed);
        }
        if (isActive is { } active)
        {
            destination.IsActive = active;
        }
        destination.UpdatedAt = Iso.Millis(time.GetUtcNow());
        await db.SaveChangesAsync(ct);
        return destination;
    }

    /// <summary>
    /// Removes the destination and drops it from every key's default destinations. Deliveries already queued to it stay:
    /// the worker fails them as "destination deleted", so the delivery log keeps their history.
    /// </summary>
    public async Task DeleteAsync(Guid projectId, Guid destinationId, CancellationToken ct)
    {
        var destination = await FindAsync(projectId, destinationId, ct);
        var keys = await db.ApiKeys.Where(k => k.ProjectId == projectId).ToListAsync(ct);
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
        LogDeleted(logger, destination.Id, projectId);
    }

    /// <summary>The adapter's own connection test, with the project's signing secrets and the decrypted config; never throws for the target's faults.</summary>
    public async Task<TestView> TestAsync(Guid projectId, Guid destinationId, CancellationToken ct)
    {
        var destination = await FindAsync(projectId, destinationId, ct);
        var adapter = registry.Find(destination.Type);
        if (adapter is null)
        {
            return TestView.Failed($"No adapter for {destination.Type} is installed in this version");
        }
        if (adapter is not IConnectionTestable testable)
        {
            return TestView.Failed($"The {destination.Type} adapter has no connection test in this version");
        }
        JsonElement config;
        try
        {
            config = configs.Reveal(destination.Config);
        }
        catch (CryptographicException)
        {
            return TestView.Failed("The stored credentials cannot be decrypted (was the master key changed?). Enter them again with PATCH.");
        }
        var signing = await signingProvider.GetAsync(db, projectId, time.GetUtcNow(), ct);
        var target = new DestinationTarget(destination.Id, destination.Type, destination.Name, config);
        ConnectionTestResult result;
        try
        {
            result = await testable.TestAsync(target, signing, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogTestCrashed(logger, e, destination.Id, destination.Type);
            return TestView.Failed($"The {destination.Type} adapter failed unexpectedly: {e.Message}");
        }
        if (!result.Success)
        {
            // An expected answer (the target refused, is down, answered 500): one line, no stack trace.
            LogTestFailed(logger, destination.Id, destination.Type, result.Message);
            return new TestView(false, result.StatusCode, result.Message, result.Message);
        }
        return new TestView(true, result.StatusCode, result.Message, null);
    }

    public async Task<Destination> FindAsync(Guid projectId, Guid destinationId, CancellationToken ct) =>
        await db.Destinations.FirstOrDefaultAsync(d => d.Id == destinationId && d.ProjectId == projectId, ct)
        ?? throw ApiException.NotFound("Destination not found.", "DESTINATION_NOT_FOUND");

    private void LogWarnings(Destination destination, JsonElement config)
    {
        foreach (var warning in Warnings(destination.Type, config))
        {
            LogUnsafeConfig(logger, destination.Id, destination.Type, warning);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Destination {DestinationId} ({Kind}) is configured unsafely: {Warning}")]
    private static partial void LogUnsafeConfig(ILogger logger, Guid destinationId, string kind, string warning);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {DestinationId} ({Kind}) created in project {ProjectId}")]
    private static partial void LogCreated(ILogger logger, Guid destinationId, string kind, Guid projectId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {DestinationId} deleted from project {ProjectId}")]
    private static partial void LogDeleted(ILogger logger, Guid destinationId, Guid projectId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Connection test of destination {DestinationId} ({Kind}) failed: {Message}")]
    private static partial void LogTestFailed(ILogger logger, Guid destinationId, string kind, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Connection test of destination {DestinationId} ({Kind}) threw")]
    private static partial void LogTestCrashed(ILogger logger, Exception exception, Guid destinationId, string kind);
}
