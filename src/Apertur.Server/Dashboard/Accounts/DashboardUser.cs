namespace Apertur.Server.Dashboard.Accounts;

/// <summary>A person who signs in to the dashboard. The password is stored as an ASP.NET Core Identity PBKDF2 hash.</summary>
public sealed class DashboardUser
{
    public Guid Id { get; set; }
    /// <summary>The sign-in name, stored lower-case (an e-mail address or a plain name).</summary>
    public required string Username { get; set; }
    public required string PasswordHash { get; set; }
    /// <summary>Admins see and own every project, create projects and manage accounts.</summary>
    public bool IsAdmin { get; set; }
    /// <summary>Set when someone else chose the password: the first sign-in asks for a new one.</summary>
    public bool MustChangePassword { get; set; }
    public int FailedLogins { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }
    /// <summary>Changes with the password: sign-in cookies issued before no longer validate.</summary>
    public required string SecurityStamp { get; set; }
    public DateTimeOffset? LastLoginAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A user's role in one project.</summary>
public sealed class ProjectMember
{
    public Guid ProjectId { get; set; }
    public Guid UserId { get; set; }
    public required string Role { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// Owners change the project (settings, members, keys, destinations, event webhooks); members see everything but secrets,
/// and run it day to day (create sessions, test destinations, retry deliveries).
/// </summary>
public static class ProjectRoles
{
    public const string Owner = "owner";
    public const string Member = "member";

    public static bool IsValid(string? role) => role is Owner or Member;
}
