using System.Globalization;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.Tests.Infrastructure;
using Apertur.Tests;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Apertur.Destinations.Tests.Webhooks;

/// <summary>Each body format byte for byte, rebuilt independently from what a real receiver got.</summary>
public sealed class WebhookFormatTests : ReceiverTests
{

    private async Task<ReceivedRequest> DeliverAsync(string? format, byte[] bytes, string filename = "IMG_0001.jpg", string mimeType = "image/jpeg")
    {
        var result = await Hooks.Destination(Http, Clock).DeliverAsync(
            Hooks.Request(Receiver.Url(), format, Hooks.Image(bytes, filename, mimeType)), CancellationToken.None);
        result.ShouldBeOfType<DeliveryResult.Delivered>().StatusCode.ShouldBe(200);
        var request = Receiver.Only();
        request.Header("Content-Length").ShouldBe(request.Body.Length.ToString(CultureInfo.InvariantCulture));
        return request;
    }

    [Fact]
    public async Task DeliverAsync_Binary_SendsTheImageBytesAsOctetStreamWithTheMimeTypeInAHeader()
    {
        var bytes = Hooks.ImageBytes(300_001);
        var request = await DeliverAsync("binary", bytes, mimeType: "image/png");

        request.Method.ShouldBe("POST");
        request.Path.ShouldBe("/hook");
        request.Header("Content-Type").ShouldBe("application/octet-stream");
        request.Header("X-Aptr-Mime-Type").ShouldBe("image/png");
        request.Body.ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_MultipartIsTheDefault_OneFieldPerTagThenTheImagePart()
    {
        var bytes = Hooks.ImageBytes(200_000);
        var request = await DeliverAsync(null, bytes, filename: "IMG 0001 été.jpg");

        var contentType = MediaTypeHeaderValue.Parse(request.Header("Content-Type"));
        contentType.MediaType.ToString().ShouldBe("multipart/form-data");
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).ToString();
        boundary.ShouldBe("apertur-" + Hooks.DeliveryId.ToString("N"));

        var reader = new MultipartReader(boundary, new MemoryStream(request.Body));
        var fields = new List<(string, string)>();
        byte[]? file = null;
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            var disposition = ContentDispositionHeaderValue.Parse(section.ContentDisposition);
            disposition.DispositionType.ToString().ShouldBe("form-data");
            using var content = new MemoryStream();
            await section.Body.CopyToAsync(content);
            if (disposition.FileName.HasValue)
            {
                file.ShouldBeNull();
                HeaderUtilities.RemoveQuotes(disposition.Name).ToString().ShouldBe("image");
                HeaderUtilities.RemoveQuotes(disposition.FileName).ToString().ShouldBe("IMG 0001 été.jpg");
                section.ContentType.ShouldBe("image/jpeg");
                file = content.ToArray();
            }
            else
            {
                file.ShouldBeNull("tag fields come before the image part");
                fields.Add((HeaderUtilities.RemoveQuotes(disposition.Name).ToString(), Encoding.UTF8.GetString(content.ToArray())));
            }
        }
        fields.ShouldBe([("user", "123"), ("odoo", "res.partner:42"), ("vip", "")]);
        file.ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_JsonBase64_FieldsInOrderTagsAsObjectDataIsTheImage()
    {
        var bytes = Hooks.ImageBytes(100_001); // not a multiple of 3: the last group is padded
        var request = await DeliverAsync("json_base64", bytes);

        request.Header("Content-Type").ShouldBe("application/json");
        using var json = JsonDocument.Parse(request.Body);
        var root = json.RootElement;
        root.EnumerateObject().Select(p => p.Name).ShouldBe(["session_id", "image_id", "image_index", "mime_type", "filename", "size_bytes", "tags", "data"]);
        root.GetProperty("session_id").GetString().ShouldBe(Hooks.SessionId.ToString());
        root.GetProperty("image_id").GetString().ShouldBe(Hooks.ImageId.ToString());
        root.GetProperty("image_index").GetInt32().ShouldBe(3);
        root.GetProperty("mime_type").GetString().ShouldBe("image/jpeg");
        root.GetProperty("filename").GetString().ShouldBe("IMG_0001.jpg");
        root.GetProperty("size_bytes").GetInt64().ShouldBe(bytes.Length);
        root.GetProperty("tags").EnumerateObject().Select(p => (p.Name, p.Value.GetString())).ShouldBe([("user", "123"), ("odoo", "res.partner:42"), ("vip", "")]);
        Convert.FromBase64String(root.GetProperty("data").GetString()!).ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_JsonBase64_DuplicateTagNamesGiveOneKeyLastValueWins()
    {
        var image = Hooks.Image(Hooks.ImageBytes(10), tags: ["a:1", "b", "a:2"]);
        (await Hooks.Destination(Http, Clock).DeliverAsync(Hooks.Request(Receiver.Url(), "json_base64", image), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();

        using var json = JsonDocument.Parse(Receiver.Only().Body);
        json.RootElement.GetProperty("tags").EnumerateObject().Select(p => (p.Name, p.Value.GetString())).ShouldBe([("a", "2"), ("b", "")]);
    }

    [Fact]
    public async Task DeliverAsync_EventJson_IsTheOdooPayloadWithoutImageBytes()
    {
        var request = await DeliverAsync("event_json", Hooks.ImageBytes(50_000));

        request.Header("Content-Type").ShouldBe("application/json");
        using var json = JsonDocument.Parse(request.Body);
        var root = json.RootElement;
        root.EnumerateObject().Select(p => p.Name).ShouldBe(["topic", "event", "data", "timestamp"]);
        root.GetProperty("topic").GetString().ShouldBe("image.delivered");
        root.GetProperty("event").GetString().ShouldBe("image.delivered");
        root.GetProperty("timestamp").GetString().ShouldBe("2026-11-01T09:30:15.123Z");
        root.TryGetProperty("params", out _).ShouldBeFalse("Odoo would pass a top-level params as keyword arguments");

        var data = root.GetProperty("data");
        data.EnumerateObject().Select(p => p.Name).ShouldBe(
            ["id", "filename", "size_bytes", "mime_type", "session_id", "image_index", "download_url", "tags", "metadata"]);
        data.GetProperty("id").GetString().ShouldBe(Hooks.ImageId.ToString());
        data.GetProperty("filename").GetString().ShouldBe("IMG_0001.jpg");
        data.GetProperty("size_bytes").GetInt64().ShouldBe(50_000);
        data.GetProperty("mime_type").GetString().ShouldBe("image/jpeg");
        data.GetProperty("session_id").GetString().ShouldBe(Hooks.SessionId.ToString());
        data.GetProperty("image_index").GetInt32().ShouldBe(3);
        data.GetProperty("download_url").GetString().ShouldBe($"https://apertur.example/api/v1/downloads/{Hooks.ImageId}?token=abc");
        data.GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(Hooks.Tags);
        var odoo = data.GetProperty("metadata").GetProperty("odoo");
        odoo.GetProperty("model").GetString().ShouldBe("res.partner");
        odoo.GetProperty("res_id").GetInt32().ShouldBe(42);
        odoo.GetProperty("mode").GetString().ShouldBe("contact");
        request.Body.Length.ShouldBeLessThan(1024);
    }

    [Fact]
    public async Task DeliverAsync_EventJsonWithoutMetadataOrDownloadUrl_SendsNulls()
    {
        var image = Hooks.Image(Hooks.ImageBytes(10), metadata: null) with { DownloadUrl = null };
        (await Hooks.Destination(Http, Clock).DeliverAsync(Hooks.Request(Receiver.Url(), "event_json", image), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();

        using var json = JsonDocument.Parse(Receiver.Only().Body);
        var data = json.RootElement.GetProperty("data");
        data.GetProperty("metadata").ValueKind.ShouldBe(JsonValueKind.Null);
        data.GetProperty("download_url").ValueKind.ShouldBe(JsonValueKind.Null);
    }

    [Theory]
    [InlineData("binary")]
    [InlineData("multipart")]
    [InlineData("json_base64")]
    [InlineData("event_json")]
    public async Task DeliverAsync_EveryFormat_CarriesTheDeliveryHeaders(string format)
    {
        var request = await DeliverAsync(format, Hooks.ImageBytes(1000));

        request.Header("X-Aptr-Session-Id").ShouldBe(Hooks.SessionId.ToString());
        request.Header("X-Aptr-Image-Index").ShouldBe("3");
        request.Header("X-Aptr-Image-Id").ShouldBe(Hooks.ImageId.ToString());
        request.Header("X-APTR-Delivery-ID").ShouldBe(Hooks.DeliveryId.ToString());
        request.Header("webhook-id").ShouldBe(Hooks.DeliveryId.ToString());
        request.Header("webhook-timestamp").ShouldBe(Clock.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        request.Header("User-Agent").ShouldBe("Apertur-Webhook/1.0");
        request.Header("X-Aptr-Signature").ShouldStartWith("sha256=");
        request.Header("X-Apertur-Signature").ShouldBe(request.Header("X-Aptr-Signature"));
        request.Header("webhook-signature").ShouldStartWith("v1,");
    }

    [Theory]
    [InlineData("binary")]
    [InlineData("multipart")]
    [InlineData("json_base64")]
    [InlineData("event_json")]
    public async Task DeliverAsync_SameDeliveryTwice_SameIdsAndIdenticalBodyFreshTimestamp(string format)
    {
        var destination = Hooks.Destination(Http, Clock);
        var bytes = Hooks.ImageBytes(70_000);
        (await destination.DeliverAsync(Hooks.Request(Receiver.Url(), format, Hooks.Image(bytes), attempt: 1), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();
        Clock.Advance(TimeSpan.FromMinutes(5));
        (await destination.DeliverAsync(Hooks.Request(Receiver.Url(), format, Hooks.Image(bytes), attempt: 2), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();

        var requests = Receiver.Requests.ToArray();
        requests.Length.ShouldBe(2);
        requests[1].Header("X-APTR-Delivery-ID").ShouldBe(requests[0].Header("X-APTR-Delivery-ID"));
        requests[1].Header("webhook-id").ShouldBe(requests[0].Header("webhook-id"));
        requests[1].Body.ShouldBe(requests[0].Body);
        requests[1].Header("X-Aptr-Signature").ShouldBe(requests[0].Header("X-Aptr-Signature"));
        long.Parse(requests[1].Header("webhook-timestamp"), CultureInfo.InvariantCulture)
            .ShouldBe(long.Parse(requests[0].Header("webhook-timestamp"), CultureInfo.InvariantCulture) + 300);
        requests[1].Header("webhook-signature").ShouldNotBe(requests[0].Header("webhook-signature"));
    }

    [Theory]
    [InlineData("binary")]
    [InlineData("multipart")]
    [InlineData("json_base64")]
    public async Task DeliverAsync_StoreReturnsShortUnevenReads_BodyIsTheSameAsFromWholeReads(string format)
    {
        var bytes = Hooks.ImageBytes(100_001);
        var destination = Hooks.Destination(Http, Clock);
        (await destination.DeliverAsync(Hooks.Request(Receiver.Url(), format, Hooks.Image(bytes)), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();
        var trickled = Hooks.Image(bytes) with { OpenReadAsync = _ => Task.FromResult<Stream>(new TrickleStream(bytes)) };
        (await destination.DeliverAsync(Hooks.Request(Receiver.Url(), format, trickled), CancellationToken.None))
            .ShouldBeOfType<DeliveryResult.Delivered>();

        var requests = Receiver.Requests.ToArray();
        requests[1].Body.ShouldBe(requests[0].Body);
        requests[1].Header("X-Aptr-Signature").ShouldBe(requests[0].Header("X-Aptr-Signature"));
    }

    /// <summary>A store that hands out 1 to 7 bytes per read, so chunks rarely line up with base64's 3-byte groups.</summary>
    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes, writable: false)
    {
        private int _reads;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1 + (_reads++ % 7))], cancellationToken);
    }

    [Fact]
    public async Task DeliverAsync_ImageShorterThanRecorded_RetriesLaterWithoutSending()
    {
        var bytes = Hooks.ImageBytes(1000);
        var image = Hooks.Image(bytes) with { SizeBytes = 1001 };

        var result = await Hooks.Destination(Http, Clock).DeliverAsync(Hooks.Request(Receiver.Url(), "binary", image), CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldContain("Could not read the image");
        Receiver.Requests.ShouldBeEmpty();
    }
}
