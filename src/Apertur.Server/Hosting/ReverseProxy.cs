using System.Net;
using Apertur.Server.Keys;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>
/// Settings section <c>Apertur:ReverseProxy</c>: which proxies in front of the server are believed when they say who the
/// client is (docs/deploy.md). Nothing is trusted by default: a client that connects directly cannot pick its address,
/// scheme or host by sending <c>X-Forwarded-*</c> headers.
/// </summary>
public sealed class ReverseProxyOptions : ISettings
{
    public const string Section = "Apertur:ReverseProxy";

    /// <summary>
    /// Addresses or networks (CIDR) of the proxies whose <c>X-Forwarded-For</c>, <c>X-Forwarded-Proto</c> and
    /// <c>X-Forwarded-Host</c> are honoured, e.g. <c>127.0.0.1</c> for nginx on the same machine, <c>10.0.0.0/8</c>.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    public IReadOnlyList<string> Problems() => TrustedProxies.Where(e => !IpAllowList.TryParse(e, out _))
        .Select(e => $"{Section}:{nameof(TrustedProxies)}: '{e}' is not an IP address or a network (CIDR, e.g. 10.0.0.0/8); host names are not accepted.")
        .ToList();
}

/// <summary>
/// Forwarded headers from trusted proxies only. Behind them, the client's address (rate limits, a key's <c>allowedIps</c>,
/// the sign-in limit), the scheme (generated links, the dashboard cookie's Secure flag) and the host are the client's, not
/// the proxy's. <c>Apertur:PublicBaseUrl</c>, when set, still decides every generated link.
/// </summary>
public static class ReverseProxy
{
    public static IServiceCollection AddReverseProxy(this IServiceCollection services)
    {
        services.AddSettings<ReverseProxyOptions>(ReverseProxyOptions.Section);
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ReverseProxyOptions>>((forwarded, proxy) =>
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            // ASP.NET Core trusts loopback by default; here only what the settings name is trusted.
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var entry in proxy.Value.TrustedProxies)
            {
                if (IpAllowList.TryParse(entry, out var network))
                {
                    forwarded.KnownIPNetworks.Add(network);
                    AddMappedForm(forwarded, network);
                }
            }
            // Walk back through every trusted proxy of a chain (CDN → nginx → Apertur); stop at the first address not trusted.
            forwarded.ForwardLimit = null;
            forwarded.RequireHeaderSymmetry = false;
        });
        return services;
    }

    /// <summary>Honours forwarded headers when at least one proxy is trusted; call before anything reads the request.</summary>
    public static WebApplication UseReverseProxy(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ReverseProxyOptions>>().Value.TrustedProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }
        return app;
    }

    /// <summary>Kestrel on a dual-stack socket sees an IPv4 proxy as ::ffff:a.b.c.d: trust that form too.</summary>
    private static void AddMappedForm(ForwardedHeadersOptions forwarded, System.Net.IPNetwork network)
    {
        if (network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            forwarded.KnownIPNetworks.Add(new System.Net.IPNetwork(network.BaseAddress.MapToIPv6(), 96 + network.PrefixLength));
        }
    }
}
