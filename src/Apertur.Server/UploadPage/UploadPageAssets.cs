using System.Security.Cryptography;

namespace Apertur.Server.UploadPage;

/// <summary>
/// The page's script, style sheet and icon, embedded in the server assembly and served by it (no CDN: the page works on
/// a closed network). A fixed set of names, so a request can never reach another file. URLs carry a content hash, so
/// browsers keep an asset until it changes.
/// </summary>
public sealed class UploadPageAssets
{
    public const string RoutePrefix = "/u/assets/";

    private static readonly (string Name, string ContentType)[] Files =
    [
        ("upload.js", "text/javascript; charset=utf-8"),
        ("upload.css", "text/css; charset=utf-8"),
        ("icon.svg", "image/svg+xml"),
    ];

    private readonly Dictionary<string, Asset> _assets;

    public sealed record Asset(string Name, string ContentType, byte[] Bytes, string Version)
    {
        public string ETag => $"\"{Version}\"";
    }

    public UploadPageAssets()
    {
        var assembly = typeof(UploadPageAssets).Assembly;
        _assets = Files.ToDictionary(f => f.Name, f =>
        {
            var resource = $"Apertur.Server.UploadPage.Assets.{f.Name}";
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The upload page asset {resource} is not embedded.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            var version = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
            return new Asset(f.Name, f.ContentType, bytes, version);
        }, StringComparer.Ordinal);
    }

    public Asset? Find(string name) => _assets.GetValueOrDefault(name);

    /// <summary>The path of an asset with its content version, for <c>Url.Content</c>.</summary>
    public string Path(string name) => $"~{RoutePrefix}{name}?v={_assets[name].Version}";
}
