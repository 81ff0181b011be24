using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.Contract;

/// <summary>The official .NET SDK's calls, as it sends them, succeed and read what they expect (docs/api.md).</summary>
public sealed class DotnetSdkContractTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task SessionsUploadPollingAndStatus_WorkAsTheSdkCallsThem(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var sdk = new DotnetSdkWire(app.CreateClient(), app.LiveKey);

        // Sessions.CreateAsync() with no options sends no body; README reads "uuid".
        var bare = await sdk.JsonAsync(HttpMethod.Post, "/api/v1/upload-sessions");
        bare.GetProperty("uuid").GetString().ShouldNotBeNullOrEmpty();

        var created = await sdk.JsonAsync(HttpMethod.Post, "/api/v1/upload-sessions",
            new() { ["long_polling"] = true, ["max_images"] = 5, ["tags"] = new[] { "user:123" }, ["password"] = null });
        var uuid = created.GetProperty("uuid").GetString()!;

        // Sessions.GetAsync / UpdateAsync
        (await sdk.JsonAsync(HttpMethod.Get, $"/api/v1/upload/{uuid}/session")).GetProperty("status").GetString().ShouldBe("active");
        (await sdk.JsonAsync(HttpMethod.Patch, $"/api/v1/upload-sessions/{uuid}", new() { ["max_images"] = 6 }))
            .GetProperty("effectiveMaxImages").GetInt32().ShouldBe(6);

        // Sessions.QrAsync returns raw bytes (PNG by default).
        var qr = await sdk.RawAsync($"/api/v1/upload-sessions/{uuid}/qr");
        qr.Take(8).ShouldBe(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A });

        // Encryption.GetServerKeyAsync: README reads "public_key".
        var key = await sdk.JsonAsync(HttpMethod.Get, "/api/v1/encryption/server-key");
        var pem = key.GetProperty("public_key").GetString()!;
        pem.ShouldStartWith("-----BEGIN PUBLIC KEY-----");
        key.GetProperty("publicKey").GetString().ShouldBe(pem);

        // Upload.ImageAsync (plain) and ImageEncryptedAsync (variant A).
        var photo = Fixture.Bytes("phone-photo.jpg");
        var plain = await sdk.UploadAsync(uuid, photo, "phone-photo.jpg", source: "gallery");
        plain.GetProperty("id").GetString().ShouldNotBeNullOrEmpty();
        plain.GetProperty("filename").GetString().ShouldBe("phone-photo.jpg");
        plain.GetProperty("size_bytes").GetInt64().ShouldBe(photo.Length);
        plain.GetProperty("destinations").ValueKind.ShouldBe(JsonValueKind.Number);
        plain.GetProperty("long_polling").GetBoolean().ShouldBeTrue();
        var png = Fixture.Bytes("screenshot.png");
        var encrypted = await sdk.UploadEncryptedAsync(uuid, png, pem);
        encrypted.GetProperty("size_bytes").GetInt64().ShouldBe(png.Length);

        // Polling.ListAsync → DownloadAsync → AckAsync, as PollAndProcessAsync does.
        var images = (await sdk.JsonAsync(HttpMethod.Get, $"/api/v1/upload-sessions/{uuid}/poll")).GetProperty("images");
        images.GetArrayLength().ShouldBe(2);
        var first = images[0];
        first.GetProperty("id").GetString().ShouldBe(plain.GetProperty("id").GetString());
        (await sdk.RawAsync($"/api/v1/upload-sessions/{uuid}/images/{first.GetProperty("id").GetString()}")).ShouldBe(photo);
        (await sdk.RawAsync($"/api/v1/upload-sessions/{uuid}/images/{images[1].GetProperty("id").GetString()}")).ShouldBe(png);
        foreach (var image in images.EnumerateArray())
        {
            (await sdk.JsonAsync(HttpMethod.Post, $"/api/v1/upload-sessions/{uuid}/images/{image.GetProperty("id").GetString()}/ack"))
                .GetProperty("status").GetString().ShouldNotBeNullOrEmpty();
        }
        (await sdk.JsonAsync(HttpMethod.Get, $"/api/v1/upload-sessions/{uuid}/poll")).GetProperty("images").GetArrayLength().ShouldBe(0);

        // Sessions.DeliveryStatusAsync reads status, files, lastChanged; pollFrom is sent with Uri.EscapeDataString.
        var status = await sdk.JsonAsync(HttpMethod.Get, $"/api/v1/upload-sessions/{uuid}/delivery-status");
        status.GetProperty("status").GetString().ShouldBe("active");
        status.GetProperty("files").GetArrayLength().ShouldBe(2);
        var lastChanged = status.GetProperty("lastChanged").GetString()!;
        var old = await sdk.JsonAsync(HttpMethod.Get,
            $"/api/v1/upload-sessions/{uuid}/delivery-status?pollFrom={Uri.EscapeDataString("2020-01-01T00:00:00.000Z")}");
        old.GetProperty("lastChanged").GetString().ShouldBe(lastChanged);

        // Uploads / Sessions listings.
        (await sdk.JsonAsync(HttpMethod.Get, "/api/v1/uploads?page=1&pageSize=10")).GetProperty("total").GetInt32().ShouldBe(2);
        (await sdk.JsonAsync(HttpMethod.Get, "/api/v1/uploads/recent?limit=5")).GetArrayLength().ShouldBe(2);
        (await sdk.JsonAsync(HttpMethod.Get, "/api/v1/sessions/recent?limit=5")).GetArrayLength().ShouldBe(2);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Errors_ReachTheSdkAsStringMessageAndCode(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var sdk = new DotnetSdkWire(app.CreateClient(), app.LiveKey);
        var notFound = await Should.ThrowAsync<SdkException>(() => sdk.JsonAsync(HttpMethod.Get, $"/api/v1/upload/{Guid.CreateVersion7()}/session"));
        notFound.Status.ShouldBe(404);
        notFound.Message.ShouldNotStartWith("HTTP ");
        notFound.Code.ShouldBe("SESSION_NOT_FOUND");

        var uuid = (await sdk.JsonAsync(HttpMethod.Post, "/api/v1/upload-sessions", new() { ["password"] = "letmein" })).GetProperty("uuid").GetString()!;
        var forbidden = await Should.ThrowAsync<SdkException>(() => sdk.UploadAsync(uuid, Fixture.Bytes("small.jpg")));
        forbidden.Status.ShouldBe(403);
        forbidden.Code.ShouldBe("SESSION_PASSWORD_REQUIRED");
        (await sdk.UploadAsync(uuid, Fixture.Bytes("small.jpg"), password: "letmein")).GetProperty("id").GetString().ShouldNotBeNull();

        var unsupported = await Should.ThrowAsync<SdkException>(() => sdk.UploadAsync(uuid, Fixture.Bytes("pdf-named.jpg"), password: "letmein"));
        unsupported.Status.ShouldBe(415);
        unsupported.Code.ShouldBe("UNSUPPORTED_MEDIA_TYPE");

        var unauthenticated = new DotnetSdkWire(app.CreateClient(), "aptr_live_" + new string('z', 32));
        (await Should.ThrowAsync<SdkException>(() => unauthenticated.JsonAsync(HttpMethod.Post, "/api/v1/upload-sessions"))).Status.ShouldBe(401);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task DeleteSession_Answers204WithNoBody_TwiceAndDownloads410AsStringCode(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var sdk = new DotnetSdkWire(app.CreateClient(), app.LiveKey);
        var uuid = (await sdk.JsonAsync(HttpMethod.Post, "/api/v1/upload-sessions", new() { ["long_polling"] = true })).GetProperty("uuid").GetString()!;
        var imageId = (await sdk.UploadAsync(uuid, Fixture.Bytes("small.jpg"))).GetProperty("id").GetString()!;

        // docs/api.md "Conventions": every DELETE answers 204 with no body (the SDKs read no body on 204), the second one too.
        for (var call = 1; call <= 2; call++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, $"/api/v1/upload-sessions/{uuid}");
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", app.LiveKey);
            using var response = await app.CreateClient().SendAsync(request);
            response.StatusCode.ShouldBe(System.Net.HttpStatusCode.NoContent, $"call {call}");
            (await response.Content.ReadAsByteArrayAsync()).ShouldBeEmpty($"call {call}");
            response.Content.Headers.ContentType.ShouldBeNull($"call {call}");
        }
        (await sdk.JsonAsync(HttpMethod.Delete, $"/api/v1/upload-sessions/{uuid}")).ValueKind.ShouldBe(JsonValueKind.Undefined);

        var gone = await Should.ThrowAsync<SdkException>(() => sdk.RawAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}"));
        gone.Status.ShouldBe(410);
        gone.Code.ShouldBe("IMAGE_DELETED");
        gone.Message.ShouldNotStartWith("HTTP ");
    }
}
