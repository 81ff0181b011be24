using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Dashboard.Accounts;

/// <summary>Sign-in: one message for every failure (unknown name, wrong password, locked account), so none tells that a name exists.</summary>
public sealed class LoginModel(AccountService accounts, IRateCounter limiter, IOptions<DashboardOptions> options) : DashboardPageModel
{
    public string? Username { get; private set; }

    public string? ReturnUrl { get; private set; }

    public IActionResult OnGet(string? returnUrl)
    {
        ReturnUrl = returnUrl;
        return CurrentUser is not null || HttpContext.User.Identity?.IsAuthenticated == true ? Redirect(SafeReturn(returnUrl)) : Page();
    }

    public async Task<IActionResult> OnPostAsync(string? username, string? password, string? returnUrl, CancellationToken ct)
    {
        Username = username;
        ReturnUrl = returnUrl;
        var perMinute = options.Value.SignInsPerMinute;
        if (perMinute > 0)
        {
            var ip = HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown";
            var decision = await limiter.AcquireAsync("dashboard-sign-in:" + ip, perMinute, ct);
            if (!decision.Allowed)
            {
                Response.StatusCode = StatusCodes.Status429TooManyRequests;
                Error = "Too many sign-in attempts from this address. Wait a minute and try again.";
                return Page();
            }
        }
        if (await accounts.SignInAsync(username, password, ct) is not { } user)
        {
            // One answer for an unknown name, a wrong password and a locked account: a "locked" answer would tell that the name exists.
            Error = FailedMessage(options.Value);
            return Page();
        }
        await HttpContext.SignInAsync(DashboardAuth.Scheme, DashboardAuth.Principal(user));
        return Redirect(user.MustChangePassword ? DashboardRoutes.Account : SafeReturn(returnUrl));
    }

    internal static string FailedMessage(DashboardOptions o)
    {
        var minutes = Math.Max(1, (int)Math.Ceiling(o.LockoutDuration.TotalMinutes));
        return $"The user name or the password is not right, or the account is locked: after {o.LockoutThreshold} wrong passwords in a row "
            + $"an account refuses every sign-in for {minutes} minute{(minutes == 1 ? "" : "s")}.";
    }

    /// <summary>Only a path inside the dashboard: never another site (open redirect), the rule the connect flow uses too.</summary>
    internal static string SafeReturn(string? returnUrl) => DashboardRoutes.IsDashboardPath(returnUrl) ? returnUrl! : DashboardRoutes.Root;
}
