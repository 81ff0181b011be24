using System.Globalization;
using System.Text.RegularExpressions;

namespace Apertur.Server.Keys;

/// <summary>
/// A key's <c>allowedDomains</c>: the sites that may frame the upload page of the key's sessions and send their browser
/// requests (README, "Allowed domains"). Empty means any site. Each entry is a host name with, optionally, a scheme and a port:
/// <list type="bullet">
/// <item><c>shop.example.com</c>: that host, over https or http, on any port;</item>
/// <item><c>*.example.com</c>: any subdomain of example.com, at any depth, but not example.com itself;</item>
/// <item><c>https://shop.example.com</c>: https only; <c>http://…</c> is the same as no scheme (https is a secure upgrade of it);</item>
/// <item><c>shop.example.com:8443</c>: that port only.</item>
/// </list>
/// Host names compare without regard to case; international names are written in their ASCII (punycode) form. No paths.
/// </summary>
public static partial class DomainAllowList
{
    /// <summary>One parsed entry. <see cref="Scheme"/> null or <c>http</c> allows both schemes.</summary>
    public readonly record struct Rule(string? Scheme, string Host, bool Subdomains, int? Port);

    public static bool TryParse(string entry, out Rule rule)
    {
        rule = default;
        var text = entry.Trim();
        if (!System.Text.Ascii.IsValid(text))
        {
            return false;
        }
        var match = EntryPattern().Match(text);
        // A wildcard needs a parent of two labels at least: "*.com" would be every .com site.
        if (!match.Success || (match.Groups["wild"].Success && !match.Groups["host"].ValueSpan.Contains('.')))
        {
            return false;
        }
        int? port = null;
        if (match.Groups["port"].Success)
        {
            if (!int.TryParse(match.Groups["port"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                return false;
            }
            port = p;
        }
        var scheme = match.Groups["scheme"].Success ? match.Groups["scheme"].Value.ToLowerInvariant() : null;
        rule = new Rule(scheme, match.Groups["host"].Value.ToLowerInvariant(), match.Groups["wild"].Success, port);
        return true;
    }

    /// <summary>
    /// True when the browser origin (an <c>Origin</c> header: <c>scheme://host[:port]</c>) is one the entries allow. Entries
    /// that do not parse allow nothing; <c>Origin: null</c> (a sandboxed frame, a file) is never allowed.
    /// </summary>
    public static bool Allows(IEnumerable<string> entries, string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || uri.PathAndQuery != "/")
        {
            return false;
        }
        foreach (var entry in entries)
        {
            if (TryParse(entry, out var rule) && Matches(rule, uri))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>The CSP <c>frame-ancestors</c> sources of the entries: this server, then each entry in CSP's own syntax.</summary>
    public static string FrameAncestors(IEnumerable<string> entries)
    {
        var sources = new List<string> { "'self'" };
        foreach (var entry in entries)
        {
            if (!TryParse(entry, out var rule))
            {
                continue;
            }
            var host = (rule.Subdomains ? "*." : "") + rule.Host;
            var port = rule.Port?.ToString(CultureInfo.InvariantCulture) ?? "*";
            // An http source also allows https (CSP's secure upgrade), as Allows does.
            var source = $"{(rule.Scheme == "https" ? "https" : "http")}://{host}:{port}";
            if (rule.Scheme is null)
            {
                sources.Add($"https://{host}:{port}");
            }
            sources.Add(source);
        }
        return string.Join(' ', sources.Distinct(StringComparer.Ordinal));
    }

    private static bool Matches(Rule rule, Uri origin)
    {
        if (rule.Scheme == "https" && origin.Scheme != "https")
        {
            return false;
        }
        if (rule.Port is { } port && origin.Port != port)
        {
            return false;
        }
        var host = origin.IdnHost;
        return rule.Subdomains
            ? host.EndsWith("." + rule.Host, StringComparison.OrdinalIgnoreCase)
            : host.Equals(rule.Host, StringComparison.OrdinalIgnoreCase);
    }

    // [scheme://][*.]host[:port][/]: host is dot-separated labels of letters, digits and inner hyphens (IPv4 fits too).
    [GeneratedRegex(@"^(?:(?<scheme>https?)://)?(?<wild>\*\.)?(?<host>[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::(?<port>[0-9]{1,5}))?/?$",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EntryPattern();
}
