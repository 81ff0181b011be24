using System.Text.Json;

namespace Apertur.Destinations;

/// <summary>
/// Everything the server needs to know about a destination kind besides delivering: its names, how its config is checked
/// and warned about, which of its fields are secret, the form the dashboard shows, what it can do. Each adapter declares
/// one (<see cref="IDescribedDestination.Descriptor"/>) and the server registers the adapter once; the API, secret
/// handling, dashboard and e-mails read the <see cref="DestinationKindRegistry"/> built from them.
/// </summary>
/// <param name="Kind">The canonical type string stored and answered (<c>google_drive</c>).</param>
/// <param name="DisplayName">How people see the kind: form title, kind column, reconnect e-mails ("Google Drive").</param>
/// <param name="Summary">One sentence for the form: what the kind does.</param>
/// <param name="Validate">The config's problems in words; empty when it is fine (the API answers 400 otherwise).</param>
/// <param name="Form">The dashboard form; its secret fields must be exactly <paramref name="SecretFields"/>.</param>
/// <param name="SecretFields">Config keys encrypted at rest and masked in answers, each a field of the form.</param>
public sealed record DestinationDescriptor(
    string Kind,
    string DisplayName,
    string Summary,
    Func<JsonElement, IReadOnlyList<string>> Validate,
    DestinationFormSpec? Form,
    IReadOnlyList<string> SecretFields)
{
    /// <summary>Other type strings accepted on create for this kind (<c>gdrive</c>); stored as <see cref="Kind"/>.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>What a person should know about a config that works but is unsafe; empty when nothing. Given the masked config.</summary>
    public Func<JsonElement, IReadOnlyList<string>> Warnings { get; init; } = static _ => [];

    /// <summary>
    /// Names also secret although no form field shows them: alternative keys the adapter or older versions accept
    /// (<c>pass</c>, <c>ssh_key</c>) and credentials clients may send (<c>refresh_token</c>). Encrypted and masked like
    /// <see cref="SecretFields"/>. The server also treats any name containing "secret", "password", "token"… as secret.
    /// </summary>
    public IReadOnlyList<string> OtherSecretNames { get; init; } = [];

    /// <summary>The adapter answers "test connection" (<see cref="IConnectionTestable"/>).</summary>
    public bool ConnectionTest { get; init; }

    /// <summary>Connected to an account with OAuth ("Connect" button, reconnect e-mails) rather than credentials typed in.</summary>
    public bool OAuth { get; init; }

    /// <summary>
    /// Throws <see cref="InvalidOperationException"/> when the descriptor cannot be registered: no kind or name, no
    /// validation, no form, a form whose secret flags differ from <see cref="SecretFields"/>, duplicate or unknown fields.
    /// A kind missing any of these would fail silently (any JSON accepted, a secret stored in clear).
    /// </summary>
    public void EnsureComplete()
    {
        string Where() => string.IsNullOrWhiteSpace(Kind) ? "A destination kind" : $"Destination kind '{Kind}'";
        if (string.IsNullOrWhiteSpace(Kind) || !string.Equals(Kind, Kind.Trim().ToLowerInvariant(), StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{Where()} needs a lower-case type string.");
        }
        if (string.IsNullOrWhiteSpace(DisplayName) || Validate is null || Warnings is null)
        {
            throw new InvalidOperationException($"{Where()} needs a display name, a validation and a warnings function.");
        }
        if (Form is null)
        {
            throw new InvalidOperationException($"{Where()} has no form: the dashboard could not add it.");
        }
        var names = Form.Fields.Select(f => f.Name).ToList();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
        {
            throw new InvalidOperationException($"{Where()} has a form with the same field twice.");
        }
        var flagged = Form.Fields.Where(f => f.Secret).Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        if (!flagged.SetEquals(SecretFields))
        {
            throw new InvalidOperationException(
                $"{Where()}: the form's secret fields ({string.Join(", ", flagged.Order(StringComparer.Ordinal))}) differ from its secret fields "
                + $"({string.Join(", ", SecretFields.Order(StringComparer.Ordinal))}): a secret would be shown, or stored in clear.");
        }
        if (Form.OneOf?.SelectMany(g => g).FirstOrDefault(n => !names.Contains(n)) is { } unknown)
        {
            throw new InvalidOperationException($"{Where()}: the form's one-of group names '{unknown}', which is not one of its fields.");
        }
    }
}

/// <summary>The input a form field is.</summary>
public enum FieldType
{
    Text,
    Url,
    Number,
    Multiline,
    Choice,
    Flag,
}

/// <summary>One config key of a destination kind, as the dashboard's form shows and reads it. Plain data: no HTML here.</summary>
/// <param name="Name">The config key, exactly as the adapter reads it.</param>
/// <param name="Secret">Encrypted at rest and never shown again: left empty when editing, the stored value is kept.</param>
/// <param name="Choices">The values a <see cref="FieldType.Choice"/> accepts ("" for "not set").</param>
public sealed record FormField(string Name, string Label, string Help, FieldType Type = FieldType.Text, bool Required = false, bool Secret = false,
    string? Placeholder = null, IReadOnlyList<string>? Choices = null, int Min = 0, int Max = int.MaxValue);

/// <summary>The form of a destination kind: its fields, groups of which one must be given, what to be careful about.</summary>
/// <param name="OneOf">Groups of fields of which at least one must be given (a password or a private key).</param>
/// <param name="Warning">Shown above the form (plain FTP sends passwords in clear).</param>
public sealed record DestinationFormSpec(IReadOnlyList<FormField> Fields, IReadOnlyList<string[]>? OneOf = null, string? Warning = null)
{
    /// <summary>The help of every path or name template field.</summary>
    public const string TemplateHelp = "Placeholders: {session_id}, {image_index}, {image_id}, {ext}, {filename}, {name}, {label}, {date} or {date:yyyy-MM-dd}, {tag:NAME}.";
}

/// <summary>
/// An adapter that describes its kind. <c>services.AddDestination&lt;T&gt;(…)</c> (in the server) reads
/// <see cref="Descriptor"/>, checks it and registers the adapter: the one step a new kind needs besides its own folder.
/// </summary>
public interface IDescribedDestination
{
    static abstract DestinationDescriptor Descriptor { get; }
}

/// <summary>
/// The registered destination kinds, found by type string or alias. Built once; checks every descriptor. Each kind is
/// kept with the image options every destination accepts (<see cref="DeliveryImageOptions.AddTo"/>): its form ends with
/// their fields and its validation checks them.
/// </summary>
public sealed class DestinationKindRegistry
{
    private readonly Dictionary<string, DestinationDescriptor> _byName = new(StringComparer.Ordinal);

    /// <exception cref="InvalidOperationException">A descriptor is incomplete, or two claim the same type string.</exception>
    public DestinationKindRegistry(IEnumerable<DestinationDescriptor> descriptors)
    {
        ArgumentNullException.ThrowIfNull(descriptors);
        var all = new List<DestinationDescriptor>();
        foreach (var declared in descriptors)
        {
            declared.EnsureComplete();
            var descriptor = DeliveryImageOptions.AddTo(declared);
            descriptor.EnsureComplete();
            foreach (var name in descriptor.Aliases.Prepend(descriptor.Kind))
            {
                if (!_byName.TryAdd(name.Trim().ToLowerInvariant(), descriptor))
                {
                    throw new InvalidOperationException($"Two destination kinds claim the type '{name}'.");
                }
            }
            all.Add(descriptor);
        }
        All = all;
    }

    /// <summary>Every kind, in registration order.</summary>
    public IReadOnlyList<DestinationDescriptor> All { get; }

    /// <summary>The kind a type string names (canonical or alias, any case, trimmed); null when unknown.</summary>
    public DestinationDescriptor? Find(string? type) =>
        type is null ? null : _byName.GetValueOrDefault(type.Trim().ToLowerInvariant());

    /// <summary>How people see a kind ("Google Drive"); the type string itself when it is not registered.</summary>
    public string DisplayName(string kind) => Find(kind)?.DisplayName ?? kind;
}
