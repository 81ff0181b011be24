using System.Globalization;
using Apertur.Server.Hosting;

namespace Apertur.Server.Uploads;

/// <summary>What an upload turned out to be once its bytes were checked.</summary>
public sealed record InspectedImage(string MimeType, int Width, int Height);

/// <summary>The checks every upload's plaintext goes through, encrypted or not: empty, type by magic bytes, session types, size in pixels.</summary>
public static class ImageInspection
{
    public static InspectedImage Inspect(string path, long sizeBytes, string[] allowedMimeTypes, UploadLimits limits)
    {
        if (sizeBytes == 0)
        {
            throw ApiException.BadRequest("The file is empty (0 bytes). Choose a photo and try again.", "EMPTY_FILE");
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 16 * 1024);
        var head = new byte[Math.Min(ImageSniffer.HeadLength, sizeBytes)];
        stream.ReadExactly(head);
        var sniffed = ImageSniffer.Sniff(head);
        if (sniffed.MimeType is not { } mimeType)
        {
            throw UnsupportedType($"The file is {sniffed.Description}. Only JPEG, PNG, WebP and HEIC images are accepted.");
        }
        if (!allowedMimeTypes.Contains(mimeType))
        {
            throw UnsupportedType($"The file is {sniffed.Description} ({mimeType}), but this session accepts only {string.Join(", ", allowedMimeTypes)}.");
        }

        var size = ImageHeaders.Read(stream, mimeType);
        var longer = Math.Max(size.Width, size.Height);
        if (longer > limits.MaxDimension)
        {
            throw DimensionExceeded($"The image is {Describe(size)}; the longer side may be at most {limits.MaxDimension} pixels. Resize it and try again.");
        }
        if ((long)size.Width * size.Height > limits.MaxPixels)
        {
            throw DimensionExceeded($"The image is {Describe(size)}; at most {limits.MaxPixels / 1_000_000.0:0.#} megapixels are accepted.");
        }
        return new InspectedImage(mimeType, size.Width, size.Height);
    }

    private static string Describe(ImageSize size) => string.Create(CultureInfo.InvariantCulture, $"{size.Width}×{size.Height} pixels");

    private static ApiException UnsupportedType(string message) => new(415, "UNSUPPORTED_MEDIA_TYPE", message);

    private static ApiException DimensionExceeded(string message) => new(422, "IMAGE_DIMENSION_EXCEEDED", message);
}
