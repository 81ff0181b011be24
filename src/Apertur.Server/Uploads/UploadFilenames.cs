using System.Globalization;
using System.Text;
using Apertur.Server.Sessions;

namespace Apertur.Server.Uploads;

/// <summary>
/// Client file names made safe to store and hand on to destinations: no path, no control or shell-special characters,
/// at most 100 characters before the extension, and an extension that matches the sniffed type.
/// </summary>
public static class UploadFilenames
{
    private const int MaxStemLength = 100;

    // Extensions of image-like types a client may have put on the name; they are replaced by the real one.
    private static readonly string[] ImageLikeExtensions =
        ["jpg", "jpeg", "jpe", "jfif", "png", "webp", "heic", "heif", "hif", "avif", "gif", "bmp", "tif", "tiff", "svg", "pdf", "html", "htm"];

    /// <summary>A safe name for <paramref name="mimeType"/>; <paramref name="encrypted"/> first strips a trailing <c>.enc</c>.</summary>
    public static string Sanitise(string? clientName, string mimeType, bool encrypted = false)
    {
        var name = (clientName ?? "").Trim().Trim('"');
        name = name[(name.LastIndexOfAny(['/', '\\']) + 1)..];
        if (encrypted && name.EndsWith(".enc", StringComparison.OrdinalIgnoreCase))
        {
            name = name[..^4];
        }
        // No Unicode normalisation: the server runs with InvariantGlobalization, where it is unavailable.
        name = Clean(name);

        var extension = ImageTypes.Extension(mimeType);
        var dot = name.LastIndexOf('.');
        if (dot >= 0 && ImageLikeExtensions.Contains(name[(dot + 1)..].ToLowerInvariant()))
        {
            // Keep the client's spelling when it already names the right type (IMG_0001.JPG, photo.jpeg).
            if (ExtensionsOf(mimeType).Contains(name[(dot + 1)..].ToLowerInvariant()))
            {
                extension = name[(dot + 1)..];
            }
            name = name[..dot];
        }
        var stem = Truncate(name.Trim(' ', '.', '-'), MaxStemLength).TrimEnd(' ', '.');
        return (stem.Length == 0 ? "image" : stem) + "." + extension;
    }

    private static string[] ExtensionsOf(string mimeType) => mimeType switch
    {
        ImageTypes.Jpeg => ["jpg", "jpeg", "jpe", "jfif"],
        ImageTypes.Heic => ["heic", "heif", "hif"],
        _ => [ImageTypes.Extension(mimeType)],
    };

    // Letters and digits of any script, and a few harmless punctuation marks; anything else becomes '_'.
    private static string Clean(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var rune in name.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune) || IsCombiningMark(rune) || rune.Value is '.' or '-' or '_' or '(' or ')' or '+' or ',' or '@')
            {
                sb.Append(rune.ToString());
            }
            else if (Rune.IsWhiteSpace(rune))
            {
                sb.Append(' ');
            }
            else if (!Rune.IsControl(rune) && Rune.GetUnicodeCategory(rune) != UnicodeCategory.Format)
            {
                sb.Append('_');
            }
        }
        // Collapse runs of spaces and dots so ".." or "a   b" never survive.
        var text = sb.ToString();
        while (text.Contains("  ", StringComparison.Ordinal) || text.Contains("..", StringComparison.Ordinal))
        {
            text = text.Replace("  ", " ", StringComparison.Ordinal).Replace("..", ".", StringComparison.Ordinal);
        }
        return text;
    }

    // Accents typed as base letter + combining mark (macOS names arrive decomposed).
    private static bool IsCombiningMark(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;

    private static string Truncate(string text, int maxRunes)
    {
        var count = 0;
        var sb = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (++count > maxRunes)
            {
                break;
            }
            sb.Append(rune.ToString());
        }
        return sb.ToString();
    }
}
