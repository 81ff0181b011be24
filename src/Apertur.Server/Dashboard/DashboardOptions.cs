using Apertur.Server.Hosting;

namespace Apertur.Server.Dashboard;

/// <summary>Settings section <c>Apertur:Dashboard</c>: sign-in and lock-out.</summary>
public sealed class DashboardOptions : ISettings
{
    public const string Section = "Apertur:Dashboard";

    /// <summary>Failed sign-ins in a row that lock an account (default 5).</summary>
    public int LockoutThreshold { get; set; } = 5;

    /// <summary>How long a locked account refuses every sign-in, even with the right password (default 15 min).</summary>
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a sign-in lasts without activity (default 12 h; each visit renews it).</summary>
    public TimeSpan SignInLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>Sign-in attempts per minute from one client address, whatever the account (default 20).</summary>
    public int SignInsPerMinute { get; set; } = 20;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (LockoutThreshold < 1)
        {
            problems.Add($"{Section}:{nameof(LockoutThreshold)} must be 1 or more (got {LockoutThreshold}).");
        }
        if (LockoutDuration <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(LockoutDuration)} must be positive (got {LockoutDuration}).");
        }
        if (SignInLifetime <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(SignInLifetime)} must be positive (got {SignInLifetime}).");
        }
        if (SignInsPerMinute < 0)
        {
            problems.Add($"{Section}:{nameof(SignInsPerMinute)} must not be negative (got {SignInsPerMinute}).");
        }
        return problems;
    }
}
