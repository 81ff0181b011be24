// The Shared Key authorization of the Blob service, written by hand: the Azure SDK (Azure.Storage.Blobs) does not restore
// from the package source this project builds with, and the scheme is one documented HMAC ("Authorize with Shared Key").
// Tested against Azurite, which verifies these signatures (a wrong key gets 403 AuthenticationFailed).

using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Apertur.Destinations.AzureBlob;

/// <summary>
/// Signs a Blob service request with an account key: <c>Authorization: SharedKey account:base64(HMAC-SHA256(key, StringToSign))</c>.
/// StringToSign is the verb, twelve standard headers (Content-Length empty when zero; Date empty because <c>x-ms-date</c> is
/// sent), the <c>x-ms-*</c> headers lowercased and sorted, and the canonicalized resource: <c>/account</c> + the encoded URI path
/// + each query parameter as <c>\nname:value</c> (names lowercased and sorted, values decoded). With a path-style endpoint
/// (Azurite's <c>http://127.0.0.1:10000/devstoreaccount1/…</c>) the account therefore appears twice, as Azure expects.
/// </summary>
public static class SharedKeySigner
{
    /// <summary>The Blob REST version every request names (<c>x-ms-version</c>).</summary>
    public const string Version = "2023-11-03";

    /// <summary>Adds <c>x-ms-date</c> and <c>x-ms-version</c> when missing, then the <c>Authorization</c> header.</summary>
    public static void Sign(HttpRequestMessage request, string account, byte[] key, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(key);
        if (!request.Headers.Contains("x-ms-date"))
        {
            request.Headers.TryAddWithoutValidation("x-ms-date", now.UtcDateTime.ToString("R", CultureInfo.InvariantCulture));
        }
        if (!request.Headers.Contains("x-ms-version"))
        {
            request.Headers.TryAddWithoutValidation("x-ms-version", Version);
        }
        var signature = Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(StringToSign(request, account))));
        request.Headers.Authorization = new AuthenticationHeaderValue("SharedKey", $"{account}:{signature}");
    }

    /// <summary>The exact text that is signed (public so tests can show it).</summary>
    public static string StringToSign(HttpRequestMessage request, string account)
    {
        ArgumentNullException.ThrowIfNull(request);
        var content = request.Content?.Headers;
        var length = content?.ContentLength is > 0 and var l ? l.ToString(CultureInfo.InvariantCulture) : "";
        var text = new StringBuilder()
            .Append(request.Method.Method).Append('\n')
            .Append(Header(request, "Content-Encoding")).Append('\n')
            .Append(Header(request, "Content-Language")).Append('\n')
            .Append(length).Append('\n')
            .Append(Header(request, "Content-MD5")).Append('\n')
            .Append(Header(request, "Content-Type")).Append('\n')
            .Append('\n') // Date: x-ms-date is sent instead
            .Append(Header(request, "If-Modified-Since")).Append('\n')
            .Append(Header(request, "If-Match")).Append('\n')
            .Append(Header(request, "If-None-Match")).Append('\n')
            .Append(Header(request, "If-Unmodified-Since")).Append('\n')
            .Append(Header(request, "Range")).Append('\n');
        AppendCanonicalHeaders(text, request);
        AppendCanonicalResource(text, request.RequestUri ?? throw new ArgumentException("The request has no URI.", nameof(request)), account);
        return text.ToString();
    }

    private static void AppendCanonicalHeaders(StringBuilder text, HttpRequestMessage request)
    {
        var headers = request.Headers.AsEnumerable();
        if (request.Content is not null)
        {
            headers = headers.Concat(request.Content.Headers);
        }
        foreach (var (name, values) in headers
            .Where(h => h.Key.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            .Select(h => (Name: h.Key.ToLowerInvariant(), Values: h.Value))
            .OrderBy(h => h.Name, StringComparer.Ordinal))
        {
            text.Append(name).Append(':').Append(Unfold(string.Join(",", values))).Append('\n');
        }
    }

    private static void AppendCanonicalResource(StringBuilder text, Uri uri, string account)
    {
        text.Append('/').Append(account).Append(uri.AbsolutePath.Length > 0 ? uri.AbsolutePath : "/");
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return;
        }
        var parameters = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).ToLowerInvariant();
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..]);
            if (!parameters.TryGetValue(name, out var list))
            {
                parameters[name] = list = [];
            }
            list.Add(value);
        }
        foreach (var (name, values) in parameters)
        {
            values.Sort(StringComparer.Ordinal);
            text.Append('\n').Append(name).Append(':').Append(string.Join(",", values));
        }
    }

    private static string Header(HttpRequestMessage request, string name)
    {
        if (request.Headers.TryGetValues(name, out var values) || (request.Content?.Headers.TryGetValues(name, out values) ?? false))
        {
            return string.Join(",", values);
        }
        return "";
    }

    /// <summary>Header values are trimmed and runs of whitespace (folding) become one space.</summary>
    private static string Unfold(string value)
    {
        var text = new StringBuilder(value.Length);
        var space = false;
        foreach (var c in value.Trim())
        {
            if (c is ' ' or '\t' or '\r' or '\n')
            {
                space = true;
                continue;
            }
            if (space)
            {
                text.Append(' ');
                space = false;
            }
            text.Append(c);
        }
        return text.ToString();
    }
}
