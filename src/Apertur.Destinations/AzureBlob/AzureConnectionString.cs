// Azure Storage connection strings, parsed by hand: the Azure SDK (Azure.Storage.Blobs) does not restore from the package
// source this project builds with, and the format is small and documented
// ("Configure Azure Storage connection strings"): Key=Value pairs separated by ';'.

namespace Apertur.Destinations.AzureBlob;

/// <summary>
/// What an Azure Storage connection string says about Blob storage: the account, its key or a SAS, and the Blob endpoint
/// (<c>BlobEndpoint</c>, or built from <c>DefaultEndpointsProtocol</c> and <c>EndpointSuffix</c>).
/// <c>UseDevelopmentStorage=true</c> means the emulator's well-known account on <c>http://127.0.0.1:10000</c>.
/// </summary>
public sealed record AzureConnectionString(string? AccountName, string? AccountKey, string? SharedAccessSignature, Uri? BlobEndpoint)
{
    /// <summary>The emulator's published account (Azurite, the Azure Storage Emulator).</summary>
    public const string DevelopmentAccount = "devstoreaccount1";

    /// <summary>The emulator's published key: a constant in Microsoft's documentation, not a secret.</summary>
    public const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Parses a connection string; null and a problem in words when it cannot be used for Blob storage.</summary>
    public static AzureConnectionString? Parse(string text, out string? problem)
    {
        problem = null;
        var pairs = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                problem = "config.connection_string is not a connection string: expected Key=Value pairs separated by ';' (AccountName=…;AccountKey=…).";
                return null;
            }
            // A SAS value contains '=' itself: only the first one separates the key.
            pairs[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        if (pairs.TryGetValue("UseDevelopmentStorage", out var development) && bool.TryParse(development, out var useDevelopment) && useDevelopment)
        {
            var proxy = pairs.TryGetValue("DevelopmentStorageProxyUri", out var p) && Uri.TryCreate(p, UriKind.Absolute, out var proxyUri)
                ? proxyUri
                : new Uri("http://127.0.0.1");
            return new AzureConnectionString(DevelopmentAccount, DevelopmentKey, null,
                new Uri($"{proxy.Scheme}://{proxy.Host}:10000/{DevelopmentAccount}"));
        }

        var account = pairs.GetValueOrDefault("AccountName");
        var key = pairs.GetValueOrDefault("AccountKey");
        var sas = pairs.GetValueOrDefault("SharedAccessSignature");
        Uri? endpoint = null;
        if (pairs.TryGetValue("BlobEndpoint", out var blobEndpoint))
        {
            if (!Uri.TryCreate(blobEndpoint, UriKind.Absolute, out endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                problem = $"config.connection_string: BlobEndpoint '{blobEndpoint}' is not an absolute http or https URL.";
                return null;
            }
        }
        else if (account is not null)
        {
            var protocol = pairs.GetValueOrDefault("DefaultEndpointsProtocol") ?? "https";
            var suffix = pairs.GetValueOrDefault("EndpointSuffix") ?? "core.windows.net";
            if (protocol is not ("http" or "https") || !Uri.TryCreate($"{protocol}://{account}.blob.{suffix}", UriKind.Absolute, out endpoint))
            {
                problem = "config.connection_string: DefaultEndpointsProtocol must be http or https and EndpointSuffix a domain (core.windows.net).";
                return null;
            }
        }
        if (key is null && sas is null)
        {
            problem = "config.connection_string has neither AccountKey nor SharedAccessSignature.";
            return null;
        }
        if (account is null && endpoint is null)
        {
            problem = "config.connection_string names neither AccountName nor BlobEndpoint.";
            return null;
        }
        return new AzureConnectionString(account, key, sas, endpoint);
    }

    /// <summary>Never shows the key or the SAS: records print their members.</summary>
    public override string ToString() => $"AzureConnectionString {{ AccountName = {AccountName}, BlobEndpoint = {BlobEndpoint} }}";
}
