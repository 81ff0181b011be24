using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Apertur.Destinations.FileServers;

namespace Apertur.Destinations.WebDav;

/// <summary>
/// A webdav destination's config: <c>url</c> (the WebDAV folder to write under: a plain server's collection, or Nextcloud's
/// and ownCloud's <c>https://host/remote.php/dav/files/USER/</c>), <c>username</c> (alias <c>user</c>), <c>password</c>
/// (an app password for Nextcloud), <c>remote_dir</c> (alias <c>dir</c>, below the URL, created when missing) and
/// <c>path_template</c>.
/// </summary>
public sealed record WebDavConfig(Uri Url, string? Username, string? Password, string RemoteDir, string PathTemplate) : IDestinationConfig<WebDavConfig>
{
    public const string ClearTextWarning =
        "The WebDAV URL is http: the username, the password and every image travel in clear text. Use an https URL.";

    public static bool TryParse(JsonElement config, [NotNullWhen(true)] out WebDavConfig? parsed, out IReadOnlyList<string> problems)
    {
        parsed = null;
        var read = new FileServerConfigReader(config, DestinationKinds.WebDav, "\"url\"");
        problems = read.Problems;
        if (!read.IsObject)
        {
            return false;
        }
        var text = read.Required("url", "the WebDAV folder's absolute http or https URL");
        Uri? url = null;
        if (text.Length > 0
            && (!Uri.TryCreate(text, UriKind.Absolute, out url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
                || string.IsNullOrEmpty(url.Host) || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment)
                || !string.IsNullOrEmpty(url.UserInfo)))
        {
            read.Problems.Add($"config.url must be an absolute http or https URL without user, query or fragment (got '{text}'); " +
                "put the login in username and password.");
            url = null;
        }
        var username = read.Text("username", "user");
        var password = read.Secret("password", "pass");
        if (password is not null && username is null)
        {
            read.Problems.Add("config.username is required with a password.");
        }
        var remoteDir = read.RemoteDir();
        var template = read.PathTemplate();
        if (read.Problems.Count > 0 || url is null)
        {
            return false;
        }
        // The URL names a folder: make sure relative paths go below it, not beside it.
        var folder = url.AbsoluteUri.EndsWith('/') ? url : new Uri(url.AbsoluteUri + "/");
        parsed = new WebDavConfig(folder, username, password, remoteDir, template);
        return true;
    }

    public static IReadOnlyList<string> Warnings(JsonElement config) =>
        TryParse(config, out var parsed, out _) && parsed.Url.Scheme == Uri.UriSchemeHttp && parsed.Password is not null ? [ClearTextWarning] : [];
}
