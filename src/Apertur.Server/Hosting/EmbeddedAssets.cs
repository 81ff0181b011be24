using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Hosting;

/// <summary>
/// A page's scripts, style sheets and icons, embedded in the server assembly and served by it (no CDN: pages work on a
/// closed network). A fixed set of names, so a request can never reach another file. URLs carry a content hash, so
/// browsers keep an asset until it changes and fetch the new one at once when it does.
/// </summary>
public abstract class EmbeddedAssets
{
    private readonly Dictionary<string, Asset> _assets;

    /// <param name="routePrefix">Where they are served, e.g. <c>/u/assets/</c>.</param>
    /// <param name="resourcePrefix">Their manifest resource names' prefix (see the csproj's LogicalName).</param>
    /// <param name="files">Each file's name and content type.</param>
    protected EmbeddedAssets(string routePrefix, string resourcePrefix, IEnumerable<(string Name, string ContentType)> files)
    {
        RoutePrefix = routePrefix;
        var assembly = typeof(EmbeddedAssets).Assembly;
        _assets = files.ToDictionary(f => f.Name, f =>
        {
            var resource = resourcePrefix + f.Name;
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The asset {resource} is not embedded.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var bytes = copy.ToArray();
            return new Asset(f.Name, f.ContentType, bytes, Convert.ToHexStringLower(SHA256.HashData(bytes))[..16]);
        }, StringComparer.Ordinal);
    }

    public sealed record Asset(string Name, string ContentType, byte[] Bytes, string Version)
    {
        public string ETag => $"\"{Version}\"";
    }

    public string RoutePrefix { get; }

    public Asset? Find(string name) => _assets.GetValueOrDefault(name);

    /// <summary>The URL path of an asset with its content version.</summary>
    public string Url(string name) => $"{RoutePrefix}{name}?v={_assets[name].Version}";

    /// <summary>The answer to GET or HEAD of an asset: immutable when the URL names its current version, 304 on a matching ETag.</summary>
    public Results<NotFound, StatusCodeHttpResult, FileContentHttpResult> Serve(string name, string? v, HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (Find(name) is not { } asset)
        {
            return TypedResults.NotFound();
        }
        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        // A URL naming the current version never changes; any other is revalidated.
        headers.CacheControl = v == asset.Version ? "public, max-age=31536000, immutable" : "no-cache";
        headers.ETag = asset.ETag;
        return http.Request.Headers.IfNoneMatch.ToString() == asset.ETag
            ? TypedResults.StatusCode(StatusCodes.Status304NotModified)
            : TypedResults.File(asset.Bytes, asset.ContentType);
    }
}

public static class EmbeddedAssetsEndpoints
{
    /// <summary>Serves the assets of <typeparamref name="T"/> (a singleton) under its route prefix.</summary>
    public static IEndpointRouteBuilder MapEmbeddedAssets<T>(this IEndpointRouteBuilder app) where T : EmbeddedAssets
    {
        ArgumentNullException.ThrowIfNull(app);
        var assets = app.ServiceProvider.GetRequiredService<T>();
        app.MapMethods(assets.RoutePrefix + "{name}", [HttpMethods.Get, HttpMethods.Head], (string name, string? v, HttpContext http) => assets.Serve(name, v, http));
        return app;
    }
}
