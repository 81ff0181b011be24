using System.Text;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using MetadataExtractor;
using MetadataExtractor.Formats.Exif;
using MetadataExtractor.Formats.Iptc;
using MetadataExtractor.Formats.Jpeg;
using MetadataExtractor.Formats.Xmp;
using Shouldly;
using SkiaSharp;

namespace Apertur.IntegrationTests.Deliveries;

/// <summary>
/// A destination's image options (docs/api.md "Image options") applied by the delivery worker: the bytes a real receiver
/// gets are read back with decoders independent of the server's (SkiaSharp decodes the pixels, MetadataExtractor reads
/// the header and metadata), and a destination without options in the same session gets the upload byte for byte.
/// </summary>
public sealed class ImageOptionsDeliveryTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Options_ConvertStripResize_DeliverWhatTheyDescribe_AndNoOptionsDeliversTheOriginal(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await DeliveryKit.StartAsync(database);
        var plain = await Hook(app, receiver, "/plain", new { });
        var convert = await Hook(app, receiver, "/convert", new { convert_heic = true });
        var strip = await Hook(app, receiver, "/strip", new { strip_metadata = true });
        var small = await Hook(app, receiver, "/small", new { strip_metadata = true, max_dimension = 800, jpeg_quality = 70 });
        var named = await Hook(app, receiver, "/named", new { convert_heic = true }, format: "multipart");
        var session = await DeliveryKit.SessionAsync(app, plain, convert, strip, small, named);

        var heic = await DeliveryKit.UploadAsync(app, session, "photo.heic");
        var phone = await DeliveryKit.UploadAsync(app, session, "phone-photo.jpg");
        foreach (var image in new[] { heic, phone })
        {
            foreach (var delivery in await DeliveryKit.DeliveriesOfAsync(app, image))
            {
                await DeliveryKit.WaitForDeliveryAsync(app, delivery.Id, DeliveryStatus.Sent);
            }
        }

        // Without options: the uploads exactly, whatever the other destinations of the session asked for.
        Body(receiver, "/plain", heic).ShouldBe(Fixture.Bytes("photo.heic"));
        Body(receiver, "/plain", phone).ShouldBe(Fixture.Bytes("phone-photo.jpg"));

        // convert_heic: the HEIC photo as a JPEG that decodes, the same size and way up; a JPEG left as it is.
        var converted = Received(receiver, "/convert", heic);
        converted.Header("X-Aptr-Mime-Type").ShouldBe("image/jpeg");
        Decode(converted.Body).ShouldBe((1280, 960));
        JpegSize(converted.Body).ShouldBe((1280, 960));
        Body(receiver, "/convert", phone).ShouldBe(Fixture.Bytes("phone-photo.jpg"));

        // strip_metadata: the phone photo (EXIF orientation 6, GPS) upright, without EXIF, GPS, XMP or IPTC.
        HasGps(Fixture.Bytes("phone-photo.jpg")).ShouldBeTrue("the fixture has a GPS position to remove");
        Decode(Fixture.Bytes("phone-photo.jpg")).ShouldBe((2016, 1512));
        var stripped = Body(receiver, "/strip", phone);
        Decode(stripped).ShouldBe((1512, 2016));
        MetadataLeft(stripped).ShouldBeEmpty();
        Received(receiver, "/strip", heic).Header("X-Aptr-Mime-Type").ShouldBe("image/jpeg");
        MetadataLeft(Body(receiver, "/strip", heic)).ShouldBeEmpty();

        // max_dimension: the longest side, aspect kept, after the photo was turned upright.
        Decode(Body(receiver, "/small", phone)).ShouldBe((600, 800));
        Decode(Body(receiver, "/small", heic)).ShouldBe((800, 600));
        MetadataLeft(Body(receiver, "/small", phone)).ShouldBeEmpty();

        // The name and type of the delivered file are the JPEG's, and the signature covers the bytes delivered.
        var part = Encoding.Latin1.GetString(Received(receiver, "/named", heic).Body);
        part.ShouldContain("filename=\"photo.jpg\"");
        part.ShouldContain("Content-Type: image/jpeg");
        part.ShouldNotContain("image/heic");
    }

    /// <summary>
    /// The hostile and broken fixtures, stored as the type they pretend to be (as if they had got past the upload checks),
    /// through each option: every delivery either fails for good with the reason or, when the destination chose the
    /// original, delivers the stored bytes unchanged; none is retried, and the server stays up.
    /// </summary>
    [Theory, ClassData(typeof(Databases))]
    public async Task HostileImages_EveryOption_FailClearlyOrFallBackToTheOriginal_AndTheServerStaysUp(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await DeliveryKit.StartAsync(database);
        object[] options =
        [
            new { convert_heic = true },
            new { strip_metadata = true },
            new { max_dimension = 100 },
            new { jpeg_quality = 50 },
        ];
        var failing = new List<Guid>();
        var fallingBack = new List<Guid>();
        for (var i = 0; i < options.Length; i++)
        {
            failing.Add(await Hook(app, receiver, $"/fail{i}", options[i]));
            var withFallback = JsonSerializer.SerializeToElement(options[i]).EnumerateObject()
                .ToDictionary(p => p.Name, p => (object)p.Value).Append(new("on_processing_error", "original")).ToDictionary();
            fallingBack.Add(await Hook(app, receiver, $"/original{i}", withFallback));
        }
        var session = await DeliveryKit.SessionAsync(app, [.. failing, .. fallingBack]);
        (string Fixture, string MimeType)[] hostile =
        [
            ("bomb-30000px.png", "image/png"),
            ("truncated.jpg", "image/jpeg"),
            ("empty.jpg", "image/jpeg"),
            ("script.svg", "image/png"),
            ("html-named.png", "image/png"),
            ("pdf-named.jpg", "image/jpeg"),
            ("animation.gif", "image/jpeg"),
            ("polyglot.jpg", "image/heic"),
        ];
        var images = new Dictionary<Guid, string>();
        foreach (var (fixture, mimeType) in hostile)
        {
            images[await Seed.ImageAsync(app, session, Fixture.Bytes(fixture), fixture, mimeType)] = fixture;
        }
        DeliveryKit.Nudge(app);

        foreach (var (image, fixture) in images)
        {
            foreach (var delivery in await DeliveryKit.DeliveriesOfAsync(app, image))
            {
                var done = await DeliveryKit.WaitForDeliveryAsync(app, delivery.Id, DeliveryStatus.Sent, DeliveryStatus.Failed);
                if (fallingBack.Contains(delivery.DestinationId))
                {
                    done.Status.ShouldBe(DeliveryStatus.Sent, $"{fixture}: {done.LastError}");
                    Body(receiver, $"/original{fallingBack.IndexOf(delivery.DestinationId)}", image).ShouldBe(Fixture.Bytes(fixture), fixture);
                }
                else
                {
                    done.Status.ShouldBe(DeliveryStatus.Failed, fixture);
                    done.Attempts.ShouldBe(1, fixture);
                    done.LastError.ShouldNotBeNull().ShouldStartWith("Image processing failed: ", customMessage: fixture);
                }
            }
        }
        receiver.Requests.Where(r => r.Path.StartsWith("/fail", StringComparison.Ordinal)).ShouldBeEmpty();
        using var health = await app.Client.GetAsync("/healthz/live");
        health.IsSuccessStatusCode.ShouldBeTrue();
    }

    private static Task<Guid> Hook(TestApp app, TestReceiver receiver, string path, object options, string format = "binary")
    {
        var config = JsonSerializer.SerializeToElement(options).EnumerateObject().ToDictionary(p => p.Name, p => (object)p.Value);
        config["url"] = receiver.Url(path).ToString();
        config["format"] = format;
        return Seed.DestinationAsync(app, "webhook", path.Trim('/'), JsonSerializer.Serialize(config));
    }

    private static ReceivedRequest Received(TestReceiver receiver, string path, Guid imageId) =>
        receiver.At(path).Where(r => r.Header("X-Aptr-Image-Id") == imageId.ToString()).ShouldHaveSingleItem();

    private static byte[] Body(TestReceiver receiver, string path, Guid imageId) => Received(receiver, path, imageId).Body;

    /// <summary>The pixel size SkiaSharp decodes (it fails on an image it cannot decode); Skia ignores the EXIF orientation.</summary>
    private static (int Width, int Height) Decode(byte[] bytes)
    {
        using var bitmap = SKBitmap.Decode(bytes).ShouldNotBeNull("SkiaSharp cannot decode the delivered image");
        return (bitmap.Width, bitmap.Height);
    }

    private static (int Width, int Height) JpegSize(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        var jpeg = ImageMetadataReader.ReadMetadata(stream).OfType<JpegDirectory>().ShouldHaveSingleItem();
        return (jpeg.GetImageWidth(), jpeg.GetImageHeight());
    }

    private static bool HasGps(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        return ImageMetadataReader.ReadMetadata(stream).OfType<GpsDirectory>().Any();
    }

    /// <summary>The EXIF, GPS, XMP and IPTC directories MetadataExtractor finds.</summary>
    private static List<string> MetadataLeft(byte[] bytes)
    {
        using var stream = new MemoryStream(bytes);
        return ImageMetadataReader.ReadMetadata(stream)
            .Where(d => d is ExifDirectoryBase or GpsDirectory or XmpDirectory or IptcDirectory)
            .Select(d => d.Name).ToList();
    }
}
