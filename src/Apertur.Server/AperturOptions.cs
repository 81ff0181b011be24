using Apertur.Server.Hosting;

namespace Apertur.Server;

/// <summary>Settings section <c>Apertur</c>: the few settings that belong to the whole server.</summary>
public sealed class AperturOptions : ISettings
{
    public const string Section = "Apertur";

    /// <summary>Where the SQLite file and the local image store live. Default <c>./data</c>.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>
    /// The public origin used to build <c>upload_url</c> and <c>qr_url</c> (for example <c>https://photos.example.com</c>).
    /// Empty means the origin of each request.
    /// </summary>
    public string? PublicBaseUrl { get; set; }

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (!string.IsNullOrWhiteSpace(PublicBaseUrl)
            && (!Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp)))
        {
            problems.Add($"{Section}:{nameof(PublicBaseUrl)} must be an absolute http(s) URL such as https://photos.example.com (got '{PublicBaseUrl}').");
        }
        return problems;
    }

    public static string ResolveDataDirectory(IConfiguration configuration) =>
        Path.GetFullPath(configuration[$"{Section}:{nameof(DataDirectory)}"] is { Length: > 0 } dir ? dir : "data");
}
