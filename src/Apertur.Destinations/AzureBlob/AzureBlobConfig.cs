using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Web;
using Apertur.Destinations.Storage;
using Azure.Storage.Blobs;

namespace Apertur.Destinations.AzureBlob;

/// <summary>
/// An <c>azure_blob</c> destination's config: <c>account_name</c>, <c>container_name</c>, exactly one of <c>sas_token</c>,
/// <c>account_key</c> or <c>connection_string</c>, <c>blob_template</c> (default <c>uploads/{session_id}/{image_index}.{ext}</c>),
/// optional <c>endpoint</c> (sovereign clouds, Azurite's <c>http://127.0.0.1:10000/devstoreaccount1</c>) and
/// <c>access_tier</c> (<c>Hot</c>, <c>Cool</c>, <c>Cold</c>, <c>Archive</c>). A connection string may supply the account name
/// and the endpoint (the Azure SDK reads where its Blob endpoint is); a SAS may be pasted as the whole SAS URL.
/// </summary>
/// <param name="AccountKey">The account key as base64 text (checked to decode), or null with a SAS.</param>
/// <param name="SasToken">The SAS query without its leading <c>?</c>, or null with an account key.</param>
/// <param name="SasExpires">The SAS's <c>se</c> field: when it stops working.</param>
public sealed partial record AzureBlobConfig(
    string AccountName,
    string ContainerName,
    Uri Endpoint,
    string? AccountKey,
    string? SasToken,
    DateTimeOffset? SasExpires,
    string BlobTemplate,
    string? AccessTier) : IDestinationConfig<AzureBlobConfig>
{
    public const string DefaultBlobTemplate = "uploads/{session_id}/{image_index}.{ext}";

    /// <summary>The emulator's published account (Azurite, the Azure Storage Emulator): <c>UseDevelopmentStorage=true</c>.</summary>
    public const string DevelopmentAccount = "devstoreaccount1";

    /// <summary>The emulator's published key: a constant in Microsoft's documentation, not a secret.</summary>
    public const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    public static readonly IReadOnlyList<string> Tiers = ["Hot", "Cool", "Cold", "Archive"];

    private static readonly string[] CredentialFields = ["sas_token", "account_key", "connection_string"];

    /// <summary>Parses the config; on failure <paramref name="problems"/> says, in words, what to fix.</summary>
    public static bool TryParse(JsonElement config, [NotNullWhen(true)] out AzureBlobConfig? parsed, out IReadOnlyList<string> problems)
    {
        parsed = null;
        var read = new StorageConfigReader(config,
            "config must be a JSON object with account_name, container_name and one of sas_token, account_key or connection_string.");
        problems = read.Problems;
        if (!read.IsObject)
        {
            return false;
        }

        var given = CredentialFields.Where(read.Has).ToList();
        if (given.Count != 1)
        {
            read.Problem(given.Count == 0
                ? "config needs one credential: sas_token (a SAS with write permission), account_key, or connection_string."
                : $"config has {string.Join(" and ", given)}: give only one credential.");
        }

        ConnectionString? connection = null;
        if (read.OptionalText("connection_string") is { } connectionText)
        {
            connection = ReadConnectionString(connectionText, out var problem);
            if (problem is not null)
            {
                read.Problem(problem);
            }
        }

        var account = read.OptionalText("account_name") ?? connection?.AccountName;
        if (account is null)
        {
            read.Problem("config.account_name is required: the storage account's name.");
        }
        else if (!AccountNamePattern().IsMatch(account))
        {
            read.Problem($"config.account_name '{account}' is not a storage account name: 3 to 24 lowercase letters and digits.");
        }
        else if (connection?.AccountName is { } named && read.Has("account_name") && named != account)
        {
            read.Problem($"config.account_name '{account}' differs from AccountName '{named}' in config.connection_string.");
        }

        var container = read.RequiredText("container_name", "the blob container's name");
        if (container is not null && (!ContainerNamePattern().IsMatch(container) || container.Contains("--", StringComparison.Ordinal)))
        {
            read.Problem($"config.container_name '{container}' is not a container name: 3 to 63 lowercase letters, digits and single hyphens, starting with a letter or digit.");
        }

        string? key = null;
        if ((read.OptionalText("account_key") ?? connection?.AccountKey) is { } keyText)
        {
            key = IsKey(keyText) ? keyText : null;
            if (key is null)
            {
                read.Problem("config.account_key is not an account key: it is the base64 text shown under Access keys.");
            }
        }
        string? sas = null;
        DateTimeOffset? expires = null;
        var sasSetting = read.Has("sas_token") ? "sas_token" : "connection_string";
        if ((read.OptionalText("sas_token") ?? (key is null ? connection?.SharedAccessSignature : null)) is { } sasText)
        {
            sas = ReadSas(sasText, sasSetting, out expires, out var problem);
            if (problem is not null)
            {
                read.Problem(problem);
            }
        }

        var endpoint = read.HttpUrl("endpoint") ?? connection?.BlobEndpoint;
        if (endpoint is null && account is not null && AccountNamePattern().IsMatch(account))
        {
            endpoint = new Uri($"https://{account}.blob.core.windows.net");
        }
        var template = read.Template("blob_template", DefaultBlobTemplate);
        var tier = read.OptionalText("access_tier");
        if (tier is not null)
        {
            var known = Tiers.FirstOrDefault(t => string.Equals(t, tier, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                read.Problem($"config.access_tier must be one of {string.Join(", ", Tiers)} (got '{tier}').");
            }
            tier = known;
        }

        if (read.Problems.Count > 0 || account is null || container is null || endpoint is null || template is null || (key is null && sas is null))
        {
            return false;
        }
        parsed = new AzureBlobConfig(account, container, endpoint, key, sas, expires, template, tier);
        return true;
    }

    /// <summary>The blob's URL (no SAS): the endpoint, the container and each segment of the name escaped.</summary>
    public Uri BlobUrl(string blobName) =>
        new($"{Endpoint.AbsoluteUri.TrimEnd('/')}/{ContainerName}/{string.Join('/', blobName.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>Never shows the key or the SAS: records print their members.</summary>
    public override string ToString() => $"AzureBlobConfig {{ AccountName = {AccountName}, ContainerName = {ContainerName}, Endpoint = {Endpoint} }}";

    private static bool IsKey(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out var written) && written >= 16;

    /// <summary>What a connection string says about Blob storage: the account, its key or SAS, and the Blob endpoint.</summary>
    private sealed record ConnectionString(string? AccountName, string? AccountKey, string? SharedAccessSignature, Uri? BlobEndpoint);

    /// <summary>
    /// Reads a connection string: its <c>Key=Value</c> pairs for the account and the credential, and the Azure SDK's own reading
    /// for the Blob endpoint (<c>BlobEndpoint</c>, or built from <c>DefaultEndpointsProtocol</c> and <c>EndpointSuffix</c>;
    /// <c>UseDevelopmentStorage=true</c> is the emulator on <c>http://127.0.0.1:10000</c>). Null and a problem when unusable.
    /// </summary>
    private static ConnectionString? ReadConnectionString(string text, out string? problem)
    {
        problem = null;
        var pairs = new DbConnectionStringBuilder();
        try
        {
            pairs.ConnectionString = text;
        }
        catch (ArgumentException)
        {
            problem = "config.connection_string is not a connection string: expected Key=Value pairs separated by ';' (AccountName=…;AccountKey=…).";
            return null;
        }
        string? Value(string name) => pairs.TryGetValue(name, out var value) && value?.ToString()?.Trim() is { Length: > 0 } found ? found : null;

        var development = bool.TryParse(Value("UseDevelopmentStorage"), out var useDevelopment) && useDevelopment;
        var account = development ? DevelopmentAccount : Value("AccountName");
        var key = development ? DevelopmentKey : Value("AccountKey");
        var sas = Value("SharedAccessSignature");
        if (key is null && sas is null)
        {
            problem = "config.connection_string has neither AccountKey nor SharedAccessSignature.";
            return null;
        }
        Uri endpoint;
        try
        {
            endpoint = new BlobServiceClient(text).Uri;
        }
        catch (FormatException)
        {
            problem = account is null && Value("BlobEndpoint") is null
                ? "config.connection_string names neither AccountName nor BlobEndpoint."
                : "config.connection_string: DefaultEndpointsProtocol must be http or https and EndpointSuffix a domain (core.windows.net).";
            return null;
        }
        if (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)
        {
            problem = $"config.connection_string: BlobEndpoint '{Value("BlobEndpoint")}' is not an absolute http or https URL.";
            return null;
        }
        // The SDK's endpoint carries the connection string's SAS as its query: the SAS goes with the credential instead.
        return new ConnectionString(account, key, sas, new Uri(endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/')));
    }

    /// <summary>
    /// A SAS as configured (<c>sv=…&amp;sp=…&amp;se=…&amp;sig=…</c>, with or without the leading <c>?</c>, or the whole SAS URL),
    /// checked for the fields Azure requires and the write permission; returns the query without its <c>?</c>.
    /// </summary>
    private static string? ReadSas(string text, string setting, out DateTimeOffset? expires, out string? problem)
    {
        expires = null;
        problem = null;
        var query = text.Trim();
        var mark = query.IndexOf('?', StringComparison.Ordinal);
        if (mark >= 0)
        {
            // A whole SAS URL pasted: keep its query.
            query = query[(mark + 1)..];
        }
        var fields = HttpUtility.ParseQueryString(query);
        if (fields["sig"] is null || fields["sv"] is null)
        {
            problem = $"config.{setting} is not a SAS token: it needs at least sv=… and sig=… (copy the whole token from the portal or az storage … generate-sas).";
            return null;
        }
        if (fields["se"] is { } se)
        {
            if (!DateTimeOffset.TryParse(se, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                problem = $"config.{setting}: its expiry se='{se}' is not a date.";
                return null;
            }
            expires = parsed;
        }
        if (fields["sp"] is { } permissions && !permissions.Contains('w', StringComparison.Ordinal))
        {
            problem = $"config.{setting} does not allow writing (sp={permissions}): delivering needs the write (w) permission, and create (c) for new blobs.";
            return null;
        }
        return query;
    }

    [GeneratedRegex("^[a-z0-9]{3,24}$")]
    private static partial Regex AccountNamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex ContainerNamePattern();
}
