using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace Apertur.Server.Dashboard.Accounts;

/// <summary>Password change; the new security stamp ends every other sign-in, and this one is renewed with it.</summary>
public sealed class AccountModel(AccountService accounts) : DashboardPageModel
{
    protected override bool AllowedWithPasswordToChange => true;

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(string? current, string? replacement, string? confirm, CancellationToken ct)
    {
        if (replacement != confirm)
        {
            Error = "The two new passwords are not the same.";
            return Page();
        }
        DashboardUser? changed = null;
        if (!await TryAsync(async () => changed = await accounts.ChangePasswordAsync(CurrentUser!.Id, current, replacement, ct)))
        {
            return Page();
        }
        await HttpContext.SignInAsync(DashboardAuth.Scheme, DashboardAuth.Principal(changed!));
        Notice = "Password changed. Other sign-ins of your account have ended.";
        return Redirect(DashboardRoutes.Root);
    }
}
