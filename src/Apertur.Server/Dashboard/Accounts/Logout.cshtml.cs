using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;

namespace Apertur.Server.Dashboard.Accounts;

public sealed class LogoutModel : DashboardPageModel
{
    protected override bool AllowedWithPasswordToChange => true;

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await HttpContext.SignOutAsync(DashboardAuth.Scheme);
        return Redirect(DashboardRoutes.Login);
    }
}
