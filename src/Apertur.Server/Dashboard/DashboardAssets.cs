using System.Security.Cryptography;

namespace Apertur.Server.Dashboard;

/// <summary>
/// The dashboard's script and style sheet, embedded in the server assembly and served by it (no CDN). A fixed set of names,
/// so a request can never reach another file; URLs carry a content hash, so browsers keep an asset until it changes.
/// </summary>
public sealed class DashboardAssets
{
    private static readonly (string Name, string ContentType)[] Files =
    [
        ("dashboard.js", "text/javascript; charset=utf-8"),
        ("dashboard.css", "text/css; charset=utf-8"),
    ];

    private readonly Dictionary<string, Asset> _assets;

    public sealed record Asset(string Name, string ContentType, byte[] Bytes, string Version)
    {
        public string ETag => $"\"{Version}\"";
    }

    public DashboardAssets()
    {
        var assembly = typeof(DashboardAssets).Assembly;
        _assets = Files.ToDictionary(f => f.Name, f =>
        {
            var resource = $"Apertur.Server.Dashboard.Assets.{f.Name}";
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The dashboard asset {resource} is not embedded.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            return new Asset(f.Name, f.ContentType, bytes, Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]);
        }, StringComparer.Ordinal);
    }

    public Asset? Find(string name) => _assets.GetValueOrDefault(name);

    /// <summary>The URL of an asset with its content version.</summary>
    public string Url(string name) => $"{DashboardRoutes.Assets}{name}?v={_assets[name].Version}";

    internal IResult Serve(string name, string? v, HttpContext http)
    {
        if (Find(name) is not { } asset)
        {
            return TypedResults.NotFound();
        }
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = v == asset.Version ? "public, max-age=31536000, immutable" : "no-cache";
        headers.ETag = asset.ETag;
        return http.Request.Headers.IfNoneMatch.ToString() == asset.ETag
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.File(asset.Bytes, asset.ContentType);
    }
}
