using System.Globalization;
using System.Text.Json;

namespace Apertur.Server.Hosting;

/// <summary>
/// A request body read leniently (docs/api.md "Conventions"): no body, an empty body, <c>{}</c> and <c>[]</c> all mean
/// "no fields"; unknown fields are ignored; each field may have aliases. Type errors are 400 with a clear message.
/// </summary>
public sealed class JsonBody
{
    private const int MaxBytes = 1024 * 1024;
    private readonly JsonElement _root;

    private JsonBody(JsonElement root) => _root = root;

    public static JsonBody Empty { get; } = new(default);

    public static async Task<JsonBody> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength is > MaxBytes)
        {
            throw ApiException.BadRequest("The JSON body is too large.");
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBytes)
            {
                throw ApiException.BadRequest("The JSON body is too large.");
            }
        }
        if (buffer.Length == 0 || buffer.ToArray().All(b => b is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t'))
        {
            return Empty;
        }
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(buffer.ToArray());
        }
        catch (JsonException)
        {
            throw ApiException.BadRequest("The request body is not valid JSON.");
        }
        var root = doc.RootElement.Clone();
        doc.Dispose();
        return root.ValueKind switch
        {
            JsonValueKind.Object => new JsonBody(root),
            JsonValueKind.Array when root.GetArrayLength() == 0 => Empty, // PHP sends [] for "no options"
            JsonValueKind.Null => Empty,
            _ => throw ApiException.BadRequest("The request body must be a JSON object."),
        };
    }

    /// <summary>Parses a JSON object (already in memory) leniently, as <see cref="ReadAsync"/> does.</summary>
    public static JsonBody FromElement(JsonElement element) => element.ValueKind == JsonValueKind.Object ? new JsonBody(element) : Empty;

    /// <summary>True when any alias is present, even with a null value.</summary>
    public bool Has(params string[] names) => Find(names, out _);

    public string? Text(params string[] names)
    {
        if (!Find(names, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw TypeError(names[0], "a string");
    }

    public bool? Flag(params string[] names)
    {
        if (!Find(names, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw TypeError(names[0], "true or false"),
        };
    }

    public long? Number(params string[] names)
    {
        if (!Find(names, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n))
        {
            return n;
        }
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < long.MaxValue)
        {
            return (long)d;
        }
        if (v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out n))
        {
            return n;
        }
        throw TypeError(names[0], "an integer");
    }

    public string[]? TextArray(params string[] names)
    {
        if (!Find(names, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.Array)
        {
            throw TypeError(names[0], "an array of strings");
        }
        return v.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw TypeError(names[0], "an array of strings")).ToArray();
    }

    /// <summary>The raw element of the first present alias, or null.</summary>
    public JsonElement? Element(params string[] names) => Find(names, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    /// <summary>The body's fields other than <paramref name="excluded"/>, as one object (flat bodies, e.g. Ruby's destination create).</summary>
    public JsonElement Rest(params string[] excluded)
    {
        var rest = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (_root.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in _root.EnumerateObject())
            {
                if (!excluded.Contains(property.Name, StringComparer.Ordinal))
                {
                    rest[property.Name] = property.Value;
                }
            }
        }
        return JsonSerializer.SerializeToElement(rest);
    }

    private bool Find(string[] names, out JsonElement value)
    {
        if (_root.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in names)
            {
                if (_root.TryGetProperty(name, out value))
                {
                    return true;
                }
            }
        }
        value = default;
        return false;
    }

    private static ApiException TypeError(string field, string expected) => ApiException.BadRequest($"'{field}' must be {expected}.");
}
