using Apertur.Destinations;
using Apertur.Server.Sessions;
using Apertur.Server.Uploads;

namespace Apertur.Server.Images;

/// <summary>
/// What <see cref="ImageProcessor"/> makes of one image. The image is always turned upright (its EXIF orientation applied to
/// the pixels, the tag reset).
/// </summary>
/// <param name="OutputMimeType">The type written: JPEG, PNG or WebP.</param>
/// <param name="StripMetadata">EXIF, GPS, XMP, IPTC and comments removed; the ICC colour profile kept.</param>
/// <param name="MaxDimension">The longest side, aspect kept, never upscaled; null for the image's own size.</param>
/// <param name="Quality">The JPEG or WebP quality (1–100).</param>
public sealed record ImageEdit(string OutputMimeType, bool StripMetadata, int? MaxDimension, int Quality)
{
    /// <summary>
    /// What a destination's image options (docs/api.md "Image options") do to an image of this type and size; null when
    /// they leave it as it is, so it is delivered byte for byte: a PNG with only <c>convert_heic</c>, a photo already
    /// within <c>max_dimension</c> with nothing else asked. A HEIC image that is changed at all is written as JPEG (HEIC
    /// is not written here); <c>jpeg_quality</c> alone re-encodes JPEG images only.
    /// </summary>
    public static ImageEdit? For(DeliveryImageOptions options, string mimeType, ImageSize size)
    {
        ArgumentNullException.ThrowIfNull(options);
        var resize = options.MaxDimension is { } max && Math.Max(size.Width, size.Height) > max;
        var changed = mimeType switch
        {
            ImageTypes.Heic => options.ConvertHeic || options.StripMetadata || resize,
            ImageTypes.Jpeg => options.StripMetadata || resize || options.JpegQuality is not null,
            _ => options.StripMetadata || resize,
        };
        if (!changed)
        {
            return null;
        }
        var output = mimeType == ImageTypes.Heic ? ImageTypes.Jpeg : mimeType;
        return new ImageEdit(output, options.StripMetadata, resize ? options.MaxDimension : null, options.Quality);
    }
}

/// <summary>The bytes <see cref="ImageProcessor"/> wrote: their type, size and pixel size.</summary>
public sealed record ProcessedImage(string MimeType, long SizeBytes, int Width, int Height);

/// <summary>An image that cannot be processed (broken, hostile, over a limit, too slow); the message says why in words.</summary>
public sealed class ImageProcessingException(string message, Exception? inner = null) : Exception(message, inner);
