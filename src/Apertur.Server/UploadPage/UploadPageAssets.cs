using Apertur.Server.Hosting;

namespace Apertur.Server.UploadPage;

/// <summary>The upload page's script, style sheet and icon (Assets/), served under <c>/u/assets/</c>.</summary>
public sealed class UploadPageAssets() : EmbeddedAssets("/u/assets/", "Apertur.Server.UploadPage.Assets.",
[
    ("upload.js", "text/javascript; charset=utf-8"),
    ("upload.css", "text/css; charset=utf-8"),
    ("icon.svg", "image/svg+xml"),
])
{
    /// <summary>The path of an asset with its content version, for <c>Url.Content</c>.</summary>
    public string Path(string name) => "~" + Url(name);
}
