// Shared access signatures for Blob storage, handled by hand: the Azure SDK (Azure.Storage.Blobs) does not restore from the
// package source this project builds with. A SAS is a signed query string that the account owner creates; using one is only
// appending it to each request URL, plus reading its expiry and permissions to explain a refusal before it happens.

using System.Globalization;

namespace Apertur.Destinations.AzureBlob;

/// <summary>
/// A SAS token as configured (<c>sv=…&amp;sp=…&amp;se=…&amp;sig=…</c>, with or without the leading <c>?</c>): checked once for the
/// fields Azure requires, then appended to every request URL. No <c>Authorization</c> header goes with it.
/// </summary>
public sealed class SasToken
{
    private SasToken(string query, DateTimeOffset? expires, string? permissions)
    {
        Query = query;
        Expires = expires;
        Permissions = permissions;
    }

    /// <summary>The token without its leading <c>?</c>.</summary>
    public string Query { get; }

    /// <summary>The <c>se</c> field: when the token stops working.</summary>
    public DateTimeOffset? Expires { get; }

    /// <summary>The <c>sp</c> field (<c>racwdl…</c>).</summary>
    public string? Permissions { get; }

    /// <summary>Parses a token; null and a problem in words when it is not one.</summary>
    public static SasToken? Parse(string text, string setting, out string? problem)
    {
        problem = null;
        var query = text.Trim();
        var mark = query.IndexOf('?', StringComparison.Ordinal);
        if (mark >= 0)
        {
            // A whole SAS URL pasted: keep its query.
            query = query[(mark + 1)..];
        }
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                fields[pair[..equals]] = Uri.UnescapeDataString(pair[(equals + 1)..]);
            }
        }
        if (!fields.ContainsKey("sig") || !fields.ContainsKey("sv"))
        {
            problem = $"config.{setting} is not a SAS token: it needs at least sv=… and sig=… (copy the whole token from the portal or az storage … generate-sas).";
            return null;
        }
        DateTimeOffset? expires = null;
        if (fields.TryGetValue("se", out var se))
        {
            if (!DateTimeOffset.TryParse(se, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                problem = $"config.{setting}: its expiry se='{se}' is not a date.";
                return null;
            }
            expires = parsed;
        }
        var permissions = fields.GetValueOrDefault("sp");
        if (permissions is not null && !permissions.Contains('w', StringComparison.Ordinal))
        {
            problem = $"config.{setting} does not allow writing (sp={permissions}): delivering needs the write (w) permission, and create (c) for new blobs.";
            return null;
        }
        return new SasToken(query, expires, permissions);
    }

    /// <summary>The URL with the token appended to its query.</summary>
    public Uri Apply(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        var builder = new UriBuilder(url);
        builder.Query = string.IsNullOrEmpty(builder.Query) || builder.Query == "?" ? Query : builder.Query.TrimStart('?') + "&" + Query;
        return builder.Uri;
    }

    /// <summary>Never shows the signature.</summary>
    public override string ToString() => $"SasToken {{ Expires = {Expires:O}, Permissions = {Permissions} }}";
}
