using Apertur.Server.Dashboard.Accounts;
using Apertur.Server.Dashboard.Sessions;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Apertur.Server.Dashboard;

/// <summary>
/// The operators' dashboard: Razor Pages under <c>/dashboard</c> (files in this folder), its own cookie sign-in,
/// anti-forgery on every form (Razor Pages' default for POST), its assets, image thumbnails. The live session page listens to the public SSE stream of the session (Events/).
/// </summary>
public static class DashboardServices
{
    public static IServiceCollection AddDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSettings<DashboardOptions>(DashboardOptions.Section);
        var settings = configuration.GetSection(DashboardOptions.Section).Get<DashboardOptions>() ?? new DashboardOptions();
        services.AddAuthentication()
            .AddCookie(DashboardAuth.Scheme, o => DashboardAuth.Configure(o, settings));
        services.AddAuthorizationBuilder().AddPolicy(DashboardAuth.Policy, p => p
            .AddAuthenticationSchemes(DashboardAuth.Scheme)
            .RequireAuthenticatedUser());
        // The add/edit form of every registered destination kind, from its descriptor.
        services.AddSingleton<Destinations.DestinationForms>();
        // Pages live in their feature folders (UploadPage/, Dashboard/), each with an absolute @page route.
        services.AddRazorPages(o =>
        {
            o.RootDirectory = "/";
            o.Conventions.AuthorizeFolder("/Dashboard", DashboardAuth.Policy);
            o.Conventions.AllowAnonymousToPage("/Dashboard/Accounts/Login");
        }).AddCookieTempDataProvider(o =>
        {
            // The notices after a change: Secure over https and same-site only, like the sign-in cookie.
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.Cookie.SameSite = SameSiteMode.Strict;
        });
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "aptr_dashboard_af";
            o.Cookie.Path = DashboardRoutes.Root;
            o.Cookie.SameSite = SameSiteMode.Strict;
            // Secure over https, as the sign-in cookie (the default would never mark it Secure).
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.HeaderName = "RequestVerificationToken";
        });
        services.AddSingleton<DashboardAssets>();
        services.AddScoped<AccountService>();
        return services;
    }

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapEmbeddedAssets<DashboardAssets>();
        app.MapGet(DashboardRoutes.Root + "/projects/{projectId:guid}/images/{imageId:guid}", SessionImages.ImageAsync)
            .RequireAuthorization(DashboardAuth.Policy);
        app.MapGet(DashboardRoutes.Root + "/projects/{projectId:guid}/images/{imageId:guid}/thumbnail", SessionImages.ThumbnailAsync)
            .RequireAuthorization(DashboardAuth.Policy);
        // The pages themselves are mapped with every Razor Page in Program.cs (app.MapRazorPages, once for the whole host).
        return app;
    }
}
