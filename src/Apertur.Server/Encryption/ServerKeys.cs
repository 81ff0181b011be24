using System.Security.Cryptography;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Encryption;

/// <summary>
/// The server's RSA-3072 key for client-side encrypted uploads (docs/api.md "Encrypted uploads"). Created once on first use, kept in
/// the database with the private key protected by Data Protection, and cached for the life of the process.
/// </summary>
public sealed class ServerKeys(IServiceScopeFactory scopes, IDataProtectionProvider protection, TimeProvider time) : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Loaded? _loaded;

    private sealed record Loaded(string PublicKeyPem, RSA PrivateKey);

    /// <summary>The public key as SubjectPublicKeyInfo PEM (<c>-----BEGIN PUBLIC KEY-----</c>) with LF line breaks.</summary>
    public async Task<string> GetPublicKeyPemAsync(CancellationToken ct) => (await LoadAsync(ct)).PublicKeyPem;

    /// <summary>The private key, for decrypting the wrapped AES key. Shared: do not dispose.</summary>
    public async Task<RSA> GetPrivateKeyAsync(CancellationToken ct) => (await LoadAsync(ct)).PrivateKey;

    private async Task<Loaded> LoadAsync(CancellationToken ct)
    {
        if (_loaded is { } loaded)
        {
            return loaded;
        }
        await _gate.WaitAsync(ct);
        try
        {
            if (_loaded is not null)
            {
                return _loaded;
            }
            var protector = protection.CreateProtector("Apertur.ServerKeys.v1");
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
            var row = await db.ServerKeys.AsNoTracking().OrderBy(k => k.CreatedAt).ThenBy(k => k.Id).FirstOrDefaultAsync(ct);
            if (row is null)
            {
                using var fresh = RSA.Create(3072);
                row = new ServerKey
                {
                    Id = Ids.New(time),
                    PublicKeyPem = fresh.ExportSubjectPublicKeyInfoPem().ReplaceLineEndings("\n"),
                    ProtectedPrivateKey = protector.Protect(fresh.ExportPkcs8PrivateKeyPem()),
                    CreatedAt = time.GetUtcNow(),
                };
                db.ServerKeys.Add(row);
                await db.SaveChangesAsync(ct);
                // If another replica raced us, everyone settles on the oldest key.
                row = await db.ServerKeys.AsNoTracking().OrderBy(k => k.CreatedAt).ThenBy(k => k.Id).FirstAsync(ct);
            }
            var rsa = RSA.Create();
            rsa.ImportFromPem(protector.Unprotect(row.ProtectedPrivateKey));
            _loaded = new Loaded(row.PublicKeyPem, rsa);
            return _loaded;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _loaded?.PrivateKey.Dispose();
        _gate.Dispose();
    }
}
