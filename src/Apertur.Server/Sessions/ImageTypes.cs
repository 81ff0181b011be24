namespace Apertur.Server.Sessions;

/// <summary>The image types Apertur accepts. Nothing else is ever stored (no GIF, no SVG).</summary>
public static class ImageTypes
{
    public const string Jpeg = "image/jpeg";
    public const string Png = "image/png";
    public const string Webp = "image/webp";
    public const string Heic = "image/heic";

    public static readonly string[] All = [Jpeg, Png, Webp, Heic];

    public static string Extension(string mimeType) => mimeType switch
    {
        Jpeg => "jpg",
        Png => "png",
        Webp => "webp",
        Heic => "heic",
        _ => "bin",
    };
}
