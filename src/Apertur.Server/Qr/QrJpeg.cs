using Apertur.Server.Images;
using Apertur.Server.Sessions;
using Apertur.Server.Storage;

namespace Apertur.Server.Qr;

/// <summary>
/// A QR code as JPEG: the PNG of <see cref="QrPng"/> (the same drawing, pixel for pixel) re-encoded by the image library
/// (<see cref="ImageProcessor"/>: its decode slots and limits) at a high quality, so the module edges stay sharp enough to
/// scan. The PNG goes through a temp file of the image store's temp directory, as the processor reads files.
/// </summary>
public sealed class QrJpeg(ImageProcessor processor, IImageStore store)
{
    private static readonly ImageEdit Edit = new(ImageTypes.Jpeg, StripMetadata: true, MaxDimension: null, Quality: 95);

    public async Task<byte[]> RenderAsync(QrMatrix matrix, QrParameters parameters, CancellationToken ct)
    {
        var png = store.NewTempFilePath();
        var jpeg = store.NewTempFilePath();
        try
        {
            await File.WriteAllBytesAsync(png, QrPng.Render(matrix, parameters), ct);
            await processor.WriteAsync(png, ImageTypes.Png, Edit, jpeg, ct);
            return await File.ReadAllBytesAsync(jpeg, ct);
        }
        finally
        {
            File.Delete(png);
            File.Delete(jpeg);
        }
    }
}
