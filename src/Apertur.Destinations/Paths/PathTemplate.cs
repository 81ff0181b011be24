using System.Globalization;
using System.Text;

namespace Apertur.Destinations.Paths;

/// <summary>
/// The one template engine of every storage and drive destination (<c>key_template</c>, <c>blob_template</c>,
/// <c>path_template</c>, <c>subfolder_template</c>). Placeholders: <c>{session_id}</c>, <c>{image_id}</c>,
/// <c>{image_index}</c>, <c>{ext}</c>, <c>{filename}</c> (the sanitised upload name, with its extension),
/// <c>{name}</c> (the same without extension), <c>{label}</c>, <c>{date}</c> or <c>{date:yyyy-MM-dd}</c> (any .NET date
/// format, the upload's UTC time), <c>{tag:name}</c> (the value of a tag written <c>name:value</c> or
/// <c>name=value</c>) and whatever an adapter adds (<c>{folder}</c>).
/// <para>
/// The result is always a relative path of clean segments joined by <c>/</c>: a substituted value never adds a folder
/// (its slashes become <c>_</c>), control characters are dropped, empty and <c>.</c> segments disappear and a <c>..</c>
/// segment is refused when the template is checked and replaced when it comes from a value, so no template and no
/// upload can climb out of the destination's root.
/// </para>
/// </summary>
public static class PathTemplate
{
    private const int MaxSegmentLength = 200;
    private static readonly string[] Plain = ["session_id", "image_id", "image_index", "ext", "filename", "name", "label", "date"];

    /// <summary>What is wrong with a template, in words, or null when it can be used. <paramref name="extra"/> names adapter placeholders.</summary>
    public static string? Check(string template, string setting, IEnumerable<string>? extra = null)
    {
        if (string.IsNullOrWhiteSpace(template))
        {
            return $"config.{setting} must not be empty.";
        }
        var known = Plain.Concat(extra ?? []).ToHashSet(StringComparer.Ordinal);
        foreach (var part in Parse(template))
        {
            if (part.Error is { } error)
            {
                return $"config.{setting}: {error}";
            }
            if (part.Placeholder is { } name && !IsKnown(name, known))
            {
                return $"config.{setting}: unknown placeholder {{{name}}}; use {string.Join(", ", known.Select(k => "{" + k + "}"))}, {{date:yyyy-MM-dd}} or {{tag:name}}.";
            }
            if (part.Placeholder is { } dated && dated.StartsWith("date:", StringComparison.Ordinal) && !IsDateFormat(dated[5..]))
            {
                return $"config.{setting}: {{{dated}}} is not a usable date format.";
            }
        }
        if (template.Replace('\\', '/').Split('/').Any(s => s.Trim() == ".."))
        {
            return $"config.{setting} must not contain '..': paths stay inside the destination's folder.";
        }
        return null;
    }

    /// <summary>
    /// The relative path for one image. Never empty, never absolute, never with a <c>..</c> segment. Unknown placeholders
    /// (a template saved before <see cref="Check"/> existed) render empty rather than failing the delivery.
    /// </summary>
    public static string Render(string template, DeliveryImage image, IReadOnlyDictionary<string, string>? extra = null)
    {
        var text = new StringBuilder();
        foreach (var part in Parse(template))
        {
            text.Append(part.Literal ?? (part.Placeholder is { } name ? Value(name, image, extra) : ""));
        }
        var segments = text.ToString().Replace('\\', '/').Split('/')
            .Select(CleanSegment)
            .Where(s => s.Length > 0 && s != ".")
            .Select(s => s == ".." ? "_" : s)
            .ToList();
        return segments.Count > 0 ? string.Join('/', segments) : $"{image.Id:N}.{Extension(image)}";
    }

    /// <summary>Joins a configured root folder and a rendered path: <c>"/uploads/" + "a/b.jpg"</c> → <c>/uploads/a/b.jpg</c>.</summary>
    public static string Combine(string? root, string relative)
    {
        var trimmed = (root ?? "").Trim().Replace('\\', '/');
        var absolute = trimmed.StartsWith('/');
        var rootSegments = trimmed.Split('/').Select(CleanSegment).Where(s => s.Length > 0 && s != "." && s != "..");
        var joined = string.Join('/', rootSegments.Append(relative));
        return absolute ? "/" + joined : joined;
    }

    /// <summary>The usual file extension of an image's type: <c>jpg</c>, <c>png</c>, <c>webp</c>, <c>heic</c>, <c>avif</c>.</summary>
    public static string Extension(DeliveryImage image) => image.MimeType switch
    {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/heic" => "heic",
        "image/heif" => "heif",
        "image/avif" => "avif",
        "image/gif" => "gif",
        _ => Path.GetExtension(image.Filename).TrimStart('.').ToLowerInvariant() is { Length: > 0 and <= 5 } fromName ? fromName : "bin",
    };

    private static string Value(string name, DeliveryImage image, IReadOnlyDictionary<string, string>? extra)
    {
        if (name.StartsWith("date:", StringComparison.Ordinal) && IsDateFormat(name[5..]))
        {
            // The format is the template author's: its slashes may make folders ({date:yyyy/MM/dd}).
            return image.CreatedAt.UtcDateTime.ToString(name[5..], CultureInfo.InvariantCulture);
        }
        var value = name switch
        {
            "session_id" => image.SessionId.ToString(),
            "image_id" => image.Id.ToString(),
            "image_index" => image.Index.ToString(CultureInfo.InvariantCulture),
            "ext" => Extension(image),
            "filename" => image.Filename,
            "name" => Path.GetFileNameWithoutExtension(image.Filename),
            "label" => image.Label ?? "",
            "date" => image.CreatedAt.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            _ when name.StartsWith("tag:", StringComparison.Ordinal) => TagValue(image.Tags, name[4..]),
            _ => extra?.GetValueOrDefault(name) ?? "",
        };
        // A value is one piece of a segment: its separators must not create folders.
        return value.Replace('/', '_').Replace('\\', '_');
    }

    private static string TagValue(IReadOnlyList<string> tags, string key)
    {
        foreach (var tag in tags)
        {
            var split = tag.IndexOfAny([':', '=']);
            if (split > 0 && string.Equals(tag[..split].Trim(), key, StringComparison.OrdinalIgnoreCase))
            {
                return tag[(split + 1)..].Trim();
            }
        }
        return "";
    }

    private static bool IsKnown(string name, HashSet<string> known) =>
        known.Contains(name) || name.StartsWith("date:", StringComparison.Ordinal) || (name.StartsWith("tag:", StringComparison.Ordinal) && name.Length > 4);

    private static bool IsDateFormat(string format)
    {
        if (format.Length == 0 || format.Length > 40)
        {
            return false;
        }
        try
        {
            _ = DateTime.UnixEpoch.ToString(format, CultureInfo.InvariantCulture);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static string CleanSegment(string segment)
    {
        var clean = new StringBuilder(segment.Length);
        foreach (var c in segment)
        {
            if (!char.IsControl(c) && c is not ('<' or '>' or '"' or '|' or '?' or '*'))
            {
                clean.Append(c);
            }
        }
        var trimmed = clean.ToString().Trim();
        return trimmed.Length > MaxSegmentLength ? trimmed[..MaxSegmentLength].Trim() : trimmed;
    }

    private readonly record struct Part(string? Literal, string? Placeholder, string? Error);

    private static IEnumerable<Part> Parse(string template)
    {
        var i = 0;
        while (i < template.Length)
        {
            var open = template.IndexOf('{', i);
            var close = template.IndexOf('}', i);
            if (close >= 0 && (open < 0 || close < open))
            {
                yield return new(null, null, $"'}}' at position {close + 1} has no matching '{{'.");
                yield break;
            }
            if (open < 0)
            {
                yield return new(template[i..], null, null);
                yield break;
            }
            if (open > i)
            {
                yield return new(template[i..open], null, null);
            }
            if (close < 0)
            {
                yield return new(null, null, $"'{{' at position {open + 1} is never closed.");
                yield break;
            }
            yield return new(null, template[(open + 1)..close].Trim(), null);
            i = close + 1;
        }
    }
}
