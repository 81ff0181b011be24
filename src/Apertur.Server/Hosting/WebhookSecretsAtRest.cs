using Apertur.Server.Data;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Projects;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Hosting;

/// <summary>
/// Webhook signing secrets at rest: the project's webhook secret (current and previous) and each event webhook's secret are
/// stored as Data Protection ciphertext (purpose <see cref="Purpose"/>, key ring encrypted under the master key), like
/// destination credentials. Whoever needs the secret itself (the signers, the API answers, the dashboard) calls
/// <see cref="Reveal"/>; nothing else ever sees it.
/// <para>
/// Rows written before this encryption are marked <c>plaintext:</c>… by the SQL migration <c>0006_webhook_secrets</c> and
/// encrypted once at start-up by <see cref="ProtectPlaintextAsync"/> (SQL cannot: the master key is not in the database).
/// Ciphertext is base64url and never contains <c>:</c>, so a marked value cannot be mistaken for one, whatever the secret.
/// </para>
/// </summary>
public sealed partial class WebhookSecretsAtRest(IDataProtectionProvider provider, ILogger<WebhookSecretsAtRest> logger)
{
    public const string Purpose = "Apertur.WebhookSecrets.v1";

    /// <summary>The prefix the migration put before each secret stored in clear by an earlier version.</summary>
    public const string PlaintextMarker = "plaintext:";

    private readonly IDataProtector _protector = provider.CreateProtector(Purpose);

    /// <summary>The stored form of a secret.</summary>
    public string Protect(string secret) => _protector.Protect(secret);

    /// <summary>The secret of a stored value.</summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The key ring cannot open it (master key changed or lost).</exception>
    public string Reveal(string stored) => _protector.Unprotect(stored);

    /// <summary>
    /// Encrypts the secrets the migration marked as stored in clear. Idempotent, and safe beside another replica doing the
    /// same or already serving: each row is written only while it still holds the marked value that was read.
    /// </summary>
    public async Task ProtectPlaintextAsync(AperturDb db, CancellationToken ct)
    {
        var count = await ProtectPlaintextAsync(db.Projects, nameof(Project.ProtectedWebhookSecret), ct)
            + await ProtectPlaintextAsync(db.Projects, nameof(Project.ProtectedPreviousWebhookSecret), ct)
            + await ProtectPlaintextAsync(db.EventWebhooks, nameof(EventWebhook.ProtectedSecret), ct);
        if (count > 0)
        {
            LogProtected(logger, count);
        }
    }

    private async Task<int> ProtectPlaintextAsync<T>(DbSet<T> rows, string property, CancellationToken ct) where T : class
    {
        var marked = await rows.Where(r => EF.Property<string?>(r, property)!.StartsWith(PlaintextMarker))
            .Select(r => new { Id = EF.Property<Guid>(r, "Id"), Stored = EF.Property<string>(r, property) })
            .ToListAsync(ct);
        var written = 0;
        foreach (var row in marked)
        {
            var protectedValue = Protect(row.Stored[PlaintextMarker.Length..]);
            written += await rows.Where(r => EF.Property<Guid>(r, "Id") == row.Id && EF.Property<string?>(r, property) == row.Stored)
                .ExecuteUpdateAsync(s => s.SetProperty(r => EF.Property<string?>(r, property), protectedValue), ct);
        }
        return written;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Encrypted {Count} webhook secret(s) stored in clear by an earlier version")]
    private static partial void LogProtected(ILogger logger, int count);
}
