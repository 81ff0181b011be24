using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Apertur.IntegrationTests.Contract;

/// <summary>
/// Sends requests the way the official .NET SDK (v0.1.6) puts them on the wire
/// (docs/api.md describes what the server expects): bearer auth on every call, Dictionary bodies serialised as-is
/// (keys untouched) as <c>application/json; charset=utf-8</c>, no body at all when there are no options, multipart
/// through <c>MultipartFormDataContent.Add(content, "file", filename)</c> (which adds <c>filename*</c>), raw byte
/// downloads, and its error parsing (message and code must be JSON strings). The SDK itself is not a dependency.
/// </summary>
public sealed class DotnetSdkWire(HttpClient http, string? bearer)
{
    private static readonly JsonSerializerOptions SdkJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    public async Task<JsonElement> JsonAsync(HttpMethod method, string path, Dictionary<string, object?>? body = null,
        Dictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(method, path);
        Apply(request, headers);
        if (body is not null)
        {
            request.Content = new StringContent(JsonSerializer.Serialize(body, SdkJson), Encoding.UTF8, "application/json");
        }
        using var response = await http.SendAsync(request);
        return await ReadAsync(response);
    }

    public async Task<byte[]> RawAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        Apply(request, null);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            await ThrowAsync(response);
        }
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary><c>Upload.ImageAsync(uuid, stream, filename, mimeType, source, password)</c>.</summary>
    public async Task<JsonElement> UploadAsync(string uuid, byte[] bytes, string filename = "image.jpg", string mimeType = "image/jpeg",
        string? source = null, string? password = null)
    {
        using var content = new MultipartFormDataContent();
        var file = new StreamContent(new MemoryStream(bytes));
        file.Headers.ContentType = new MediaTypeHeaderValue(mimeType);
        content.Add(file, "file", filename);
        if (source is not null)
        {
            content.Add(new StringContent(source), "source");
        }
        return await MultipartAsync(uuid, content, password is null ? null : new() { ["x-session-password"] = password });
    }

    /// <summary><c>Upload.ImageEncryptedAsync</c>: variant A, the envelope as a file part named image.jpg.enc.</summary>
    public async Task<JsonElement> UploadEncryptedAsync(string uuid, byte[] image, string publicKeyPem, string? source = null)
    {
        var aesKey = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(12);
        var cipher = new byte[image.Length];
        var tag = new byte[16];
        using (var aes = new AesGcm(aesKey, 16))
        {
            aes.Encrypt(iv, image, cipher, tag);
        }
        using var rsa = RSA.Create();
        rsa.ImportFromPem(publicKeyPem);
        var envelope = JsonSerializer.Serialize(new
        {
            encryptedKey = Convert.ToBase64String(rsa.Encrypt(aesKey, RSAEncryptionPadding.OaepSHA256)),
            iv = Convert.ToBase64String(iv),
            encryptedData = Convert.ToBase64String([.. cipher, .. tag]),
            algorithm = "RSA-OAEP+AES-256-GCM",
        });
        using var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(envelope));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Add(file, "file", "image.jpg.enc");
        if (source is not null)
        {
            content.Add(new StringContent(source), "source");
        }
        return await MultipartAsync(uuid, content, new() { ["X-Aptr-Encrypted"] = "default" });
    }

    private async Task<JsonElement> MultipartAsync(string uuid, MultipartFormDataContent content, Dictionary<string, string>? headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/upload/{uuid}/images") { Content = content };
        Apply(request, headers);
        using var response = await http.SendAsync(request);
        return await ReadAsync(response);
    }

    private void Apply(HttpRequestMessage request, Dictionary<string, string>? headers)
    {
        if (!string.IsNullOrEmpty(bearer))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        foreach (var (k, v) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(k, v);
        }
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            await ThrowAsync(response);
        }
        if (response.StatusCode == System.Net.HttpStatusCode.NoContent)
        {
            return default;
        }
        // The SDK deserialises every non-204 body: an empty or non-JSON 2xx body would throw here.
        return JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync(), SdkJson);
    }

    private static async Task ThrowAsync(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        string message;
        string? code = null;
        try
        {
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            message = doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? $"HTTP {status}" : $"HTTP {status}";
            if (doc.RootElement.TryGetProperty("code", out var c))
            {
                code = c.GetString();
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            message = $"HTTP {status}";
        }
        int? retryAfter = response.Headers.TryGetValues("Retry-After", out var values) && int.TryParse(values.FirstOrDefault(), out var ra) ? ra : null;
        throw new SdkException(status, message, code, retryAfter);
    }
}

/// <summary>What the SDK's exceptions would carry.</summary>
public sealed class SdkException(int status, string message, string? code, int? retryAfter) : Exception(message)
{
    public int Status { get; } = status;
    public string? Code { get; } = code;
    public int? RetryAfter { get; } = retryAfter;
}
