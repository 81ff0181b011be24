using Apertur.Destinations;
using Apertur.Server.Images;
using Apertur.Server.Sessions;
using Apertur.Server.Storage;

namespace Apertur.Server.Deliveries;

/// <summary>
/// One attempt's image after its destination's image options (docs/api.md "Image options"): the request to hand the
/// adapter, or the failure that ends the delivery instead. Disposing it deletes the processed bytes' temp files.
/// </summary>
public sealed class PreparedDelivery(DeliveryRequest? request, DeliveryResult.Rejected? failure, IReadOnlyList<string> tempFiles) : IDisposable
{
    /// <summary>The request with the image as delivered; null when <see cref="Failure"/> is set.</summary>
    public DeliveryRequest? Request => request;

    /// <summary>Why the image cannot be delivered as the destination asks (and it did not ask for the original instead).</summary>
    public DeliveryResult.Rejected? Failure => failure;

    public void Dispose()
    {
        foreach (var path in tempFiles)
        {
            File.Delete(path);
        }
    }
}

/// <summary>
/// Applies a destination's image options to the image of one delivery attempt, in the worker, never on the upload path
/// (docs/architecture.md "How a delivery flows"). Options that leave the image as it is hand over the stored original
/// byte for byte. Otherwise the image is processed into a temp file of the store's temp directory (deleted after the
/// attempt; a crash's leftovers go with the orphan check) and the adapter gets a <see cref="DeliveryImage"/> whose name,
/// type, size and bytes are the processed ones, so its headers, signatures and bodies describe what is delivered; the
/// original stays in the store. An image that cannot be processed fails the delivery for good (a hostile file does not
/// get better by retrying), unless the destination chose <c>on_processing_error: original</c>.
/// </summary>
public sealed partial class DeliveryImageProcessing(ImageProcessor processor, IImageStore store, ILogger<DeliveryImageProcessing> logger)
{
    public async Task<PreparedDelivery> PrepareAsync(DeliveryRequest request, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        var options = DeliveryImageOptions.Read(request.Target.Config);
        if (!options.Any)
        {
            return new PreparedDelivery(request, null, []);
        }
        var original = request.Image;
        var temps = new List<string>();
        try
        {
            string source;
            await using (var stream = await original.OpenReadAsync(ct))
            {
                source = await LocalImageFile.OfAsync(stream, store, temps, ct);
            }
            var size = processor.Inspect(source, original.MimeType);
            if (ImageEdit.For(options, original.MimeType, size) is not { } edit)
            {
                return new PreparedDelivery(request, null, temps);
            }
            var output = store.NewTempFilePath();
            temps.Add(output);
            var processed = await processor.WriteAsync(source, original.MimeType, edit, output, ct);
            var image = original with
            {
                Filename = processed.MimeType == original.MimeType
                    ? original.Filename
                    : Path.ChangeExtension(original.Filename, ImageTypes.Extension(processed.MimeType)),
                MimeType = processed.MimeType,
                SizeBytes = processed.SizeBytes,
                OpenReadAsync = _ => Task.FromResult<Stream>(new FileStream(output, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true)),
                // The signed link serves the stored original, which is not what this destination asked for.
                DownloadUrl = null,
            };
            return new PreparedDelivery(request with { Image = image }, null, temps);
        }
        catch (ImageProcessingException e)
        {
            new PreparedDelivery(null, null, temps).Dispose();
            if (options.OnError == ProcessingFallback.Original)
            {
                LogFellBack(logger, request.DeliveryId, e.Message);
                return new PreparedDelivery(request, null, []);
            }
            return new PreparedDelivery(null, new DeliveryResult.Rejected($"Image processing failed: {e.Message}"), []);
        }
        catch
        {
            new PreparedDelivery(null, null, temps).Dispose();
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId}: the image could not be processed ({Reason}); the original is delivered, as the destination asks")]
    private static partial void LogFellBack(ILogger logger, Guid deliveryId, string reason);
}
