using System.Security.Cryptography;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Projects;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Dashboard.Accounts;

/// <summary>The first admin, made at first start; <see cref="GeneratedPassword"/> is set when it is to be shown once.</summary>
public sealed record AdminCreated(string Username, string? GeneratedPassword);

/// <summary>
/// Dashboard accounts: passwords as ASP.NET Core Identity PBKDF2 hashes (the hasher from the shared framework; no Identity
/// stores), lock-out after <see cref="DashboardOptions.LockoutThreshold"/> failures in a row, password changes that end
/// every other sign-in (the security stamp), project membership, and the first admin created at first start.
/// </summary>
public sealed partial class AccountService(AperturDb db, TimeProvider time, IOptions<DashboardOptions> options, StartupOutput startupOutput,
    ILogger<AccountService> logger)
{
    public const int MinPasswordLength = 10;
    public const int MaxPasswordLength = 256;
    public const int MaxUsernameLength = 100;
    public const string DefaultAdminUsername = "admin";

    private static readonly PasswordHasher<DashboardUser> Hasher = new();

    // Verified when the name is unknown, so an unknown name takes as long as a wrong password.
    private static readonly Lazy<string> DecoyHash = new(() => Hasher.HashPassword(null!, RandomNumberGenerator.GetHexString(32)));

    public static string NormaliseUsername(string? username) => (username ?? "").Trim().ToLowerInvariant();

    public static string ValidUsername(string? username)
    {
        var name = NormaliseUsername(username);
        return name.Length is 0 or > MaxUsernameLength || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            ? throw ApiException.BadRequest($"The user name must be 1 to {MaxUsernameLength} characters without spaces (an e-mail address works).")
            : name;
    }

    public static string ValidPassword(string? password) =>
        password is null || password.Length < MinPasswordLength || password.Length > MaxPasswordLength
            ? throw ApiException.BadRequest($"The password must be {MinPasswordLength} to {MaxPasswordLength} characters.")
            : password;

    /// <summary>
    /// Checks a password: the signed-in account, or null for every failure alike (unknown name, wrong password, locked). A
    /// locked account is refused without looking at the password; each failure counts, and the
    /// <see cref="DashboardOptions.LockoutThreshold"/>-th in a row locks the account for <see cref="DashboardOptions.LockoutDuration"/>.
    /// </summary>
    public async Task<DashboardUser?> SignInAsync(string? username, string? password, CancellationToken ct)
    {
        var name = NormaliseUsername(username);
        var user = name.Length == 0 ? null : await db.DashboardUsers.FirstOrDefaultAsync(u => u.Username == name, ct);
        var now = Iso.Millis(time.GetUtcNow());
        if (user is null)
        {
            Hasher.VerifyHashedPassword(null!, DecoyHash.Value, password ?? "");
            LogFailed(logger, name);
            return null;
        }
        if (user.LockedUntil > now)
        {
            // The same work as a wrong password, so the time taken does not tell a locked account apart.
            Hasher.VerifyHashedPassword(user, DecoyHash.Value, password ?? "");
            LogRefusedLocked(logger, user.Id);
            return null;
        }
        var verdict = Hasher.VerifyHashedPassword(user, user.PasswordHash, password ?? "");
        if (verdict == PasswordVerificationResult.Failed)
        {
            await CountFailureAsync(user, now, ct);
            return null;
        }
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded)
        {
            user.PasswordHash = Hasher.HashPassword(user, password!);
        }
        user.FailedLogins = 0;
        user.LockedUntil = null;
        user.LastLoginAt = now;
        await db.SaveChangesAsync(ct);
        LogSignedIn(logger, user.Id);
        return user;
    }

    private async Task CountFailureAsync(DashboardUser user, DateTimeOffset now, CancellationToken ct)
    {
        var o = options.Value;
        // Counted in the database, so parallel guesses cannot share one count.
        await db.DashboardUsers.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.FailedLogins, u => u.FailedLogins + 1), ct);
        var failures = await db.DashboardUsers.Where(u => u.Id == user.Id).Select(u => u.FailedLogins).FirstAsync(ct);
        if (failures < o.LockoutThreshold)
        {
            LogFailed(logger, user.Username);
            return;
        }
        DateTimeOffset? until = now + o.LockoutDuration;
        await db.DashboardUsers.Where(u => u.Id == user.Id).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.FailedLogins, 0)
            .SetProperty(u => u.LockedUntil, until), ct);
        LogLocked(logger, user.Id, failures, o.LockoutDuration.TotalMinutes);
    }

    /// <summary>Creates an account. 400 when the name is taken or the password too short.</summary>
    public async Task<DashboardUser> CreateUserAsync(string? username, string? password, bool isAdmin, bool mustChangePassword, CancellationToken ct)
    {
        var name = ValidUsername(username);
        var secret = ValidPassword(password);
        if (await db.DashboardUsers.AnyAsync(u => u.Username == name, ct))
        {
            throw ApiException.BadRequest($"There is already a user named '{name}'.", "USER_EXISTS");
        }
        var user = new DashboardUser
        {
            Id = Ids.New(time),
            Username = name,
            PasswordHash = "",
            IsAdmin = isAdmin,
            MustChangePassword = mustChangePassword,
            SecurityStamp = NewStamp(),
            CreatedAt = Iso.Millis(time.GetUtcNow()),
        };
        user.PasswordHash = Hasher.HashPassword(user, secret);
        db.DashboardUsers.Add(user);
        await db.SaveChangesAsync(ct);
        return user;
    }

    /// <summary>Changes a password after checking the current one; every other sign-in of the account ends (new stamp).</summary>
    public async Task<DashboardUser> ChangePasswordAsync(Guid userId, string? current, string? replacement, CancellationToken ct)
    {
        var user = await db.DashboardUsers.FirstOrDefaultAsync(u => u.Id == userId, ct)
            ?? throw ApiException.NotFound("User not found.", "USER_NOT_FOUND");
        var now = Iso.Millis(time.GetUtcNow());
        // A stolen sign-in must not become a way to guess the password without limit: wrong guesses here count too.
        if (user.LockedUntil > now)
        {
            throw ApiException.BadRequest("Too many wrong passwords: your account is locked for a while. Try again later.", "ACCOUNT_LOCKED");
        }
        if (Hasher.VerifyHashedPassword(user, user.PasswordHash, current ?? "") == PasswordVerificationResult.Failed)
        {
            await CountFailureAsync(user, now, ct);
            throw ApiException.BadRequest("The current password is not right.", "PASSWORD_INVALID");
        }
        var secret = ValidPassword(replacement);
        if (secret == current)
        {
            throw ApiException.BadRequest("Choose a new password different from the current one.");
        }
        user.PasswordHash = Hasher.HashPassword(user, secret);
        user.MustChangePassword = false;
        user.SecurityStamp = NewStamp();
        await db.SaveChangesAsync(ct);
        LogPasswordChanged(logger, user.Id);
        if (user.IsAdmin)
        {
            // The generated password no longer works: the file that held it (with JSON console logs) goes (docs/operations.md "Logs").
            startupOutput.ForgetSecrets();
        }
        return user;
    }

    /// <summary>
    /// Adds (or changes the role of) a member. A new user name creates the account with a password to change at first sign-in.
    /// The project's last owner cannot be demoted (400).
    /// </summary>
    public async Task<DashboardUser> AddMemberAsync(Guid projectId, string? username, string? role, string? initialPassword, CancellationToken ct)
    {
        if (!ProjectRoles.IsValid(role))
        {
            throw ApiException.BadRequest($"The role must be {ProjectRoles.Owner} or {ProjectRoles.Member}.");
        }
        var name = ValidUsername(username);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await LockMembershipAsync(projectId, ct);
        var user = await db.DashboardUsers.FirstOrDefaultAsync(u => u.Username == name, ct);
        if (user is null)
        {
            if (string.IsNullOrEmpty(initialPassword))
            {
                throw ApiException.BadRequest($"'{name}' has no account yet: give a first password for it (they change it at first sign-in).");
            }
            user = await CreateUserAsync(name, initialPassword, isAdmin: false, mustChangePassword: true, ct);
        }
        var member = await db.ProjectMembers.FirstOrDefaultAsync(m => m.ProjectId == projectId && m.UserId == user.Id, ct);
        if (member is null)
        {
            db.ProjectMembers.Add(new ProjectMember { ProjectId = projectId, UserId = user.Id, Role = role!, CreatedAt = Iso.Millis(time.GetUtcNow()) });
        }
        else
        {
            if (member.Role == ProjectRoles.Owner && role != ProjectRoles.Owner)
            {
                await EnsureAnotherOwnerAsync(projectId, user, ct);
            }
            member.Role = role!;
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return user;
    }

    /// <summary>Removes a member (the account stays). The last owner cannot leave a project without owners (400).</summary>
    public async Task RemoveMemberAsync(Guid projectId, Guid userId, CancellationToken ct)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await LockMembershipAsync(projectId, ct);
        var member = await db.ProjectMembers.AsNoTracking().FirstOrDefaultAsync(m => m.ProjectId == projectId && m.UserId == userId, ct);
        if (member is null)
        {
            return;
        }
        if (member.Role == ProjectRoles.Owner)
        {
            var user = await db.DashboardUsers.AsNoTracking().FirstAsync(u => u.Id == userId, ct);
            await EnsureAnotherOwnerAsync(projectId, user, ct);
        }
        await db.ProjectMembers.Where(m => m.ProjectId == projectId && m.UserId == userId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
    }

    // Membership changes of one project take turns: the transaction's first statement writes the project's row (a row lock
    // on PostgreSQL until commit; SQLite has one writer at a time anyway), so two owners removing or demoting each other at
    // once cannot each see the other stay.
    private async Task LockMembershipAsync(Guid projectId, CancellationToken ct) =>
        await db.Projects.Where(p => p.Id == projectId).ExecuteUpdateAsync(s => s.SetProperty(p => p.Name, p => p.Name), ct);

    // Owners are the members with the owner role; an admin's implicit ownership of every project does not count, so a
    // project someone owns always keeps an owner who is really there.
    private async Task EnsureAnotherOwnerAsync(Guid projectId, DashboardUser leaving, CancellationToken ct)
    {
        if (!await db.ProjectMembers.AnyAsync(m => m.ProjectId == projectId && m.Role == ProjectRoles.Owner && m.UserId != leaving.Id, ct))
        {
            throw ApiException.BadRequest($"{leaving.Username} is the last owner of this project: make someone else owner first.", "LAST_OWNER");
        }
    }

    /// <summary>
    /// The first start's admin: when no account exists, creates one named <paramref name="username"/> (default
    /// <c>admin</c>), owner of the first project, and returns it (null when accounts exist). With no
    /// <paramref name="configuredPassword"/> the password is generated, returned to be shown once, and must be changed at
    /// first sign-in (it has been on a console, so in some log); a configured password is the operator's own and stays.
    /// </summary>
    public async Task<AdminCreated?> EnsureAdminAsync(Project firstProject, string? username, string? configuredPassword, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(firstProject);
        if (await db.DashboardUsers.AnyAsync(ct))
        {
            return null;
        }
        var configured = !string.IsNullOrEmpty(configuredPassword);
        var password = configured ? configuredPassword! : GeneratePassword();
        DashboardUser admin;
        try
        {
            admin = await CreateUserAsync(string.IsNullOrWhiteSpace(username) ? DefaultAdminUsername : username, password,
                isAdmin: true, mustChangePassword: !configured, ct);
        }
        catch (ApiException e)
        {
            throw new InvalidOperationException($"Apertur:Bootstrap:AdminUsername / AdminPassword: {e.Message}", e);
        }
        db.ProjectMembers.Add(new ProjectMember { ProjectId = firstProject.Id, UserId = admin.Id, Role = ProjectRoles.Owner, CreatedAt = admin.CreatedAt });
        await db.SaveChangesAsync(ct);
        LogAdminCreated(logger, admin.Username);
        return new AdminCreated(admin.Username, configured ? null : password);
    }

    /// <summary>20 characters from an alphabet without look-alikes (about 115 bits).</summary>
    public static string GeneratePassword() => RandomNumberGenerator.GetString("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 20);

    private static string NewStamp() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard sign-in of user {UserId}")]
    private static partial void LogSignedIn(ILogger logger, Guid userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard sign-in failed for '{Username}'")]
    private static partial void LogFailed(ILogger logger, string username);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard user {UserId} locked after {Failures} failed sign-ins, for {Minutes} minutes")]
    private static partial void LogLocked(ILogger logger, Guid userId, int failures, double minutes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dashboard sign-in refused: user {UserId} is locked")]
    private static partial void LogRefusedLocked(ILogger logger, Guid userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard user {UserId} changed their password")]
    private static partial void LogPasswordChanged(ILogger logger, Guid userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Dashboard admin '{Username}' created at first start")]
    private static partial void LogAdminCreated(ILogger logger, string username);
}
