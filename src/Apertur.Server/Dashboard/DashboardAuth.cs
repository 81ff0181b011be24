using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Apertur.Server.Dashboard.Accounts;
using Apertur.Server.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Dashboard;

/// <summary>
/// The dashboard's sign-in: a cookie scheme of its own (the API keeps its bearer keys and never reads this cookie),
/// HttpOnly, SameSite=Strict, limited to <c>/dashboard</c>. Each request re-reads the account, so a password change or a
/// deleted account ends every other sign-in at once.
/// </summary>
public static class DashboardAuth
{
    public const string Scheme = "Apertur.Dashboard";
    public const string Policy = "Dashboard";
    public const string CookieName = "aptr_dashboard";
    private const string StampClaim = "aptr:stamp";

    public static ClaimsPrincipal Principal(DashboardUser user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()),
            new Claim(ClaimTypes.Name, user.Username),
            new Claim(StampClaim, user.SecurityStamp),
        ], Scheme);
        return new ClaimsPrincipal(identity);
    }

    public static void Configure(CookieAuthenticationOptions o, DashboardOptions settings)
    {
        o.Cookie.Name = CookieName;
        o.Cookie.Path = DashboardRoutes.Root;
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Strict;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.ExpireTimeSpan = settings.SignInLifetime;
        o.SlidingExpiration = true;
        o.LoginPath = DashboardRoutes.Login;
        o.LogoutPath = DashboardRoutes.Logout;
        o.AccessDeniedPath = DashboardRoutes.Login;
        o.ReturnUrlParameter = "returnUrl";
        o.Events.OnValidatePrincipal = ValidateAsync;
    }

    /// <summary>The signed-in account of this request (null on anonymous pages).</summary>
    public static DashboardUser? SignedInUser(this HttpContext http) => http.Features.Get<DashboardUser>();

    private static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var principal = context.Principal;
        var id = principal?.FindFirstValue(ClaimTypes.NameIdentifier);
        var stamp = principal?.FindFirstValue(StampClaim) ?? "";
        var db = context.HttpContext.RequestServices.GetRequiredService<AperturDb>();
        var user = Guid.TryParse(id, out var userId)
            ? await db.DashboardUsers.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, context.HttpContext.RequestAborted)
            : null;
        if (user is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(stamp), Encoding.UTF8.GetBytes(user.SecurityStamp)))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme);
            return;
        }
        context.HttpContext.Features.Set(user);
    }
}
