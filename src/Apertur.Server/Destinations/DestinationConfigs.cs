using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Apertur.Destinations;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.DataProtection;

namespace Apertur.Server.Destinations;

/// <summary>
/// Destination config secrets at rest (docs/architecture.md "Security choices"; docs/api.md "Destinations"). The database keeps the config JSON with
/// every secret value replaced by <c>{"$protected":"CfDJ8…"}</c>, the Data Protection ciphertext of that value's JSON text
/// (purpose <see cref="Purpose"/>). Adapters and the worker get <see cref="Reveal"/>; API answers get <see cref="Mask"/>.
/// <para>
/// Why an object and not a prefixed string (<c>"enc:v1:…"</c>): a stored string under a secret key can then never be
/// mistaken for ciphertext (a password may well start with <c>enc:</c>), non-string secrets (an OAuth token object) keep
/// their JSON type, and the version lives in the purpose string. Clients may not send <c>$protected</c> themselves, so
/// every such object in the database was written here.
/// </para>
/// <para>
/// Which values are secret: a property, at any depth, whose name is one of the kind's <see cref="DestinationDescriptor.SecretFields"/>
/// or <see cref="DestinationDescriptor.OtherSecretNames"/>, or whose name contains one of
/// <c>secret</c>, <c>password</c>, <c>passphrase</c>, <c>private_key</c>, <c>token</c>, <c>sas</c>, <c>account_key</c>,
/// <c>connection_string</c>, <c>refresh_token</c>, <c>access_token</c>. Names are compared case-insensitively with
/// <c>_</c> and <c>-</c> ignored, so <c>secretAccessKey</c> and <c>private-key</c> count too. The whole value of a secret
/// property is protected, whatever its type; null stays null.
/// </para>
/// </summary>
public sealed class DestinationConfigs(IDataProtectionProvider provider, DestinationKindRegistry kinds)
{
    public const string Purpose = "Apertur.DestinationSecrets.v1";

    /// <summary>What a secret value reads as in API answers; sent back in a PATCH it keeps the stored secret.</summary>
    public const string MaskText = "********";

    private const string ProtectedProperty = "$protected";

    private static readonly string[] SecretFragments =
        ["secret", "password", "passphrase", "private_key", "token", "sas", "account_key", "connection_string", "refresh_token", "access_token"];

    private readonly IDataProtector _protector = provider.CreateProtector(Purpose);

    /// <summary>True when a config property of this name holds a secret for the kind.</summary>
    public bool IsSecret(string kind, string name)
    {
        var normalised = Normalise(name);
        return SecretFragments.Any(f => normalised.Contains(Normalise(f), StringComparison.Ordinal))
            || (kinds.Find(kind) is { } descriptor
                && descriptor.SecretFields.Concat(descriptor.OtherSecretNames).Any(n => Normalise(n) == normalised));
    }

    /// <summary>The config as stored: every secret value protected. 400 when the client sends <c>$protected</c> itself.</summary>
    public string Protect(string kind, JsonElement config)
    {
        var node = JsonNode.Parse(config.GetRawText());
        RejectMarkers(node);
        return ProtectTree(kind, node)?.ToJsonString() ?? "null";
    }

    /// <summary>The stored config with secrets decrypted, for adapters and the delivery worker.</summary>
    /// <exception cref="CryptographicException">The key ring cannot open a stored secret (master key changed or lost).</exception>
    public JsonElement Reveal(string stored) => ToElement(RevealTree(JsonNode.Parse(stored)));

    /// <summary>The stored config as API answers show it: every secret value is <see cref="MaskText"/>.</summary>
    public JsonElement Mask(string kind, string stored) => ToElement(MaskTree(kind, JsonNode.Parse(stored)));

    /// <summary>
    /// A PATCH of <c>config</c>, returned in stored form: a JSON Merge Patch (RFC 7396) of <paramref name="patch"/> onto the
    /// stored config. Fields absent from the patch are kept, null removes a field, objects merge field by field, and a secret
    /// field sent as <see cref="MaskText"/> keeps its stored value (untouched ciphertext). A non-object patch replaces all.
    /// </summary>
    public string Merge(string kind, string stored, JsonElement patch)
    {
        var incoming = JsonNode.Parse(patch.GetRawText());
        RejectMarkers(incoming);
        return MergeTree(kind, JsonNode.Parse(stored), incoming)?.ToJsonString() ?? "null";
    }

    private JsonNode? MergeTree(string kind, JsonNode? stored, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return ProtectTree(kind, patch);
        }
        var current = stored as JsonObject ?? [];
        var result = new JsonObject();
        foreach (var (name, value) in current)
        {
            if (!patchObject.TryGetPropertyValue(name, out var change))
            {
                result[name] = value?.DeepClone();
            }
            else if (change is not null)
            {
                result[name] = Merged(kind, name, value, change);
            }
            // A null in the patch removes the field.
        }
        foreach (var (name, value) in patchObject)
        {
            if (!current.ContainsKey(name) && value is not null && !(IsSecret(kind, name) && IsMask(value)))
            {
                // A mask with nothing stored keeps nothing: the mask is never taken as a secret.
                result[name] = IsSecret(kind, name) ? ProtectValue(value) : ProtectTree(kind, value);
            }
        }
        return result;
    }

    /// <summary>One field present both in the stored config and in the patch.</summary>
    private JsonNode? Merged(string kind, string name, JsonNode? stored, JsonNode change)
    {
        if (IsSecret(kind, name))
        {
            return IsMask(change) ? stored?.DeepClone() : ProtectValue(change);
        }
        return change is JsonObject && stored is JsonObject storedObject && ProtectedText(storedObject) is null
            ? MergeTree(kind, stored, change)
            : ProtectTree(kind, change);
    }

    private JsonNode? ProtectTree(string kind, JsonNode? node) => node switch
    {
        JsonObject obj => Rebuild(obj, (name, value) => value is not null && IsSecret(kind, name) ? ProtectValue(value) : ProtectTree(kind, value)),
        JsonArray array => new JsonArray(array.Select(item => ProtectTree(kind, item)).ToArray()),
        _ => node?.DeepClone(),
    };

    private JsonObject ProtectValue(JsonNode value) => new() { [ProtectedProperty] = _protector.Protect(value.ToJsonString()) };

    private JsonNode? RevealTree(JsonNode? node) => node switch
    {
        // Not walked further: what was protected comes back exactly as the client sent it.
        JsonObject obj when ProtectedText(obj) is { } ciphertext => JsonNode.Parse(_protector.Unprotect(ciphertext)),
        JsonObject obj => Rebuild(obj, (_, value) => RevealTree(value)),
        JsonArray array => new JsonArray(array.Select(RevealTree).ToArray()),
        _ => node?.DeepClone(),
    };

    /// <summary>Masks protected values, and also plain values under secret names (rows written before or outside this class).</summary>
    private JsonNode? MaskTree(string kind, JsonNode? node) => node switch
    {
        JsonObject obj when ProtectedText(obj) is not null => JsonValue.Create(MaskText),
        JsonObject obj => Rebuild(obj, (name, value) => value is not null && IsSecret(kind, name) ? JsonValue.Create(MaskText) : MaskTree(kind, value)),
        JsonArray array => new JsonArray(array.Select(item => MaskTree(kind, item)).ToArray()),
        _ => node?.DeepClone(),
    };

    private static JsonObject Rebuild(JsonObject obj, Func<string, JsonNode?, JsonNode?> map)
    {
        var copy = new JsonObject();
        foreach (var (name, value) in obj)
        {
            copy[name] = map(name, value);
        }
        return copy;
    }

    private static string? ProtectedText(JsonObject obj) =>
        obj.Count == 1 && obj.TryGetPropertyValue(ProtectedProperty, out var v) && v is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : null;

    private static bool IsMask(JsonNode value) => value is JsonValue v && v.TryGetValue<string>(out var s) && s == MaskText;

    private static void RejectMarkers(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    if (name == ProtectedProperty)
                    {
                        throw ApiException.BadRequest($"config may not contain a '{ProtectedProperty}' field.");
                    }
                    RejectMarkers(value);
                }
                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    RejectMarkers(item);
                }
                break;
        }
    }

    private static string Normalise(string name) => name.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

    private static JsonElement ToElement(JsonNode? node) => JsonSerializer.SerializeToElement(node);
}
