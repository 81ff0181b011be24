using System.Globalization;
using System.Text.Json;
using Apertur.Destinations.Paths;

namespace Apertur.Destinations.FileServers;

/// <summary>
/// Reads the config fields shared by the file-server kinds (sftp, ftp, webdav), collecting what is wrong in words.
/// Names accept the short aliases the hosted service documents (<c>user</c>, <c>dir</c>) beside <c>username</c> and <c>remote_dir</c>.
/// </summary>
internal sealed class FileServerConfigReader
{
    public const string DefaultPathTemplate = "{session_id}/{image_index}.{ext}";

    private readonly JsonElement _config;

    public FileServerConfigReader(JsonElement config, string kind, string required)
    {
        _config = config;
        if (config.ValueKind != JsonValueKind.Object)
        {
            Problems.Add($"config must be a JSON object for a {kind} destination, with at least {required}.");
        }
    }

    public List<string> Problems { get; } = [];

    public bool IsObject => _config.ValueKind == JsonValueKind.Object;

    /// <summary>A string field (trimmed, empty as absent), under its name or an alias.</summary>
    public string? Text(string name, params string[] aliases)
    {
        if (Find(name, aliases) is not { } found)
        {
            return null;
        }
        if (found.Value.ValueKind != JsonValueKind.String)
        {
            Problems.Add($"config.{found.Name} must be a string.");
            return null;
        }
        var text = found.Value.GetString()!.Trim();
        return text.Length == 0 ? null : text;
    }

    /// <summary>A secret string field, kept exactly as given (a password may start or end with spaces).</summary>
    public string? Secret(string name, params string[] aliases)
    {
        if (Find(name, aliases) is not { } found)
        {
            return null;
        }
        if (found.Value.ValueKind != JsonValueKind.String)
        {
            Problems.Add($"config.{found.Name} must be a string.");
            return null;
        }
        var text = found.Value.GetString()!;
        return text.Length == 0 ? null : text;
    }

    public string Required(string name, string what, params string[] aliases)
    {
        var before = Problems.Count;
        var text = Text(name, aliases);
        if (text is null && Problems.Count == before)
        {
            Problems.Add($"config.{name} is required: {what}.");
        }
        return text ?? "";
    }

    /// <summary>A host name or IP address, not a URL.</summary>
    public string Host()
    {
        var host = Required("host", "the server's host name or IP address");
        if (host.Length > 0 && (host.Contains("://", StringComparison.Ordinal) || host.IndexOfAny(['/', '\\', ' ', '@', '?', '#']) >= 0
            || Uri.CheckHostName(host.Trim('[', ']')) == UriHostNameType.Unknown))
        {
            Problems.Add($"config.host must be a host name or IP address only, without scheme, user or path (got '{host}').");
        }
        return host;
    }

    public int Port(int fallback)
    {
        if (Find("port") is not { } found)
        {
            return fallback;
        }
        var value = found.Value;
        if ((value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number is > 0 and <= 65535)
            || (value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out number)
                && number is > 0 and <= 65535))
        {
            return number;
        }
        Problems.Add($"config.port must be a TCP port from 1 to 65535 (got {value.GetRawText()}).");
        return fallback;
    }

    public bool Flag(string name, bool fallback)
    {
        if (Find(name) is not { } found)
        {
            return fallback;
        }
        switch (found.Value.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.String when bool.TryParse(found.Value.GetString(), out var parsed):
                return parsed;
            default:
                Problems.Add($"config.{name} must be true or false (got {found.Value.GetRawText()}).");
                return fallback;
        }
    }

    /// <summary>The folder everything goes under: relative to the login folder, or absolute with a leading <c>/</c>.</summary>
    public string RemoteDir()
    {
        var dir = Text("remote_dir", "dir", "remote_path", "folder") ?? "";
        if (dir.Any(char.IsControl))
        {
            Problems.Add("config.remote_dir must not contain control characters.");
        }
        if (dir.Replace('\\', '/').Split('/').Any(s => s.Trim() == ".."))
        {
            Problems.Add("config.remote_dir must not contain '..'.");
        }
        return dir;
    }

    public string PathTemplate()
    {
        var template = Text("path_template") ?? DefaultPathTemplate;
        if (Paths.PathTemplate.Check(template, "path_template") is { } problem)
        {
            Problems.Add(problem);
        }
        return template;
    }

    private (string Name, JsonElement Value)? Find(string name, params string[] aliases)
    {
        if (!IsObject)
        {
            return null;
        }
        foreach (var candidate in aliases.Prepend(name))
        {
            if (_config.TryGetProperty(candidate, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined))
            {
                return (candidate, value);
            }
        }
        return null;
    }
}

/// <summary>The path of one image on a file server: the configured folder and the rendered template.</summary>
internal static class RemotePaths
{
    /// <summary><c>remote_dir</c> + rendered <c>path_template</c>: absolute when the folder starts with <c>/</c>.</summary>
    public static string For(string remoteDir, string template, DeliveryImage image) =>
        PathTemplate.Combine(remoteDir, PathTemplate.Render(template, image));

    /// <summary>The segments of a path, each percent-encoded for a URL (libcurl and WebDAV servers decode them).</summary>
    public static string Escape(string path) =>
        string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString));

    /// <summary>
    /// Where a file is written before it is renamed to <paramref name="path"/>: <c>.NAME.part-ID</c> in the same folder (so
    /// on the same file system), hidden, one per delivery; the name is shortened so the suffix never pushes it past 255 bytes.
    /// </summary>
    public static string Temporary(string path, Guid deliveryId)
    {
        var slash = path.LastIndexOf('/');
        var name = path[(slash + 1)..];
        var shortName = name.Length > 180 ? name[..180] : name;
        return path[..(slash + 1)] + "." + shortName + ".part-" + deliveryId.ToString("N", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The file name of a path, without its folder.</summary>
    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    /// <summary>The folder part of a path ("" for none).</summary>
    public static string Folder(string path)
    {
        var slash = path.LastIndexOf('/');
        return slash <= 0 ? (slash == 0 ? "/" : "") : path[..slash];
    }
}
