using System.Diagnostics;
using System.Globalization;
using Apertur.Destinations;
using Apertur.Server.Images;
using Apertur.Server.Sessions;
using ImageMagick;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// Images per second through each destination image option (docs/performance.md "Image processing"), one image at a
// time, with the server's ImageProcessor (header check, decode, edit, encode to a temp file), and the process's peak RSS.
// Usage: ImageBench <fixtures directory> [seconds per case]
var fixtures = args.Length > 0 ? args[0] : "tests/Apertur.IntegrationTests/Fixtures";
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var work = Directory.CreateTempSubdirectory("apertur-imagebench-").FullName;
var processor = new ImageProcessor(Options.Create(new ImageProcessingOptions()), Options.Create(new UploadOptions()),
    NullLogger<ImageProcessor>.Instance);

(string Name, DeliveryImageOptions Options)[] cases =
[
    ("convert_heic", DeliveryImageOptions.None with { ConvertHeic = true }),
    ("strip_metadata", DeliveryImageOptions.None with { StripMetadata = true }),
    ("max_dimension 2048", DeliveryImageOptions.None with { MaxDimension = 2048 }),
    ("jpeg_quality 80", DeliveryImageOptions.None with { JpegQuality = 80 }),
    ("all (strip, 2048, q80)", DeliveryImageOptions.None with { ConvertHeic = true, StripMetadata = true, MaxDimension = 2048, JpegQuality = 80 }),
];

Console.WriteLine($"{Environment.ProcessorCount} cores, .NET {Environment.Version}, Magick.NET {MagickNET.Version}, {seconds} s per case");

// First the hostile and broken fixtures, stored as the type they pretend to be (as if they had got past the upload checks),
// through every option: each must fail with a clear error, and the peak RSS after them shows what they cost in memory.
(string Fixture, string MimeType)[] hostile =
[
    ("bomb-30000px.png", ImageTypes.Png), ("truncated.jpg", ImageTypes.Jpeg), ("empty.jpg", ImageTypes.Jpeg), ("script.svg", ImageTypes.Png),
    ("html-named.png", ImageTypes.Png), ("pdf-named.jpg", ImageTypes.Jpeg), ("animation.gif", ImageTypes.Jpeg), ("polyglot.jpg", ImageTypes.Heic),
];
Console.WriteLine($"peak RSS before any image: {PeakRssMb()} MB");
Console.WriteLine("| hostile image (as) | option | outcome |");
Console.WriteLine("|---|---|---|");
foreach (var (fixture, mimeType) in hostile)
{
    foreach (var (name, options) in cases)
    {
        var path = Path.Combine(fixtures, fixture);
        string outcome;
        try
        {
            var size = processor.Inspect(path, mimeType);
            outcome = ImageEdit.For(options, mimeType, size) is { } edit
                ? $"processed: {(await processor.WriteAsync(path, mimeType, edit, Path.Combine(work, "out"), CancellationToken.None)).MimeType}"
                : "unchanged (original delivered)";
        }
        catch (ImageProcessingException e)
        {
            outcome = "refused: " + e.Message;
        }
        Console.WriteLine($"| {fixture} ({mimeType}) | {name} | {outcome} |");
    }
}
Console.WriteLine($"peak RSS after the hostile images: {PeakRssMb()} MB");
Console.WriteLine();
// A 12-megapixel JPEG (4000×3000, quality 92), made once from the phone photo scaled up (the security policy of
// ImageLibrary refuses the pseudo-formats one would draw it with, "xc:" and "gradient:").
var big = Path.Combine(work, "12mp.jpg");
using (var image = new MagickImage(Path.Combine(fixtures, "phone-photo.jpg"), new MagickReadSettings { Format = MagickFormat.Jpeg }))
{
    image.Resize(new MagickGeometry(4000, 3000) { IgnoreAspectRatio = true });
    image.Quality = 92;
    image.Write(big, MagickFormat.Jpeg);
}

(string Name, string Path, string MimeType)[] photos =
[
    ("phone-photo.jpg (2016×1512, EXIF+GPS)", Path.Combine(fixtures, "phone-photo.jpg"), ImageTypes.Jpeg),
    ("photo.heic (1280×960)", Path.Combine(fixtures, "photo.heic"), ImageTypes.Heic),
    ("photo.webp (2016×1512)", Path.Combine(fixtures, "photo.webp"), ImageTypes.Webp),
    ($"12 MP JPEG (4000×3000, {new FileInfo(big).Length / 1_000_000.0:0.0} MB)", big, ImageTypes.Jpeg),
];
Console.WriteLine("| image | option | images/s | output | peak RSS so far |");
Console.WriteLine("|---|---|---|---|---|");
foreach (var photo in photos)
{
    foreach (var (name, options) in cases)
    {
        var size = processor.Inspect(photo.Path, photo.MimeType);
        if (ImageEdit.For(options, photo.MimeType, size) is not { } edit)
        {
            Console.WriteLine($"| {photo.Name} | {name} | unchanged (original delivered) | | |");
            continue;
        }
        var output = Path.Combine(work, "out");
        ProcessedImage? last = null;
        var count = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds || count == 0)
        {
            processor.Inspect(photo.Path, photo.MimeType);
            last = await processor.WriteAsync(photo.Path, photo.MimeType, edit, output, CancellationToken.None);
            count++;
        }
        var rate = count / clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {photo.Name} | {name} | {rate:0.0} | {last!.Width}×{last.Height} {last.MimeType}, {last.SizeBytes / 1000} KB | {PeakRssMb()} MB |"));
    }
}
Directory.Delete(work, recursive: true);

static long PeakRssMb() =>
    File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
        .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).FirstOrDefault();
