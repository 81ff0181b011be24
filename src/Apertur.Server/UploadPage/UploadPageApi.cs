using System.Text.Encodings.Web;
using System.Text.Unicode;
using Microsoft.Extensions.WebEncoders;
using Apertur.Server.Hosting;

namespace Apertur.Server.UploadPage;

/// <summary>
/// The hosted upload page (README, "The upload page"): <c>/u/{uuid}</c> is a Razor Page (<c>Upload.cshtml</c>) rendered with the
/// session's state; its few assets are served from the assembly under <c>/u/assets/</c>.
/// </summary>
public static class UploadPageApi
{
    public static IServiceCollection AddUploadPage(this IServiceCollection services)
    {
        services.AddSingleton<UploadPageAssets>();
        services.AddSingleton<UploadPageThumbnails>();
        // Pages live in their feature folders (UploadPage/, Dashboard/), each with an absolute @page route.
        services.AddRazorPages(o => o.RootDirectory = "/");
        // French and Spanish text stays readable in the HTML instead of becoming numeric character references.
        services.Configure<WebEncoderOptions>(o => o.TextEncoderSettings = new TextEncoderSettings(UnicodeRanges.All));
        return services;
    }

    public static IEndpointRouteBuilder MapUploadPage(this IEndpointRouteBuilder app)
    {
        // The page itself is mapped with every Razor Page in Program.cs (app.MapRazorPages, once for the whole host).
        app.MapEmbeddedAssets<UploadPageAssets>();
        // The server's thumbnail of an image the page just uploaded (HEIC, which the browser cannot draw), by a signed link.
        UploadPageThumbnails.MapUploadPageThumbnails(app);
        // Browsers ask for /favicon.ico on their own: the same icon the pages declare, rather than a 404.
        var assets = app.ServiceProvider.GetRequiredService<UploadPageAssets>();
        app.MapMethods("/favicon.ico", [HttpMethods.Get, HttpMethods.Head], (HttpContext http) => assets.Serve("icon.svg", null, http));
        return app;
    }
}
