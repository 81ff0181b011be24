using System.Globalization;
using System.Net;
using System.Xml.Linq;
using Apertur.Destinations.AzureBlob;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Shouldly;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// The S3-compatible server the tests use (fauxqs, started by scripts/services.sh on 127.0.0.1:54566, or APERTUR_S3_ENDPOINT),
/// read back with plain HTTP, independently of AWSSDK.S3: path-style URLs, no signature (fauxqs checks none).
/// </summary>
public sealed class S3Server : IDisposable
{
    public static readonly Uri Endpoint = new(Environment.GetEnvironmentVariable("APERTUR_S3_ENDPOINT") ?? "http://127.0.0.1:54566");

    private readonly HttpClient _http = new() { BaseAddress = Endpoint, Timeout = TimeSpan.FromSeconds(30) };

    public async Task<string> NewBucketAsync()
    {
        var bucket = "apertur-e2e-" + Guid.NewGuid().ToString("N")[..16];
        await CreateBucketAsync(bucket);
        return bucket;
    }

    public async Task CreateBucketAsync(string bucket)
    {
        using var response = await _http.PutAsync(bucket, null);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, $"creating bucket {bucket} at {Endpoint}");
    }

    /// <summary>Deletes the bucket and every object in it (what an operator's mistake or an outage looks like to a server).</summary>
    public async Task DeleteBucketAsync(string bucket)
    {
        foreach (var key in await ListAsync(bucket))
        {
            using var deleted = await _http.DeleteAsync($"{bucket}/{string.Join('/', key.Split('/').Select(Uri.EscapeDataString))}");
        }
        using var response = await _http.DeleteAsync(bucket);
        response.IsSuccessStatusCode.ShouldBeTrue($"deleting bucket {bucket} at {Endpoint}");
    }

    public async Task<byte[]?> GetAsync(string bucket, string key)
    {
        using var response = await _http.GetAsync($"{bucket}/{string.Join('/', key.Split('/').Select(Uri.EscapeDataString))}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsByteArrayAsync();
    }

    public async Task<IReadOnlyList<string>> ListAsync(string bucket)
    {
        using var response = await _http.GetAsync($"{bucket}?list-type=2");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return XDocument.Parse(await response.Content.ReadAsStringAsync()).Descendants()
            .Where(e => e.Name.LocalName == "Key").Select(e => e.Value).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>An s3 destination config for this server and bucket, as a client would send it.</summary>
    public static string Config(string bucket, string? keyTemplate = null) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["bucket"] = bucket,
            ["region"] = "eu-west-1",
            ["access_key_id"] = "AKIAAPERTURE2E",
            ["secret_access_key"] = "e2e-secret-access-key",
            ["endpoint"] = Endpoint.AbsoluteUri,
            ["force_path_style"] = true,
            ["key_template"] = keyTemplate,
        }.Where(p => p.Value is not null).ToDictionary());

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// The Azure Blob server the tests use (Azurite on 127.0.0.1:50000, or APERTUR_AZURITE_ENDPOINT). Containers are made
/// publicly readable so blobs are read back anonymously, without the adapter's signer.
/// </summary>
public sealed class AzuriteServer : IDisposable
{
    public const string Account = AzureBlobConfig.DevelopmentAccount;
    public const string Key = AzureBlobConfig.DevelopmentKey;

    public static readonly Uri Endpoint = new(Environment.GetEnvironmentVariable("APERTUR_AZURITE_ENDPOINT") ?? "http://127.0.0.1:50000/devstoreaccount1");

    private static string Base => Endpoint.AbsoluteUri.TrimEnd('/');

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly BlobServiceClient _service = new(Endpoint, new StorageSharedKeyCredential(Account, Key));

    public async Task<string> NewContainerAsync()
    {
        var container = "apertur-e2e-" + Guid.NewGuid().ToString("N")[..16];
        // Set-up through the Azure SDK directly, not through the adapter under test.
        await _service.GetBlobContainerClient(container).CreateAsync(PublicAccessType.BlobContainer);
        return container;
    }

    /// <summary>The blob's bytes, read anonymously; null on 404.</summary>
    public async Task<byte[]?> GetAsync(string container, string blob)
    {
        using var response = await _http.GetAsync($"{Base}/{container}/{string.Join('/', blob.Split('/').Select(Uri.EscapeDataString))}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>The names in the container (List Blobs, anonymous: the container is public).</summary>
    public async Task<IReadOnlyList<string>> ListAsync(string container)
    {
        using var response = await _http.GetAsync($"{Base}/{container}?restype=container&comp=list");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return XDocument.Parse(await response.Content.ReadAsStringAsync()).Descendants("Name").Select(e => e.Value)
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>An azure_blob destination config with the account key, as a client would send it.</summary>
    public static string Config(string container, string? key = null, string? blobTemplate = null, string? endpoint = null) =>
        System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["account_name"] = Account,
            ["container_name"] = container,
            ["account_key"] = key ?? Key,
            ["endpoint"] = endpoint ?? Endpoint.AbsoluteUri,
            ["blob_template"] = blobTemplate,
        }.Where(p => p.Value is not null).ToDictionary());

    public void Dispose() => _http.Dispose();
}

/// <summary>The sample photos an end-to-end test uploads, with the extension their type gets in templated names.</summary>
public static class SamplePhotos
{
    public static readonly IReadOnlyList<(string Fixture, string Ext)> All =
        [("phone-photo.jpg", "jpg"), ("photo.webp", "webp"), ("photo.heic", "heic"), ("small.jpg", "jpg"), ("screenshot.png", "png")];

    public static string Format(int value) => value.ToString(CultureInfo.InvariantCulture);
}
