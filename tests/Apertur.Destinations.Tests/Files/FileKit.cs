using System.Text.Json;
using Apertur.Destinations.Outbound;

namespace Apertur.Destinations.Tests.Files;

/// <summary>Images, configs and requests for the sftp, ftp and webdav adapter tests.</summary>
internal static class FileKit
{
    public static readonly Guid SessionId = Guid.Parse("01990a3d-0000-7abc-9def-112233445566");
    public static readonly DateTimeOffset CreatedAt = new(2026, 11, 1, 9, 30, 15, 123, TimeSpan.Zero);

    /// <summary>The SSRF guard as the tests' server configures it: loopback allowed explicitly.</summary>
    public static OutboundGuard LoopbackGuard() => new(["127.0.0.1/32"]);

    public static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static DeliveryImage Image(byte[] bytes, int index = 3, string mimeType = "image/jpeg", Guid? id = null, string filename = "IMG 0001.jpg") =>
        new(id ?? Guid.CreateVersion7(), SessionId, index, filename, mimeType, bytes.LongLength, ["user:42", "vip"], null, null, CreatedAt,
            _ => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false)), null);

    public static JsonElement Config(object values) => JsonSerializer.SerializeToElement(values);

    public static DeliveryRequest Request(string kind, JsonElement config, DeliveryImage image, int attempt = 1) =>
        new(Guid.CreateVersion7(), attempt, image, Target(kind, config), new ProjectSigning("whsec_x", null));

    public static DestinationTarget Target(string kind, JsonElement config) => new(Guid.CreateVersion7(), kind, "Files", config);
}
