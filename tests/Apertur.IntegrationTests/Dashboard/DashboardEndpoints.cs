using Apertur.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.RazorPages.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Apertur.IntegrationTests.Dashboard;

/// <summary>
/// Every dashboard URL as the server compiled it (Razor Pages with their handlers, and plain endpoints), so a page or form
/// added later is in the access tests without anyone remembering to list it.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>A request the dashboard answers: method, route template, and the page handler name (null for the default one).</summary>
    public sealed record Route(string Method, string Template, string? Handler)
    {
        public string Url(IReadOnlyDictionary<string, Guid> ids)
        {
            var path = "/" + System.Text.RegularExpressions.Regex.Replace(Template, @"\{(?<name>\w+)(:[^}]*)?\}",
                m => ids.TryGetValue(m.Groups["name"].Value, out var id) ? id.ToString() : Guid.CreateVersion7().ToString());
            return Handler is null ? path : $"{path}?handler={Handler}";
        }

        public override string ToString() => $"{Method} /{Template}{(Handler is null ? "" : "?handler=" + Handler)}";
    }

    public static async Task<IReadOnlyList<Route>> AllAsync(TestApp app)
    {
        var routes = new List<Route>();
        var loader = app.Services.GetRequiredService<PageLoader>();
        foreach (var endpoint in app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var template = endpoint.RoutePattern.RawText?.TrimStart('/') ?? "";
            if (!template.StartsWith("dashboard", StringComparison.Ordinal))
            {
                continue;
            }
            if (endpoint.Metadata.GetMetadata<PageActionDescriptor>() is { } page)
            {
                var compiled = await loader.LoadAsync(page, endpoint.Metadata);
                routes.AddRange(compiled.HandlerMethods.Select(h => new Route(h.HttpMethod.ToUpperInvariant(), template, h.Name)));
            }
            else
            {
                var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET", "POST"];
                routes.AddRange(methods.Where(m => m != "HEAD").Select(m => new Route(m, template, null)));
            }
        }
        return routes.Distinct().ToList();
    }
}
