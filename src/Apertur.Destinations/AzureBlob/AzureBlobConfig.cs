using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apertur.Destinations.Storage;

namespace Apertur.Destinations.AzureBlob;

/// <summary>
/// An <c>azure_blob</c> destination's config: <c>account_name</c>, <c>container_name</c>, exactly one of <c>sas_token</c>,
/// <c>account_key</c> or <c>connection_string</c>, <c>blob_template</c> (default <c>uploads/{session_id}/{image_index}.{ext}</c>),
/// optional <c>endpoint</c> (sovereign clouds, Azurite's <c>http://127.0.0.1:10000/devstoreaccount1</c>) and
/// <c>access_tier</c> (<c>Hot</c>, <c>Cool</c>, <c>Cold</c>, <c>Archive</c>). A connection string may supply the account name
/// and the endpoint.
/// </summary>
public sealed partial record AzureBlobConfig(
    string AccountName,
    string ContainerName,
    Uri Endpoint,
    byte[]? AccountKey,
    SasToken? Sas,
    string BlobTemplate,
    string? AccessTier) : IDestinationConfig<AzureBlobConfig>
{
    public const string DefaultBlobTemplate = "uploads/{session_id}/{image_index}.{ext}";

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

        AzureConnectionString? connection = null;
        if (read.OptionalText("connection_string") is { } connectionText)
        {
            connection = AzureConnectionString.Parse(connectionText, out var problem);
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

        byte[]? key = null;
        if ((read.OptionalText("account_key") ?? connection?.AccountKey) is { } keyText)
        {
            key = DecodeKey(keyText);
            if (key is null)
            {
                read.Problem("config.account_key is not an account key: it is the base64 text shown under Access keys.");
            }
        }
        SasToken? sas = null;
        var sasSetting = read.Has("sas_token") ? "sas_token" : "connection_string";
        if ((read.OptionalText("sas_token") ?? (key is null ? connection?.SharedAccessSignature : null)) is { } sasText)
        {
            sas = SasToken.Parse(sasText, sasSetting, out var problem);
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
        parsed = new AzureBlobConfig(account, container, endpoint, key, sas, template, tier);
        return true;
    }

    /// <summary>The blob's URL (no SAS): the endpoint, the container and each segment of the name escaped.</summary>
    public Uri BlobUrl(string blobName) =>
        new($"{Endpoint.AbsoluteUri.TrimEnd('/')}/{ContainerName}/{string.Join('/', blobName.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>The container's URL (no SAS).</summary>
    public Uri ContainerUrl => new($"{Endpoint.AbsoluteUri.TrimEnd('/')}/{ContainerName}");

    /// <summary>Never shows the key or the SAS: records print their members.</summary>
    public override string ToString() => $"AzureBlobConfig {{ AccountName = {AccountName}, ContainerName = {ContainerName}, Endpoint = {Endpoint} }}";

    private static byte[]? DecodeKey(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) && written >= 16 ? buffer[..written] : null;
    }

    [GeneratedRegex("^[a-z0-9]{3,24}$")]
    private static partial Regex AccountNamePattern();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex ContainerNamePattern();
}
