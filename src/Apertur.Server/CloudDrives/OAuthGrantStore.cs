using System.Security.Cryptography;
using Apertur.Destinations.OAuth;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.CloudDrives;

/// <summary>
/// The database side of <see cref="IOAuthGrantStore"/>: grants in <c>oauth_connections</c>, every token protected with Data
/// Protection (purpose <see cref="Purpose"/>, key ring encrypted under the master key). Every write is guarded by the
/// grant's generation. Marking "needs reconnect" wakes the notifier, which emails the project once.
/// </summary>
public sealed partial class OAuthGrantStore(IServiceScopeFactory scopes, IDataProtectionProvider protection, FailureNudge notices,
    DeliveryNudge deliveries, TimeProvider time, ILogger<OAuthGrantStore> logger) : IOAuthGrantStore
{
    public const string Purpose = "Apertur.OAuthTokens.v1";

    private readonly IDataProtector _protector = protection.CreateProtector(Purpose);

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string ciphertext) => _protector.Unprotect(ciphertext);

    public async Task<OAuthGrant?> FindAsync(Guid destinationId, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var row = await db.OAuthConnections.AsNoTracking().FirstOrDefaultAsync(c => c.DestinationId == destinationId, ct);
        if (row is null)
        {
            return null;
        }
        if (row.Status == OAuthConnectionStatus.NeedsReconnect)
        {
            return new OAuthGrant(row.Generation, "", null, null, NeedsReconnect: true, row.LastError, row.AccountName);
        }
        try
        {
            return new OAuthGrant(row.Generation, Unprotect(row.RefreshToken), row.AccessToken is null ? null : Unprotect(row.AccessToken),
                row.AccessExpiresAt, NeedsReconnect: false, null, row.AccountName);
        }
        catch (CryptographicException)
        {
            throw new OAuthGrantException(OAuthGrantProblem.NeedsReconnect,
                "Needs reconnect: the stored tokens cannot be decrypted (was the master key changed?); connect the account again");
        }
    }

    public async Task SaveRefreshedAsync(Guid destinationId, long generation, string accessToken, DateTimeOffset expiresAt, string? refreshToken,
        CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var access = Protect(accessToken);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var rows = db.OAuthConnections.Where(c => c.DestinationId == destinationId && c.Generation == generation && c.Status == OAuthConnectionStatus.Connected);
        if (refreshToken is null)
        {
            await rows.ExecuteUpdateAsync(s => s.SetProperty(c => c.AccessToken, access).SetProperty(c => c.AccessExpiresAt, expiresAt)
                .SetProperty(c => c.RefreshedAt, now).SetProperty(c => c.UpdatedAt, now), ct);
        }
        else
        {
            // Microsoft rotates refresh tokens: the new one replaces the old.
            var refresh = Protect(refreshToken);
            await rows.ExecuteUpdateAsync(s => s.SetProperty(c => c.AccessToken, access).SetProperty(c => c.AccessExpiresAt, expiresAt)
                .SetProperty(c => c.RefreshToken, refresh).SetProperty(c => c.RefreshedAt, now).SetProperty(c => c.UpdatedAt, now), ct);
        }
        LogRefreshed(logger, destinationId, expiresAt);
    }

    public async Task MarkNeedsReconnectAsync(Guid destinationId, long generation, string reason, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        int marked;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
            marked = await db.OAuthConnections
                .Where(c => c.DestinationId == destinationId && c.Generation == generation && c.Status == OAuthConnectionStatus.Connected)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, OAuthConnectionStatus.NeedsReconnect).SetProperty(c => c.LastError, reason)
                    .SetProperty(c => c.NeedsReconnectAt, now).SetProperty(c => c.ReconnectNotifiedAt, (DateTimeOffset?)null)
                    .SetProperty(c => c.AccessToken, (string?)null).SetProperty(c => c.AccessExpiresAt, (DateTimeOffset?)null)
                    .SetProperty(c => c.UpdatedAt, now), ct);
        }
        if (marked == 1)
        {
            LogNeedsReconnect(logger, destinationId, reason);
            notices.Poke();
        }
    }

    /// <summary>
    /// Stores a fresh grant for the destination (a first connect or a reconnect: a new generation, status connected), and
    /// makes its waiting deliveries due now, so what piled up while it was disconnected goes out at once.
    /// </summary>
    public async Task ConnectAsync(AperturDb db, Guid destinationId, Guid projectId, string provider, TokenAnswer.Granted tokens, string? account,
        CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var generation = BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)) & long.MaxValue;
        var refresh = Protect(tokens.RefreshToken ?? throw new ArgumentException("A grant needs a refresh token.", nameof(tokens)));
        var access = Protect(tokens.AccessToken);
        var rescheduled = 0;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var row = await db.OAuthConnections.FirstOrDefaultAsync(c => c.DestinationId == destinationId, ct);
            if (row is null)
            {
                row = new OAuthConnection { DestinationId = destinationId, ProjectId = projectId, Provider = provider, RefreshToken = refresh };
                db.OAuthConnections.Add(row);
            }
            row.Provider = provider;
            row.Status = OAuthConnectionStatus.Connected;
            row.Generation = generation;
            row.RefreshToken = refresh;
            row.AccessToken = access;
            row.AccessExpiresAt = now + tokens.ExpiresIn;
            row.Scope = tokens.Scope;
            row.AccountName = account;
            row.LastError = null;
            row.ConnectedAt = now;
            row.RefreshedAt = null;
            row.NeedsReconnectAt = null;
            row.ReconnectNotifiedAt = null;
            row.UpdatedAt = now;
            await db.SaveChangesAsync(ct);
            rescheduled = await db.Deliveries
                .Where(d => d.DestinationId == destinationId && (d.Status == DeliveryStatus.Retrying || d.Status == DeliveryStatus.Pending) && d.NextAttemptAt > now)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, now), ct);
            await tx.CommitAsync(ct);
        }
        LogConnected(logger, destinationId, provider, account ?? "(unknown account)", rescheduled);
        deliveries.Poke();
    }

    /// <summary>Forgets the destination's grant (its deliveries then wait for a new connect).</summary>
    public async Task<bool> DisconnectAsync(AperturDb db, Guid destinationId, CancellationToken ct)
    {
        return await db.OAuthConnections.Where(c => c.DestinationId == destinationId).ExecuteDeleteAsync(ct) > 0;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refreshed the access token of destination {DestinationId}; valid until {ExpiresAt}")]
    private static partial void LogRefreshed(ILogger logger, Guid destinationId, DateTimeOffset expiresAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Destination {DestinationId} needs reconnecting: {Reason}")]
    private static partial void LogNeedsReconnect(ILogger logger, Guid destinationId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Destination {DestinationId} connected to {Provider} as {Account}; {Rescheduled} waiting deliveries made due")]
    private static partial void LogConnected(ILogger logger, Guid destinationId, string provider, string account, int rescheduled);
}
