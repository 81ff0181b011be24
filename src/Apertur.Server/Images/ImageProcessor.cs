using System.Globalization;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Apertur.Server.Uploads;
using ImageMagick;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Images;

/// <summary>
/// Decodes, edits and re-encodes images with ImageMagick (docs/architecture.md "Images"), safely: the type is sniffed again
/// and the size read from the header (<see cref="ImageInspection"/>, the uploads' own check) before anything is decoded, so
/// an image over the pixel limits or the memory limit is refused without decoding it; the decoder is the sniffed type's
/// (never guessed from the bytes); at most <see cref="ImageProcessingOptions.MaxConcurrent"/> images are decoded at once;
/// an image that takes longer than <see cref="ImageProcessingOptions.Timeout"/> fails. Every failure is an
/// <see cref="ImageProcessingException"/> with a sentence; nothing here can stop the process.
/// A thumbnail entry point belongs beside <see cref="WriteAsync"/>, with its own <see cref="ImageEdit"/>.
/// </summary>
public sealed partial class ImageProcessor : IDisposable
{
    private const int BytesPerPixel = 8;

    private readonly ImageProcessingOptions _options;
    private readonly UploadOptions _limits;
    private readonly SemaphoreSlim _slots;
    private readonly ILogger<ImageProcessor> _logger;

    public ImageProcessor(IOptions<ImageProcessingOptions> options, IOptions<UploadOptions> limits, ILogger<ImageProcessor> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(limits);
        _options = options.Value;
        _limits = limits.Value;
        _logger = logger;
        _slots = new SemaphoreSlim(_options.MaxConcurrent, _options.MaxConcurrent);
        ImageLibrary.Configure(_options.MaxMemoryBytes * _options.MaxConcurrent, _limits.MaxImageDimension);
    }

    /// <summary>
    /// The size of the image at <paramref name="path"/> from its header, after checking that its bytes are the
    /// <paramref name="mimeType"/> they were recorded as and within the upload limits and the memory limit.
    /// </summary>
    public ImageSize Inspect(string path, string mimeType)
    {
        InspectedImage inspected;
        try
        {
            var limits = new UploadLimits(long.MaxValue, _limits.MaxImageDimension, _limits.MaxPixels);
            inspected = ImageInspection.Inspect(path, new FileInfo(path).Length, [mimeType], limits);
        }
        catch (ApiException e)
        {
            throw new ImageProcessingException(e.Message, e);
        }
        var needed = (long)inspected.Width * inspected.Height * BytesPerPixel;
        if (needed > _options.MaxMemoryBytes)
        {
            throw new ImageProcessingException(string.Create(CultureInfo.InvariantCulture,
                $"The image is {inspected.Width}×{inspected.Height} pixels: processing it needs about {needed >> 20} MiB, over the limit of {_options.MaxMemoryBytes >> 20} MiB ({ImageProcessingOptions.Section}:{nameof(ImageProcessingOptions.MaxMemoryBytes)})."));
        }
        return new ImageSize(inspected.Width, inspected.Height);
    }

    /// <summary>
    /// Writes <paramref name="edit"/> of the image at <paramref name="sourcePath"/> (already <see cref="Inspect"/>ed) to
    /// <paramref name="outputPath"/>. On failure the output file may be left for the caller to delete (an image abandoned for
    /// its time limit deletes its own output once its decode ends).
    /// </summary>
    /// <exception cref="ImageProcessingException">The image cannot be decoded or written, or took too long.</exception>
    public async Task<ProcessedImage> WriteAsync(string sourcePath, string mimeType, ImageEdit edit, string outputPath, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(edit);
        await _slots.WaitAsync(ct);
        Task<ProcessedImage> work;
        try
        {
            work = Task.Factory.StartNew(() => Write(sourcePath, mimeType, edit, outputPath), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        catch
        {
            _slots.Release();
            throw;
        }
        // The slot is given back when the decode really ends, even if this caller stopped waiting for it.
        _ = work.ContinueWith(_ => _slots.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            return await work.WaitAsync(_options.Timeout, ct);
        }
        catch (TimeoutException)
        {
            Abandon(work, outputPath);
            LogTooSlow(_logger, sourcePath, _options.Timeout);
            throw new ImageProcessingException(string.Create(CultureInfo.InvariantCulture,
                $"Processing the image took longer than {_options.Timeout.TotalSeconds:0.#} s ({ImageProcessingOptions.Section}:{nameof(ImageProcessingOptions.Timeout)})."));
        }
        catch (OperationCanceledException)
        {
            Abandon(work, outputPath);
            throw;
        }
        catch (MagickException e)
        {
            throw new ImageProcessingException($"The image cannot be processed: {FirstLine(e.Message)}", e);
        }
    }

    public void Dispose() => _slots.Dispose();

    private static ProcessedImage Write(string sourcePath, string mimeType, ImageEdit edit, string outputPath)
    {
        using var image = new MagickImage();
        image.Read(sourcePath, new MagickReadSettings { Format = FormatOf(mimeType) });
        image.AutoOrient();
        if (edit.MaxDimension is { } max && Math.Max(image.Width, image.Height) > max)
        {
            image.Resize(new MagickGeometry((uint)max, (uint)max) { Greater = true });
        }
        if (edit.StripMetadata)
        {
            var colours = image.GetColorProfile();
            image.Strip();
            if (colours is not null)
            {
                image.SetProfile(colours);
            }
        }
        var format = FormatOf(edit.OutputMimeType);
        if (format is MagickFormat.Jpeg or MagickFormat.WebP)
        {
            image.Quality = (uint)edit.Quality;
        }
        image.Write(outputPath, format);
        return new ProcessedImage(edit.OutputMimeType, new FileInfo(outputPath).Length, (int)image.Width, (int)image.Height);
    }

    private static MagickFormat FormatOf(string mimeType) => mimeType switch
    {
        ImageTypes.Jpeg => MagickFormat.Jpeg,
        ImageTypes.Png => MagickFormat.Png,
        ImageTypes.Webp => MagickFormat.WebP,
        ImageTypes.Heic => MagickFormat.Heic,
        _ => throw new ImageProcessingException($"Images of type {mimeType} are not processed."),
    };

    private static void Abandon(Task work, string outputPath) =>
        _ = work.ContinueWith(_ => File.Delete(outputPath), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Processing {Path} took longer than {Timeout}; it was abandoned and ends on its own")]
    private static partial void LogTooSlow(ILogger logger, string path, TimeSpan timeout);
}
