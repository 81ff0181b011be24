using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Apertur.Destinations.AzureBlob;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Storage;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Apertur.Destinations.Tests.AzureBlob;

/// <summary>
/// The Azure Blob test server (Azurite, started by scripts/services.sh on 127.0.0.1:50000, or APERTUR_AZURITE_ENDPOINT) with its
/// published development account. Containers are created with public read access so the tests read blobs back anonymously,
/// with plain HTTP and no signature: independently of the adapter. Set-up (creating and listing containers) goes through the
/// Azure SDK directly, unguarded.
/// </summary>
public sealed class Azurite : IDisposable
{
    public const string Account = AzureBlobConfig.DevelopmentAccount;
    public const string Key = AzureBlobConfig.DevelopmentKey;

    public static readonly Uri Endpoint = new(Environment.GetEnvironmentVariable("APERTUR_AZURITE_ENDPOINT") ?? "http://127.0.0.1:50000/devstoreaccount1");

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly BlobServiceClient _service = new(Endpoint, new StorageSharedKeyCredential(Account, Key));

    public static string ConnectionString => $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={Key};BlobEndpoint={Endpoint.AbsoluteUri.TrimEnd('/')};";

    /// <summary>A fresh container, readable and listable anonymously (or private).</summary>
    public async Task<string> NewContainerAsync(bool publicRead = true)
    {
        var container = "apertur-" + Guid.NewGuid().ToString("N")[..20];
        await Container(container).CreateAsync(publicRead ? PublicAccessType.BlobContainer : PublicAccessType.None);
        return container;
    }

    /// <summary>The SDK's client for a container of the development account, for set-up and inspection.</summary>
    public BlobContainerClient Container(string container) => _service.GetBlobContainerClient(container);

    /// <summary>The blob's bytes and headers, read anonymously; null on 404.</summary>
    public async Task<StoredBlob?> GetAsync(string container, string blob)
    {
        using var response = await _http.GetAsync(BlobUrl(container, blob));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        return new StoredBlob(await response.Content.ReadAsByteArrayAsync(), headers);
    }

    /// <summary>Every blob in the container with its size (List Blobs; signed, so private containers can be listed too).</summary>
    public async Task<IReadOnlyList<(string Name, long Size)>> ListAsync(string container)
    {
        var blobs = new List<(string Name, long Size)>();
        await foreach (var blob in Container(container).GetBlobsAsync())
        {
            blobs.Add((blob.Name, blob.Properties.ContentLength ?? -1));
        }
        return blobs;
    }

    /// <summary>The committed blocks of a blob: ids and sizes (Get Block List, anonymous).</summary>
    public async Task<IReadOnlyList<(string Id, long Size)>> BlocksAsync(string container, string blob)
    {
        using var response = await _http.GetAsync(BlobUrl(container, blob) + "?comp=blocklist&blocklisttype=committed");
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var xml = XDocument.Parse(await response.Content.ReadAsStringAsync());
        return xml.Descendants("Block")
            .Select(b => (b.Element("Name")!.Value, long.Parse(b.Element("Size")!.Value, CultureInfo.InvariantCulture)))
            .ToList();
    }

    /// <summary>Azurite's endpoint with its host given as <paramref name="host"/> (a name that resolves to it, e.g. localhost).</summary>
    public static string EndpointNamed(string host) => new UriBuilder(Endpoint) { Host = host }.Uri.AbsoluteUri;

    public static string BlobUrl(string container, string blob) =>
        $"{Endpoint.AbsoluteUri.TrimEnd('/')}/{container}/{string.Join('/', blob.Split('/').Select(Uri.EscapeDataString))}";

    /// <summary>
    /// A service SAS for the container, computed here from Microsoft's published string-to-sign (version 2020-12-06 and
    /// later), independently of the adapter's code.
    /// </summary>
    public static string ContainerSas(string container, string permissions, DateTimeOffset expires, string key = Key)
    {
        const string version = "2022-11-02";
        var expiry = expires.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var stringToSign = string.Join("\n",
            permissions, "", expiry, $"/blob/{Account}/{container}", "", "", "", version, "c", "", "", "", "", "", "", "");
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(key), Encoding.UTF8.GetBytes(stringToSign)));
        return $"sv={version}&se={Uri.EscapeDataString(expiry)}&sr=c&sp={permissions}&sig={Uri.EscapeDataString(signature)}";
    }

    public void Dispose() => _http.Dispose();
}

public sealed record StoredBlob(byte[] Bytes, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>Fixed deliveries and configs for the Azure Blob tests.</summary>
internal static class BlobKit
{
    public static readonly Guid DeliveryId = Guid.Parse("01990a3e-7c41-7d2a-9b1e-4c6f0e2a8d11");
    public static readonly Guid ImageId = Guid.Parse("01990a3e-7b00-7e55-8a10-0f1e2d3c4b5a");
    public static readonly Guid SessionId = Guid.Parse("01990a3d-0000-7abc-9def-112233445566");
    public static readonly DateTimeOffset CreatedAt = new(2026, 11, 1, 9, 30, 15, 123, TimeSpan.Zero);

    public static HttpClient GuardedClient(OutboundGuard? guard = null) => new((guard ?? new OutboundGuard(["127.0.0.1/32"])).CreateHandler());

    /// <summary>The adapter on the real clock: Azurite checks SAS expiry against its own.</summary>
    public static AzureBlobDestination Destination(HttpClient http, TimeSpan? timeout = null, StorageTuning? tuning = null) =>
        new(http, TimeProvider.System, timeout, tuning);

    public static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static DeliveryImage Image(byte[] bytes, int index = 3, string mimeType = "image/jpeg", string filename = "IMG_0001.jpg", long? sizeBytes = null) =>
        new(ImageId, SessionId, index, filename, mimeType, sizeBytes ?? bytes.LongLength, ["user:42"], null, "Front desk", CreatedAt,
            _ => Task.FromResult<Stream>(new S3.ForwardOnlyStream(bytes)), null);

    /// <summary>A config with the account key (default), or whatever credential <paramref name="extra"/> sets instead.</summary>
    public static JsonElement Config(string container, IDictionary<string, object?>? extra = null, bool accountKey = true)
    {
        var config = new Dictionary<string, object?>
        {
            ["account_name"] = Azurite.Account,
            ["container_name"] = container,
            ["endpoint"] = Azurite.Endpoint.AbsoluteUri,
        };
        if (accountKey)
        {
            config["account_key"] = Azurite.Key;
        }
        foreach (var (k, v) in extra ?? new Dictionary<string, object?>())
        {
            config[k] = v;
        }
        return JsonSerializer.SerializeToElement(config);
    }

    public static DestinationTarget Target(JsonElement config) =>
        new(Guid.Parse("01990a3c-1111-7222-8333-444455556666"), DestinationKinds.AzureBlob, "Container", config);

    public static DeliveryRequest Request(JsonElement config, DeliveryImage image, int attempt = 1) =>
        new(DeliveryId, attempt, image, Target(config), new ProjectSigning("whsec_unused", null));
}
