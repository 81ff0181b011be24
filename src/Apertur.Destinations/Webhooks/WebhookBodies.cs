using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

using Apertur.Destinations.Storage;

namespace Apertur.Destinations.Webhooks;

/// <summary>
/// A webhook body that can be written any number of times, byte-identically: once into the signing sink, once to the
/// network, and again on a redelivery. Everything in it derives from the delivery (the multipart boundary from the
/// delivery id, event_json's timestamp from the image's creation), never from the attempt. Image bytes are streamed
/// through fixed 64 KB buffers, so memory stays bounded whatever the image size.
/// </summary>
internal abstract class WebhookBody
{
    /// <summary>The full <c>Content-Type</c> header value.</summary>
    public abstract string ContentType { get; }

    /// <summary>Headers this format adds to the delivery headers (binary: the image's MIME type).</summary>
    public virtual IReadOnlyList<(string Name, string Value)> Headers => [];

    public abstract Task WriteToAsync(Stream destination, CancellationToken ct);

    public static WebhookBody For(WebhookFormat format, Guid deliveryId, DeliveryImage image) => format switch
    {
        WebhookFormat.Binary => new BinaryBody(image),
        WebhookFormat.Multipart => new MultipartBody(image, deliveryId),
        WebhookFormat.JsonBase64 => new JsonBase64Body(image),
        WebhookFormat.EventJson => new BytesBody(EventJson.ImageDelivered(image), "application/json"),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };
}

/// <summary>A small body already in memory (event_json, the test event).</summary>
internal sealed class BytesBody(byte[] bytes, string contentType) : WebhookBody
{
    public override string ContentType => contentType;

    public override Task WriteToAsync(Stream destination, CancellationToken ct) => destination.WriteAsync(bytes, ct).AsTask();
}

/// <summary>
/// <c>binary</c>: the image bytes as they are, as <c>application/octet-stream</c>; the image's MIME type travels in
/// <c>X-Aptr-Mime-Type</c> (docs/webhooks.md).
/// </summary>
internal sealed class BinaryBody(DeliveryImage image) : WebhookBody
{
    public override string ContentType => "application/octet-stream";

    public override IReadOnlyList<(string Name, string Value)> Headers => [("X-Aptr-Mime-Type", image.MimeType)];

    public override Task WriteToAsync(Stream destination, CancellationToken ct) => CheckedImageStream.CopyToAsync(image, destination, ct);
}

/// <summary>
/// <c>multipart</c>: one text field per tag (split on the first <c>:</c>, docs/api.md "Image webhooks"), then the file part <c>image</c>.
/// Names are escaped as browsers do (RFC 7578 / WHATWG: <c>"</c>, CR and LF percent-encoded).
/// </summary>
internal sealed class MultipartBody : WebhookBody
{
    private readonly DeliveryImage _image;
    private readonly string _boundary;
    private readonly byte[] _head;
    private readonly byte[] _tail;

    public MultipartBody(DeliveryImage image, Guid deliveryId)
    {
        _image = image;
        _boundary = "apertur-" + deliveryId.ToString("N");
        var head = new StringBuilder();
        foreach (var (name, value) in Tags.Pairs(image.Tags))
        {
            head.Append("--").Append(_boundary).Append("\r\n")
                .Append("Content-Disposition: form-data; name=\"").Append(Escape(name)).Append("\"\r\n\r\n")
                .Append(value).Append("\r\n");
        }
        head.Append("--").Append(_boundary).Append("\r\n")
            .Append("Content-Disposition: form-data; name=\"image\"; filename=\"").Append(Escape(image.Filename)).Append("\"\r\n")
            .Append("Content-Type: ").Append(image.MimeType).Append("\r\n\r\n");
        _head = Encoding.UTF8.GetBytes(head.ToString());
        _tail = Encoding.UTF8.GetBytes("\r\n--" + _boundary + "--\r\n");
    }

    public override string ContentType => "multipart/form-data; boundary=" + _boundary;

    public override async Task WriteToAsync(Stream destination, CancellationToken ct)
    {
        await destination.WriteAsync(_head, ct).ConfigureAwait(false);
        await CheckedImageStream.CopyToAsync(_image, destination, ct).ConfigureAwait(false);
        await destination.WriteAsync(_tail, ct).ConfigureAwait(false);
    }

    private static string Escape(string value) =>
        value.Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal).Replace("\"", "%22", StringComparison.Ordinal);
}

/// <summary>
/// <c>json_base64</c>: <c>{"session_id",…,"tags":{…},"data":"&lt;base64&gt;"}</c>. <c>data</c> comes last so the base64
/// can be encoded as a stream: the image is read in chunks, each a multiple of 3 bytes, and encoded as it goes.
/// </summary>
internal sealed class JsonBase64Body : WebhookBody
{
    private const int InputChunk = 48 * 1024; // a multiple of 3; encodes to exactly 64 KB
    private const int OutputChunk = InputChunk / 3 * 4;
    private static readonly byte[] Tail = "\"}"u8.ToArray();

    private readonly DeliveryImage _image;
    private readonly byte[] _head;

    public JsonBase64Body(DeliveryImage image)
    {
        _image = image;
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("session_id", image.SessionId.ToString());
            json.WriteString("image_id", image.Id.ToString());
            json.WriteNumber("image_index", image.Index);
            json.WriteString("mime_type", image.MimeType);
            json.WriteString("filename", image.Filename);
            json.WriteNumber("size_bytes", image.SizeBytes);
            json.WriteStartObject("tags");
            foreach (var (name, value) in Tags.Object(image.Tags))
            {
                json.WriteString(name, value);
            }
            json.WriteEndObject();
            // The writer is left waiting for data's value: the string is streamed by hand below.
            json.WritePropertyName("data");
            json.Flush();
        }
        _head = [.. buffer.WrittenSpan, (byte)'"'];
    }

    public override string ContentType => "application/json";

    public override async Task WriteToAsync(Stream destination, CancellationToken ct)
    {
        await destination.WriteAsync(_head, ct).ConfigureAwait(false);
        var input = ArrayPool<byte>.Shared.Rent(InputChunk);
        var output = ArrayPool<byte>.Shared.Rent(OutputChunk);
        try
        {
            await using var reader = await CheckedImageStream.OpenAsync(_image, ct).ConfigureAwait(false);
            var pending = 0;
            while (true)
            {
                var read = await reader.ReadAsync(input.AsMemory(pending, InputChunk - pending), ct).ConfigureAwait(false);
                var final = read == 0;
                var available = pending + read;
                var written = Encode(input.AsSpan(0, available), output, final, out var consumed);
                await destination.WriteAsync(output.AsMemory(0, written), ct).ConfigureAwait(false);
                pending = available - consumed;
                input.AsSpan(consumed, pending).CopyTo(input);
                if (final)
                {
                    break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
        await destination.WriteAsync(Tail, ct).ConfigureAwait(false);
    }

    /// <summary>Encodes whole 3-byte groups (all of it when final); returns the bytes written.</summary>
    private static int Encode(ReadOnlySpan<byte> input, Span<byte> output, bool final, out int consumed)
    {
        Base64.EncodeToUtf8(input, output, out consumed, out var written, isFinalBlock: final);
        return written;
    }
}

/// <summary>The event-shaped JSON bodies: event_json (what the Odoo plugin parses, docs/webhooks.md) and the test event.</summary>
internal static class EventJson
{
    public const string ImageDeliveredTopic = "image.delivered";
    public const string TestTopic = "webhook.test";

    /// <summary>
    /// <c>{"topic","event","data":{…},"timestamp"}</c>; the timestamp is the image's creation, not the attempt, so a
    /// redelivery is byte-identical.
    /// </summary>
    public static byte[] ImageDelivered(DeliveryImage image) => Write(ImageDeliveredTopic, image.CreatedAt, json =>
    {
        json.WriteString("id", image.Id.ToString());
        json.WriteString("filename", image.Filename);
        json.WriteNumber("size_bytes", image.SizeBytes);
        json.WriteString("mime_type", image.MimeType);
        json.WriteString("session_id", image.SessionId.ToString());
        json.WriteNumber("image_index", image.Index);
        if (image.DownloadUrl is { } url)
        {
            json.WriteString("download_url", url.AbsoluteUri);
        }
        else
        {
            json.WriteNull("download_url");
        }
        json.WriteStartArray("tags");
        foreach (var tag in image.Tags)
        {
            json.WriteStringValue(tag);
        }
        json.WriteEndArray();
        json.WritePropertyName("metadata");
        WriteMetadata(json, image.MetadataJson);
    });

    public static byte[] Test(DestinationTarget target, DateTimeOffset now) => Write(TestTopic, now, json =>
    {
        json.WriteString("destination_id", target.Id.ToString());
        json.WriteString("destination_name", target.Name);
        json.WriteString("message", "A test event from Apertur. Image deliveries to this URL carry the same signature headers.");
    });

    public static string Timestamp(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static byte[] Write(string topic, DateTimeOffset timestamp, Action<Utf8JsonWriter> data)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("topic", topic);
            json.WriteString("event", topic);
            json.WriteStartObject("data");
            data(json);
            json.WriteEndObject();
            json.WriteString("timestamp", Timestamp(timestamp));
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The session's metadata object as stored; null when absent or not a JSON object (Odoo reads it as a dict).</summary>
    private static void WriteMetadata(Utf8JsonWriter json, string? metadataJson)
    {
        if (!string.IsNullOrWhiteSpace(metadataJson))
        {
            try
            {
                using var document = JsonDocument.Parse(metadataJson);
                if (document.RootElement.ValueKind == JsonValueKind.Object)
                {
                    document.RootElement.WriteTo(json);
                    return;
                }
            }
            catch (JsonException)
            {
                // Stored metadata that is not JSON is sent as null rather than failing every delivery.
            }
        }
        json.WriteNullValue();
    }
}

/// <summary>A tag <c>user:123</c> is the pair (<c>user</c>, <c>123</c>); a tag without <c>:</c> maps to "".</summary>
internal static class Tags
{
    public static IEnumerable<(string Name, string Value)> Pairs(IEnumerable<string> tags) =>
        tags.Select(tag => tag.IndexOf(':', StringComparison.Ordinal) is var colon and >= 0
            ? (tag[..colon], tag[(colon + 1)..])
            : (tag, ""));

    /// <summary>The pairs as a JSON object: one key each, in first-seen order, the last value winning.</summary>
    public static IReadOnlyList<(string Name, string Value)> Object(IEnumerable<string> tags)
    {
        var result = new List<(string Name, string Value)>();
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, value) in Pairs(tags))
        {
            if (positions.TryGetValue(name, out var at))
            {
                result[at] = (name, value);
            }
            else
            {
                positions[name] = result.Count;
                result.Add((name, value));
            }
        }
        return result;
    }
}
