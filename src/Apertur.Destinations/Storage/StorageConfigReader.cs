using System.Text.Json;
using Apertur.Destinations.Paths;

namespace Apertur.Destinations.Storage;

/// <summary>
/// Reads the fields of a destination config object and collects what is wrong with them in words
/// (<c>config.bucket is required: …</c>), so the API can answer 400 with every problem at once.
/// </summary>
internal sealed class StorageConfigReader
{
    private readonly JsonElement _config;
    private readonly List<string> _problems = [];

    public StorageConfigReader(JsonElement config, string notAnObject)
    {
        _config = config;
        IsObject = config.ValueKind == JsonValueKind.Object;
        if (!IsObject)
        {
            _problems.Add(notAnObject);
        }
    }

    public bool IsObject { get; }

    public IReadOnlyList<string> Problems => _problems;

    public void Problem(string problem) => _problems.Add(problem);

    /// <summary>True when the field is present and not null.</summary>
    public bool Has(string name) =>
        IsObject && _config.TryGetProperty(name, out var value) && value.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);

    /// <summary>A trimmed non-empty string, or null (a problem is recorded) when missing, empty or not a string.</summary>
    public string? RequiredText(string name, string what)
    {
        if (!Has(name))
        {
            _problems.Add($"config.{name} is required: {what}.");
            return null;
        }
        var before = _problems.Count;
        var text = OptionalText(name);
        if (text is null && _problems.Count == before)
        {
            _problems.Add($"config.{name} must not be empty: {what}.");
        }
        return text;
    }

    /// <summary>A trimmed string, or null when absent or empty; a non-string value is a problem.</summary>
    public string? OptionalText(string name)
    {
        if (!Has(name))
        {
            return null;
        }
        var value = _config.GetProperty(name);
        if (value.ValueKind != JsonValueKind.String)
        {
            _problems.Add($"config.{name} must be a string (got {value.ValueKind.ToString().ToLowerInvariant()}).");
            return null;
        }
        var text = value.GetString()!.Trim();
        if (text.Any(char.IsControl))
        {
            _problems.Add($"config.{name} must not contain control characters.");
            return null;
        }
        return text.Length == 0 ? null : text;
    }

    /// <summary>A boolean (also the strings "true"/"false", as form-driven clients send), or null when absent.</summary>
    public bool? OptionalBool(string name)
    {
        if (!Has(name))
        {
            return null;
        }
        var value = _config.GetProperty(name);
        switch (value.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.String when bool.TryParse(value.GetString()?.Trim(), out var parsed):
                return parsed;
            default:
                _problems.Add($"config.{name} must be true or false (got {value.GetRawText()}).");
                return null;
        }
    }

    /// <summary>An absolute http or https URL without credentials, query or fragment, or null when absent.</summary>
    public Uri? HttpUrl(string name)
    {
        var text = OptionalText(name);
        if (text is null)
        {
            return null;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
            || string.IsNullOrEmpty(url.Host))
        {
            _problems.Add($"config.{name} must be an absolute http or https URL (got '{text}').");
            return null;
        }
        if (!string.IsNullOrEmpty(url.UserInfo) || !string.IsNullOrEmpty(url.Query) || !string.IsNullOrEmpty(url.Fragment))
        {
            _problems.Add($"config.{name} must not carry credentials, a query or a fragment (got '{text}').");
            return null;
        }
        return url;
    }

    /// <summary>A path template checked by <see cref="PathTemplate.Check"/>, or the default when absent.</summary>
    public string? Template(string name, string fallback)
    {
        var template = Has(name) ? OptionalText(name) : fallback;
        if (template is null)
        {
            if (Has(name) && _config.GetProperty(name).ValueKind == JsonValueKind.String)
            {
                _problems.Add($"config.{name} must not be empty (leave it out for {fallback}).");
            }
            return null;
        }
        if (PathTemplate.Check(template, name) is { } problem)
        {
            _problems.Add(problem);
            return null;
        }
        return template;
    }
}
