using Apertur.Server.Data;
using Apertur.Server.Destinations;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Keys;

/// <summary>
/// What the keys API and the dashboard's keys page both do to a project's API keys (docs/api.md "API keys"): list, create
/// (the plain key is returned once), change, delete, and a key's default destinations. Failures are
/// <see cref="ApiException"/>s with a reason.
/// </summary>
public sealed partial class KeyService(AperturDb db, KeyIssuer issuer, ILogger<ApiKey> logger)
{
    public const int MaxLabelLength = 100;

    public static string ValidLabel(string? label) =>
        TextFields.Required(label, MaxLabelLength, $"'label' is required: 1 to {MaxLabelLength} characters.");

    public Task<List<ApiKey>> ListAsync(Guid projectId, CancellationToken ct) =>
        db.ApiKeys.AsNoTracking().Where(k => k.ProjectId == projectId).OrderBy(k => k.CreatedAt).ThenBy(k => k.Id).ToListAsync(ct);

    /// <summary>
    /// A new key of the caller's project; <paramref name="env"/> null means the caller's own. Every field is read (and
    /// checked) before anything is stored.
    /// </summary>
    public async Task<(ApiKey Key, string PlainKey)> CreateAsync(Caller caller, string? label, string? env, JsonBody limits, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var validLabel = ValidLabel(label);
        var validEnv = env?.Trim().ToLowerInvariant() ?? caller.Env;
        if (validEnv is not (ApiKeyTokens.Live or ApiKeyTokens.Test))
        {
            throw ApiException.BadRequest("'env' must be \"live\" or \"test\".");
        }
        var changes = KeyChanges.Read(limits);
        var (key, plain) = await issuer.CreateConfiguredKeyAsync(caller.ProjectId, validEnv, validLabel, changes.ApplyTo, ct);
        LogCreated(logger, key.Id, validEnv, caller.ProjectId, caller.KeyId);
        return (key, plain);
    }

    /// <summary>A new key with its limits and default destinations, stored in one transaction (the dashboard's form).</summary>
    public async Task<(ApiKey Key, string PlainKey)> CreateWithDefaultsAsync(Guid projectId, string env, string? label, JsonBody limits,
        IEnumerable<string> defaults, CancellationToken ct)
    {
        var validLabel = ValidLabel(label);
        var changes = KeyChanges.Read(limits);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var (key, plain) = await issuer.CreateConfiguredKeyAsync(projectId, env, validLabel, changes.ApplyTo, ct);
        await SetDefaultDestinationsAsync(projectId, key, defaults, ct);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return (key, plain);
    }

    /// <summary>Applies the parts of <paramref name="body"/> given: label, active flag, limits; saved.</summary>
    public async Task<ApiKey> PatchAsync(Caller caller, string keyId, JsonBody body, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(body);
        var key = await FindAsync(caller, keyId, ct);
        var changes = KeyChanges.Read(body);
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
        return key;
    }

    /// <summary>A key may delete any key of its project, itself included; the <c>keys create</c> command is the way back in.</summary>
    public async Task DeleteAsync(Caller caller, string keyId, CancellationToken ct)
    {
        var key = await FindAsync(caller, keyId, ct);
        db.ApiKeys.Remove(key);
        await db.SaveChangesAsync(ct);
        LogDeleted(logger, key.Id, caller.ProjectId, caller.KeyId);
    }

    /// <summary>
    /// <paramref name="requested"/> (when given) replaces the key's defaults; the long-polling flag changes only when given,
    /// because SDKs differ on whether they send it at all. Answers the key and its default destinations that still exist, in order.
    /// </summary>
    public async Task<(ApiKey Key, IReadOnlyList<Destination> Defaults)> SetDestinationsAsync(Caller caller, string keyId,
        IEnumerable<string>? requested, bool? longPolling, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var key = await FindAsync(caller, keyId, ct);
        if (requested is not null)
        {
            await SetDefaultDestinationsAsync(caller.ProjectId, key, requested, ct);
        }
        if (longPolling is { } enabled)
        {
            key.LongPollingEnabled = enabled;
        }
        await db.SaveChangesAsync(ct);

        var defaults = key.DefaultDestinations.Select(s => Guid.TryParse(s, out var g) ? g : Guid.Empty).ToList();
        var rows = await db.Destinations.AsNoTracking().Where(d => d.ProjectId == caller.ProjectId && defaults.Contains(d.Id)).ToListAsync(ct);
        return (key, defaults.Select(id => rows.FirstOrDefault(d => d.Id == id)).OfType<Destination>().ToList());
    }

    /// <summary>Replaces the key's default destinations (tracked, not saved); each id must be a destination of the project (400 otherwise).</summary>
    public async Task SetDefaultDestinationsAsync(Guid projectId, ApiKey key, IEnumerable<string> requested, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(requested);
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

    private async Task<ApiKey> FindAsync(Caller caller, string keyId, CancellationToken ct)
    {
        var id = Ids.ParseOrNotFound(keyId, "Key");
        return await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id && k.ProjectId == caller.ProjectId, ct)
            ?? throw ApiException.NotFound("Key not found.", "KEY_NOT_FOUND");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} ({Env}) created in project {ProjectId} by key {CallerKeyId}")]
    private static partial void LogCreated(ILogger logger, Guid keyId, string env, Guid projectId, Guid callerKeyId);

    [LoggerMessage(Level = LogLevel.Information, Message = "API key {KeyId} deleted from project {ProjectId} by key {CallerKeyId}")]
    private static partial void LogDeleted(ILogger logger, Guid keyId, Guid projectId, Guid callerKeyId);
}
