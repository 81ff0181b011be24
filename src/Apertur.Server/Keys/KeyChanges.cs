using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;

namespace Apertur.Server.Keys;

/// <summary>
/// The limit fields of a key's create or update (docs/api.md "API keys"), checked: absent fields stay as they are, null
/// clears. The API reads them from its JSON body, the dashboard from its form turned into the same body.
/// </summary>
public sealed class KeyChanges
{
    public bool SetMaxImages { get; private set; }
    public int? MaxImages { get; private set; }
    public string[]? AllowedMimeTypes { get; private set; }
    public bool SetMaxImageDimension { get; private set; }
    public int? MaxImageDimension { get; private set; }
    public string[]? AllowedIps { get; private set; }
    public string[]? AllowedDomains { get; private set; }
    public bool? LongPollingEnabled { get; private set; }

    /// <summary>Every limit field of <paramref name="body"/>, checked (400 on the first bad one).</summary>
    public static KeyChanges Read(JsonBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var changes = new KeyChanges();
        if (body.Has("maxImages", "max_images"))
        {
            changes.MaxImages = PositiveOrNull(body, "'maxImages' must be a positive integer or null.", "maxImages", "max_images");
            changes.SetMaxImages = true;
        }
        if (body.Has("allowedMimeTypes", "allowed_mime_types"))
        {
            var types = (body.TextArray("allowedMimeTypes", "allowed_mime_types") ?? [])
                .Select(t => t.Trim().ToLowerInvariant()).Select(t => t == "image/jpg" ? ImageTypes.Jpeg : t).Distinct().ToArray();
            if (types.Any(t => !ImageTypes.All.Contains(t)))
            {
                throw ApiException.BadRequest($"'allowedMimeTypes' must be a subset of {string.Join(", ", ImageTypes.All)} (empty allows all).");
            }
            changes.AllowedMimeTypes = types;
        }
        if (body.Has("maxImageDimension", "max_image_dimension"))
        {
            changes.MaxImageDimension = PositiveOrNull(body, "'maxImageDimension' must be a positive number of pixels or null.",
                "maxImageDimension", "max_image_dimension");
            changes.SetMaxImageDimension = true;
        }
        if (body.Has("allowedIps", "allowed_ips"))
        {
            var ips = (body.TextArray("allowedIps", "allowed_ips") ?? []).Select(ip => ip.Trim()).Where(ip => ip.Length > 0).Distinct().ToArray();
            if (ips.FirstOrDefault(ip => !IpAllowList.TryParse(ip, out _)) is { } bad)
            {
                throw ApiException.BadRequest($"'allowedIps' entries must be IP addresses or CIDR networks such as 203.0.113.0/24 (got '{bad}').");
            }
            changes.AllowedIps = ips;
        }
        if (body.Has("allowedDomains", "allowed_domains"))
        {
            var domains = (body.TextArray("allowedDomains", "allowed_domains") ?? [])
                .Select(d => d.Trim().ToLowerInvariant()).Where(d => d.Length > 0).Distinct().ToArray();
            if (domains.FirstOrDefault(d => !DomainAllowList.TryParse(d, out _)) is { } bad)
            {
                throw ApiException.BadRequest(
                    $"'allowedDomains' entries must be host names such as shop.example.com, *.example.com or https://shop.example.com:8443 (got '{bad}').");
            }
            changes.AllowedDomains = domains;
        }
        changes.LongPollingEnabled = body.Flag("longPollingEnabled", "long_polling_enabled");
        return changes;
    }

    public void ApplyTo(ApiKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (SetMaxImages)
        {
            key.MaxImages = MaxImages;
        }
        if (SetMaxImageDimension)
        {
            key.MaxImageDimension = MaxImageDimension;
        }
        key.AllowedMimeTypes = AllowedMimeTypes ?? key.AllowedMimeTypes;
        key.AllowedIps = AllowedIps ?? key.AllowedIps;
        key.AllowedDomains = AllowedDomains ?? key.AllowedDomains;
        key.LongPollingEnabled = LongPollingEnabled ?? key.LongPollingEnabled;
    }

    private static int? PositiveOrNull(JsonBody body, string message, params string[] names) => body.Number(names) switch
    {
        null => null,
        >= 1 and <= int.MaxValue and var n => (int)n,
        _ => throw ApiException.BadRequest(message),
    };
}
