using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.S3;
using Apertur.Destinations.Storage;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.S3;

/// <summary>
/// The S3-compatible test server (fauxqs, started by scripts/services.sh on 127.0.0.1:54566, or APERTUR_S3_ENDPOINT) read
/// with plain HTTP, independently of AWSSDK.S3: path-style URLs, no signature (fauxqs checks none).
/// </summary>
public sealed class S3Store : IDisposable
{
    public static readonly Uri Endpoint = new(Environment.GetEnvironmentVariable("APERTUR_S3_ENDPOINT") ?? "http://127.0.0.1:54566");

    private readonly HttpClient _http = new() { BaseAddress = Endpoint, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A fresh bucket with a unique name.</summary>
    public async Task<string> NewBucketAsync()
    {
        var bucket = "apertur-" + Guid.NewGuid().ToString("N")[..20];
        using var response = await _http.PutAsync(bucket, null);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, $"creating bucket {bucket} at {Endpoint}");
        return bucket;
    }

    /// <summary>The object's bytes and headers; null when the server answers 404.</summary>
    public async Task<StoredObject?> GetAsync(string bucket, string key)
    {
        using var response = await _http.GetAsync($"{bucket}/{EscapeKey(key)}");
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        return new StoredObject(await response.Content.ReadAsByteArrayAsync(), headers);
    }

    /// <summary>Every key in the bucket (ListObjectsV2), with its size.</summary>
    public async Task<IReadOnlyList<(string Key, long Size)>> ListAsync(string bucket)
    {
        using var response = await _http.GetAsync($"{bucket}?list-type=2");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var xml = XDocument.Parse(await response.Content.ReadAsStringAsync());
        return xml.Descendants().Where(e => e.Name.LocalName == "Contents")
            .Select(c => (c.Elements().Single(e => e.Name.LocalName == "Key").Value, long.Parse(c.Elements().Single(e => e.Name.LocalName == "Size").Value,
                System.Globalization.CultureInfo.InvariantCulture)))
            .ToList();
    }

    /// <summary>The part sizes of a multipart object (GetObjectAttributes ObjectParts).</summary>
    public async Task<IReadOnlyList<long>> PartSizesAsync(string bucket, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{bucket}/{EscapeKey(key)}?attributes");
        request.Headers.Add("x-amz-object-attributes", "ObjectParts");
        using var response = await _http.SendAsync(request);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var xml = XDocument.Parse(await response.Content.ReadAsStringAsync());
        return xml.Descendants().Where(e => e.Name.LocalName == "Part")
            .Select(p => long.Parse(p.Elements().Single(e => e.Name.LocalName == "Size").Value, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();
    }

    public static string EscapeKey(string key) => string.Join('/', key.Split('/').Select(Uri.EscapeDataString));

    public void Dispose() => _http.Dispose();
}

public sealed record StoredObject(byte[] Bytes, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>Fixed deliveries and configs for the S3 tests.</summary>
internal static class S3Kit
{
    public static readonly Guid DeliveryId = Guid.Parse("01990a3e-7c41-7d2a-9b1e-4c6f0e2a8d11");
    public static readonly Guid ImageId = Guid.Parse("01990a3e-7b00-7e55-8a10-0f1e2d3c4b5a");
    public static readonly Guid SessionId = Guid.Parse("01990a3d-0000-7abc-9def-112233445566");
    public static readonly DateTimeOffset CreatedAt = new(2026, 11, 1, 9, 30, 15, 123, TimeSpan.Zero);

    public static OutboundGuard LoopbackGuard() => new(["127.0.0.1/32"]);

    public static S3Destination Destination(OutboundGuard? guard = null, TimeSpan? timeout = null, StorageTuning? tuning = null) =>
        new(guard ?? LoopbackGuard(), new ManualClock(), timeout, tuning);

    public static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>
    /// An image whose stream cannot seek and reports no length (as a pipe would), or with <paramref name="seekable"/> one
    /// that can (as the local image store's files do).
    /// </summary>
    public static DeliveryImage Image(byte[] bytes, int index = 3, string mimeType = "image/jpeg", string filename = "IMG_0001.jpg", long? sizeBytes = null,
        bool seekable = false) =>
        new(ImageId, SessionId, index, filename, mimeType, sizeBytes ?? bytes.LongLength, ["user:42"], null, null, CreatedAt,
            _ => Task.FromResult<Stream>(seekable ? new MemoryStream(bytes, writable: false) : new ForwardOnlyStream(bytes)), null);

    public static JsonElement Config(string bucket, Uri? endpoint = null, IDictionary<string, object?>? extra = null)
    {
        var config = new Dictionary<string, object?>
        {
            ["bucket"] = bucket,
            ["region"] = "eu-west-1",
            ["access_key_id"] = "AKIAAPERTURTEST",
            ["secret_access_key"] = "apertur-test-secret",
            ["endpoint"] = (endpoint ?? S3Store.Endpoint).AbsoluteUri,
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, object?>())
        {
            config[k] = v;
        }
        return JsonSerializer.SerializeToElement(config);
    }

    public static DestinationTarget Target(JsonElement config) =>
        new(Guid.Parse("01990a3c-1111-7222-8333-444455556666"), DestinationKinds.S3, "Bucket", config);

    public static DeliveryRequest Request(JsonElement config, DeliveryImage image, int attempt = 1) =>
        new(DeliveryId, attempt, image, Target(config), new ProjectSigning("whsec_unused", null));
}

/// <summary>A read-only stream that cannot seek and does not know its length.</summary>
internal sealed class ForwardOnlyStream(byte[] bytes) : Stream
{
    private int _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = Math.Min(count, bytes.Length - _position);
        Array.Copy(bytes, _position, buffer, offset, n);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
