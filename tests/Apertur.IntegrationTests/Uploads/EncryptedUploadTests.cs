using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Uploads;

public sealed class EncryptedUploadTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task ServerKey_BothPathsAndSpellings_GiveTheSameSpkiPem(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        using var anonymous = app.CreateClient();
        var pems = new List<string>();
        foreach (var path in new[] { "/api/v1/encryption/server-key", "/api/v1/encryption/key" })
        {
            using var response = await anonymous.GetAsync(path);
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            var body = await response.ReadJsonAsync();
            body.GetProperty("public_key").GetString().ShouldBe(body.GetProperty("publicKey").GetString());
            pems.Add(body.GetProperty("publicKey").GetString()!);
        }
        pems.Distinct().Count().ShouldBe(1);
        pems[0].ShouldStartWith("-----BEGIN PUBLIC KEY-----\n");
        pems[0].ShouldNotContain("\r");
        using var rsa = System.Security.Cryptography.RSA.Create();
        rsa.ImportFromPem(pems[0]);
        rsa.KeySize.ShouldBeGreaterThanOrEqualTo(2048);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_VariantA_MultipartEnvelope_DecryptsAndSniffsTheType(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        var png = Fixture.Bytes("screenshot.png");
        var envelope = UploadClient.Envelope(png, await app.Client.ServerKeyAsync());

        // Exactly what the .NET SDK sends: image.jpg.enc, application/octet-stream, whatever the real type.
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(envelope));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", "image.jpg.enc");
        form.Add(new StringContent("sdk"), "source");
        using var response = await app.Client.UploadAsync(session, form, encrypted: true);
        var body = await response.ReadJsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        body.GetProperty("filename").GetString().ShouldBe("image.png");
        body.GetProperty("mime_type").GetString().ShouldBe("image/png");
        body.GetProperty("size_bytes").GetInt64().ShouldBe(png.Length);
        await ShouldDownloadAsync(app, body, png);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_VariantsBAndC_JsonBodies_Decrypt(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        var pem = await app.Client.ServerKeyAsync();
        using var anonymous = app.CreateClient();
        var jpeg = Fixture.Bytes("small.jpg");

        foreach (var snake in new[] { false, true })
        {
            var envelope = UploadClient.Envelope(jpeg, pem, snake: snake);
            envelope["filename"] = snake ? "ruby.jpg" : "node.jpeg";
            envelope["mimeType"] = "image/png"; // a wrong claim: the type is sniffed
            envelope["source"] = "sdk";
            using var response = await anonymous.UploadAsync(session, JsonContent.Create(envelope), encrypted: true);
            var body = await response.ReadJsonAsync();
            response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
            body.GetProperty("filename").GetString().ShouldBe(snake ? "ruby.jpg" : "node.jpeg");
            body.GetProperty("mime_type").GetString().ShouldBe("image/jpeg");
            await ShouldDownloadAsync(app, body, jpeg);
        }
        var rows = await (await app.Client.GetAsync("/api/v1/uploads/recent")).ReadJsonAsync();
        rows.EnumerateArray().ShouldAllBe(r => r.GetProperty("isEncrypted").GetBoolean() && r.GetProperty("source").GetString() == "sdk");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_PhpStyleOaepSha1Key_Decrypts(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        var webp = Fixture.Bytes("photo.webp");
        var envelope = UploadClient.Envelope(webp, await app.Client.ServerKeyAsync(), sha1: true);
        envelope["filename"] = "php.webp";
        using var response = await app.Client.UploadAsync(session, JsonContent.Create(envelope), encrypted: true);
        var body = await response.ReadJsonAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, body.ToString());
        body.GetProperty("mime_type").GetString().ShouldBe("image/webp");
        await ShouldDownloadAsync(app, body, webp);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_BadEnvelopes_Answer400AndStoreNothing(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        var pem = await app.Client.ServerKeyAsync();
        var jpeg = Fixture.Bytes("small.jpg");

        var tampered = UploadClient.Envelope(jpeg, pem, tamperTag: true);
        var badBase64 = UploadClient.Envelope(jpeg, pem);
        badBase64["iv"] = "not base64!";
        var otherKey = UploadClient.Envelope(jpeg, System.Security.Cryptography.RSA.Create(3072).ExportSubjectPublicKeyInfoPem());
        var badAlgorithm = UploadClient.Envelope(jpeg, pem);
        badAlgorithm["algorithm"] = "ROT13";
        var missing = UploadClient.Envelope(jpeg, pem);
        missing.Remove("encryptedData");

        foreach (var (envelope, code) in new[]
        {
            (tampered, "DECRYPTION_FAILED"),
            (otherKey, "DECRYPTION_FAILED"),
            (badBase64, "INVALID_ENVELOPE"),
            (badAlgorithm, "INVALID_ENVELOPE"),
            (missing, "INVALID_ENVELOPE"),
        })
        {
            using var response = await app.Client.UploadAsync(session, JsonContent.Create(envelope), encrypted: true);
            response.StatusCode.ShouldBe(HttpStatusCode.BadRequest, code);
            (await response.ReadErrorCodeAsync()).ShouldBe(code);
        }
        using (var notJson = await app.Client.UploadAsync(session, new StringContent("{oops", Encoding.UTF8, "application/json"), encrypted: true))
        {
            notJson.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await notJson.ReadErrorCodeAsync()).ShouldBe("INVALID_ENVELOPE");
        }

        // Decrypted bytes go through the same checks as a plain upload.
        using var gif = await app.Client.UploadAsync(session, JsonContent.Create(UploadClient.Envelope(Fixture.Bytes("animation.gif"), pem)), encrypted: true);
        gif.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        app.TempFiles().ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_EncryptedOverTheLimit_Answers413(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var session = (await app.Client.CreateSessionAsync("""{"max_image_size_mb":1}""")).SessionId();
        var big = new byte[1024 * 1024 + 1];
        big[0] = 0xFF; big[1] = 0xD8; big[2] = 0xFF;
        var envelope = UploadClient.Envelope(big, await app.Client.ServerKeyAsync());
        using var response = await app.Client.UploadAsync(session, JsonContent.Create(envelope), encrypted: true);
        response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge);
        (await response.ReadErrorCodeAsync()).ShouldBe("FILE_TOO_LARGE");
        app.TempFiles().ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_ChunkedEnvelopeOverTheLimit_StopsReadingAtTheLimit(string db)
    {
        var counter = new BodyCounter();
        await using var app = await TestApp.StartAsync(db, services: s => s.AddSingleton<IStartupFilter>(counter));
        var session = (await app.Client.CreateSessionAsync("""{"max_image_size_mb":1}""")).SessionId();
        var big = new byte[8 * 1024 * 1024];
        big[0] = 0xFF; big[1] = 0xD8; big[2] = 0xFF;
        // Unescaped, as Node's JSON.stringify writes it: the body is then the base64 itself, byte for byte.
        var json = JsonSerializer.SerializeToUtf8Bytes(UploadClient.Envelope(big, await app.Client.ServerKeyAsync()), Unescaped);
        var envelope = new StreamContent(new UnseekableStream(json));
        envelope.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var part = new MultipartFormDataContent { { new StreamContent(new UnseekableStream(json)), "file", "image.jpg.enc" } };

        // The multipart reader reads ahead of the part by up to its 80 KB buffer.
        foreach (var (variant, content, readAhead) in new (string, HttpContent, int)[] { ("json body", envelope, 0), ("multipart part", part, 80 * 1024) })
        {
            counter.Watching = true;
            Interlocked.Exchange(ref counter.Read, 0);
            using var response = await app.Client.UploadAsync(session, content, encrypted: true);
            counter.Watching = false;
            response.StatusCode.ShouldBe(HttpStatusCode.RequestEntityTooLarge, variant);
            (await response.ReadErrorCodeAsync()).ShouldBe("FILE_TOO_LARGE");
            counter.ContentLength.ShouldBeNull(variant);
            // 1 MB of image and its tag are this much base64; the key material and framing before it take under 2 KB.
            var limit = (1024 * 1024 + 16 + 2) / 3 * 4;
            Interlocked.Read(ref counter.Read).ShouldBeLessThan(limit + 32 * 1024 + readAhead, variant);
        }
        app.TempFiles().ShouldBeEmpty();
    }

    private static readonly JsonSerializerOptions Unescaped = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Counts the bytes of the upload body the server reads.</summary>
    private sealed class BodyCounter : IStartupFilter
    {
        public long Read;
        public volatile bool Watching;
        public long? ContentLength;

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (context, nextMiddleware) =>
            {
                if (Watching && context.Request.Path.Value!.EndsWith("/images", StringComparison.Ordinal))
                {
                    ContentLength = context.Request.ContentLength;
                    context.Request.Body = new CountingStream(context.Request.Body, this);
                }
                await nextMiddleware(context);
            });
            next(app);
        };

        private sealed class CountingStream(Stream inner, BodyCounter counter) : Stream
        {
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));
            public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
                Counted(await inner.ReadAsync(buffer, cancellationToken));
            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

            private int Counted(int read)
            {
                Interlocked.Add(ref counter.Read, read);
                return read;
            }
        }
    }

    /// <summary>Hides the length so the body goes chunked and the server must count while streaming.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    private static async Task ShouldDownloadAsync(TestApp app, JsonElement uploaded, byte[] expected)
    {
        using var download = await app.Client.GetAsync($"/api/v1/uploads/{uploaded.GetProperty("id").GetString()}/download");
        download.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await download.Content.ReadAsByteArrayAsync()).ShouldBe(expected);
    }
}
