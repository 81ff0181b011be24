using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Projects;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Keys;

/// <summary>Creates projects and keys: shared by the first-start bootstrap, the <c>keys create</c> command and the keys API.</summary>
public sealed class KeyIssuer(AperturDb db, WebhookSecretsAtRest secrets, TimeProvider time)
{
    public async Task<Project> GetOrCreateProjectAsync(string name, CancellationToken ct)
    {
        var project = await db.Projects.FirstOrDefaultAsync(p => p.Name == name, ct);
        return project ?? await CreateProjectAsync(name, ct);
    }

    /// <summary>A new project, whatever other projects are called (the dashboard's "new project").</summary>
    public async Task<Project> CreateProjectAsync(string name, CancellationToken ct)
    {
        // Every project signs its webhooks from the start: whsec_ + base64 of 32 random bytes, stored encrypted.
        var project = new Project
        {
            Id = Ids.New(time), Name = name, ProtectedWebhookSecret = secrets.Protect(WebhookSecrets.Generate()), CreatedAt = time.GetUtcNow(),
        };
        db.Projects.Add(project);
        await db.SaveChangesAsync(ct);
        return project;
    }

    /// <summary>Stores a key for the project. With <paramref name="plainKey"/> null a new key is generated.</summary>
    public Task<(ApiKey Key, string PlainKey)> CreateKeyAsync(Guid projectId, string env, string label, string? plainKey, CancellationToken ct) =>
        InsertKeyAsync(projectId, env, label, plainKey, configure: null, ct);

    /// <summary>Stores a new generated key; <paramref name="configure"/> sets its limits before the one insert.</summary>
    public Task<(ApiKey Key, string PlainKey)> CreateConfiguredKeyAsync(Guid projectId, string env, string label, Action<ApiKey> configure,
        CancellationToken ct) => InsertKeyAsync(projectId, env, label, plainKey: null, configure, ct);

    private async Task<(ApiKey Key, string PlainKey)> InsertKeyAsync(Guid projectId, string env, string label, string? plainKey,
        Action<ApiKey>? configure, CancellationToken ct)
    {
        plainKey ??= ApiKeyTokens.Generate(env);
        var key = new ApiKey
        {
            Id = Ids.New(time),
            ProjectId = projectId,
            Env = ApiKeyTokens.EnvOf(plainKey),
            Prefix = ApiKeyTokens.PrefixOf(plainKey),
            KeyHash = ApiKeyTokens.Hash(plainKey),
            Label = label,
            CreatedAt = time.GetUtcNow(),
        };
        configure?.Invoke(key);
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return (key, plainKey);
    }

    public Task<bool> KeyExistsAsync(string plainKey, CancellationToken ct)
    {
        var hash = ApiKeyTokens.Hash(plainKey);
        return db.ApiKeys.AnyAsync(k => k.KeyHash == hash, ct);
    }
}
