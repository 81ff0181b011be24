using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;

namespace Apertur.IntegrationTests.Uploads;

/// <summary>Uploads the way the SDKs send them: multipart with a <c>file</c> part (and <c>source</c>), or encrypted envelopes.</summary>
public static class UploadClient
{
    public static string SessionId(this JsonElement created) => created.GetProperty("uuid").GetString()!;

    /// <summary>Multipart as .NET builds it: <c>filename</c> and <c>filename*</c>, the caller's MIME type, optional source.</summary>
    public static MultipartFormDataContent Multipart(byte[] bytes, string filename = "photo.jpg", string contentType = "image/jpeg",
        string? source = null, bool sourceFirst = false)
    {
        var form = new MultipartFormDataContent();
        if (source is not null && sourceFirst)
        {
            form.Add(new StringContent(source, Encoding.UTF8), "source");
        }
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", filename);
        if (source is not null && !sourceFirst)
        {
            form.Add(new StringContent(source, Encoding.UTF8), "source");
        }
        return form;
    }

    public static async Task<HttpResponseMessage> UploadAsync(this HttpClient client, string sessionId, HttpContent content,
        string? password = null, bool encrypted = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/upload/{sessionId}/images") { Content = content };
        if (password is not null)
        {
            request.Headers.Add("x-session-password", password);
        }
        if (encrypted)
        {
            request.Headers.Add("X-Aptr-Encrypted", "default");
        }
        return await client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> UploadAsync(this HttpClient client, string sessionId, byte[] bytes, string filename = "photo.jpg",
        string contentType = "image/jpeg", string? source = null, string? password = null) =>
        client.UploadAsync(sessionId, Multipart(bytes, filename, contentType, source), password);

    /// <summary>Uploads a fixture and insists on 201, returning the answer.</summary>
    public static async Task<JsonElement> UploadOkAsync(this HttpClient client, string sessionId, string fixture, string? source = null)
    {
        using var response = await client.UploadAsync(sessionId, Fixture.Bytes(fixture), fixture, source: source);
        var body = await response.ReadJsonAsync();
        return (int)response.StatusCode == 201 ? body : throw new InvalidOperationException($"upload answered {(int)response.StatusCode}: {body}");
    }

    /// <summary>The envelope of docs/api.md "Encrypted uploads" as the SDKs build it, keyed camelCase or snake_case.</summary>
    public static Dictionary<string, object> Envelope(byte[] plaintext, string publicKeyPem, bool sha1 = false, bool snake = false, bool tamperTag = false)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(12);
        var data = new byte[plaintext.Length + 16];
        using (var aes = new AesGcm(key, 16))
        {
            aes.Encrypt(iv, plaintext, data.AsSpan(0, plaintext.Length), data.AsSpan(plaintext.Length));
        }
        if (tamperTag)
        {
            data[^1] ^= 0x01;
        }
        using var rsa = RSA.Create();
        rsa.ImportFromPem(publicKeyPem);
        var wrapped = rsa.Encrypt(key, sha1 ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.OaepSHA256);
        return new Dictionary<string, object>
        {
            [snake ? "encrypted_key" : "encryptedKey"] = Convert.ToBase64String(wrapped),
            ["iv"] = Convert.ToBase64String(iv),
            [snake ? "encrypted_data" : "encryptedData"] = Convert.ToBase64String(data),
            ["algorithm"] = "RSA-OAEP+AES-256-GCM",
        };
    }

    public static async Task<string> ServerKeyAsync(this HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/encryption/server-key");
        return (await response.ReadJsonAsync()).GetProperty("publicKey").GetString()!;
    }

    public static string TempDirectory(this TestApp app) => Path.Combine(app.DataDirectory, "tmp");

    public static string[] TempFiles(this TestApp app) =>
        Directory.Exists(app.TempDirectory()) ? Directory.GetFiles(app.TempDirectory()) : [];
}
