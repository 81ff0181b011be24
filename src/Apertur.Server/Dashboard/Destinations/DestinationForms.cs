using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Apertur.Destinations;
using Apertur.Server.Destinations;

namespace Apertur.Server.Dashboard.Destinations;

/// <summary>How the dashboard shows one destination kind: its descriptor's names, form and capabilities.</summary>
/// <param name="OAuth">Connected to an account with OAuth ("Connect" button) rather than credentials typed in.</param>
/// <param name="OneOf">Groups of fields of which at least one must be given (a password or a private key).</param>
public sealed record DestinationForm(string Kind, string Title, string Summary, IReadOnlyList<FormField> Fields, bool OAuth = false,
    IReadOnlyList<string[]>? OneOf = null, string? Warning = null)
{
    public static DestinationForm Of(DestinationDescriptor kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        var form = kind.Form ?? throw new InvalidOperationException($"Destination kind '{kind.Kind}' has no form.");
        return new(kind.Kind, kind.DisplayName, kind.Summary, form.Fields, kind.OAuth, form.OneOf, form.Warning);
    }
}

/// <summary>
/// The add/edit form of every registered kind, read from its <see cref="DestinationDescriptor"/> (the adapter declares
/// its fields, labels, help and secret flags): a new kind needs nothing here. The adapter still has the last word
/// (<see cref="DestinationService"/> validates the config the form builds).
/// </summary>
public sealed class DestinationForms(DestinationKindRegistry kinds)
{
    public IReadOnlyList<DestinationForm> All { get; } = kinds.All.Select(DestinationForm.Of).ToList();

    public DestinationForm? Find(string? kind) => kinds.Find(kind)?.Kind is { } found ? All.FirstOrDefault(f => f.Kind == found) : null;

    /// <summary>
    /// The config the form's values describe. Empty fields are left out; a secret left empty while editing is sent as the
    /// mask, which keeps the stored secret (<see cref="DestinationConfigs.Merge"/>). Problems are said in words.
    /// </summary>
    public static (JsonElement Config, List<string> Problems) Read(DestinationForm form, Func<string, string?> value, bool editing)
    {
        ArgumentNullException.ThrowIfNull(form);
        ArgumentNullException.ThrowIfNull(value);
        var config = new JsonObject();
        var problems = new List<string>();
        foreach (var field in form.Fields)
        {
            var raw = value(field.Name);
            var text = field.Secret || field.Type == FieldType.Multiline ? raw : raw?.Trim();
            if (field.Type == FieldType.Flag)
            {
                if (text is "true" or "on")
                {
                    config[field.Name] = true;
                }
                else if (editing)
                {
                    config[field.Name] = false;
                }
                continue;
            }
            if (string.IsNullOrEmpty(text))
            {
                if (field.Secret && editing)
                {
                    config[field.Name] = DestinationConfigs.MaskText;
                }
                else if (field.Required)
                {
                    problems.Add($"{field.Label} is required.");
                }
                else if (editing)
                {
                    // A field emptied while editing is removed from the stored config (merge patch null).
                    config[field.Name] = null;
                }
                continue;
            }
            switch (field.Type)
            {
                case FieldType.Number:
                    if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= field.Min && n <= field.Max)
                    {
                        config[field.Name] = n;
                    }
                    else
                    {
                        problems.Add($"{field.Label} must be a whole number from {field.Min} to {field.Max}.");
                    }
                    break;
                case FieldType.Url:
                    if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
                    {
                        config[field.Name] = text;
                    }
                    else
                    {
                        problems.Add($"{field.Label} must be an absolute http or https URL (got '{text}').");
                    }
                    break;
                case FieldType.Choice when field.Choices is { } choices && !choices.Contains(text):
                    problems.Add($"{field.Label} must be one of {string.Join(", ", choices.Where(c => c.Length > 0))}.");
                    break;
                default:
                    config[field.Name] = text;
                    break;
            }
        }
        foreach (var group in form.OneOf ?? [])
        {
            var given = group.Any(name => config[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0);
            if (!given)
            {
                var labels = group.Select(name => form.Fields.First(f => f.Name == name).Label);
                problems.Add($"Give one of: {string.Join(", ", labels)}.");
            }
        }
        return (JsonSerializer.SerializeToElement(config), problems);
    }

    /// <summary>A stored (masked) config value to show in the form: never a secret.</summary>
    public static string? Shown(FormField field, JsonElement maskedConfig)
    {
        ArgumentNullException.ThrowIfNull(field);
        if (field.Secret || maskedConfig.ValueKind != JsonValueKind.Object || !maskedConfig.TryGetProperty(field.Name, out var v))
        {
            return null;
        }
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Number => v.GetRawText(),
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => null,
        };
    }
}
