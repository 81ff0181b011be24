using System.Buffers.Binary;
using System.Text;
using Apertur.Server.Hosting;
using Apertur.Server.Uploads;
using Shouldly;

namespace Apertur.UnitTests.Uploads;

public sealed class ImageHeadersTests
{
    [Theory]
    [InlineData("phone-photo.jpg", "image/jpeg", 2016, 1512)]
    [InlineData("small.jpg", "image/jpeg", 640, 480)]
    [InlineData("polyglot.jpg", "image/jpeg", 640, 480)]
    [InlineData("screenshot.png", "image/png", 800, 600)]
    [InlineData("bomb-30000px.png", "image/png", 30000, 30000)]
    [InlineData("photo.webp", "image/webp", 2016, 1512)]
    [InlineData("photo.heic", "image/heic", 1280, 960)]
    public void Read_Fixtures_GiveTheirSize(string fixture, string mime, int width, int height)
    {
        using var stream = new MemoryStream(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture)));
        ImageHeaders.Read(stream, mime).ShouldBe(new ImageSize(width, height));
    }

    [Fact]
    public void Read_TruncatedFixture_IsInvalidImage()
    {
        using var stream = new MemoryStream(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", "truncated.jpg")));
        Invalid(() => ImageHeaders.Read(stream, "image/jpeg")).ShouldContain("truncated");
    }

    [Fact]
    public void Read_Jpeg_SkipsApplicationSegmentsAndFillBytes()
    {
        // An EXIF thumbnail inside APP1 has its own SOF: it must not be taken for the image's.
        var thumbnail = new byte[] { 0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x01, 0x00, 0x01 };
        var jpeg = Jpeg(4032, 3024, app1: thumbnail, fillBytes: 3);
        Read(jpeg, "image/jpeg").ShouldBe(new ImageSize(4032, 3024));
    }

    [Fact]
    public void Read_ProgressiveJpeg_UsesSof2()
    {
        Read(Jpeg(300, 200, sofMarker: 0xC2), "image/jpeg").ShouldBe(new ImageSize(300, 200));
    }

    [Fact]
    public void Read_BrokenJpegs_AreInvalid()
    {
        Invalid(() => Read(Jpeg(10, 10, eoi: false), "image/jpeg")).ShouldContain("truncated");
        Invalid(() => Read(Jpeg(10, 10, sofBeforeSos: false), "image/jpeg")).ShouldContain("frame header");
        Invalid(() => Read(Jpeg(0, 10), "image/jpeg")).ShouldContain("impossible size");
        Invalid(() => Read([0xFF, 0xD8, 0xFF], "image/jpeg"));
        Invalid(() => Read([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A], "image/jpeg")).ShouldContain("truncated");
        Invalid(() => Read([0xFF, 0xD8, 0x00, 0x00], "image/jpeg")).ShouldContain("damaged");
    }

    [Fact]
    public void Read_Png_NeedsIhdrAndIend()
    {
        Read(Png(1, 65535), "image/png").ShouldBe(new ImageSize(1, 65535));
        Invalid(() => Read(Png(100, 100, iend: false), "image/png")).ShouldContain("IEND");
        Invalid(() => Read(Png(0, 100), "image/png")).ShouldContain("impossible size");
        Invalid(() => Read(Png(0x8000_0000, 1), "image/png")).ShouldContain("impossible size");
        Invalid(() => Read(Png(100, 100).AsSpan(0, 20).ToArray(), "image/png")).ShouldContain("IHDR");
    }

    [Fact]
    public void Read_Webp_AllThreeHeaders()
    {
        Read(Webp("VP8L", Vp8L(1920, 1080)), "image/webp").ShouldBe(new ImageSize(1920, 1080));
        Read(Webp("VP8X", Vp8X(16383 * 4, 7)), "image/webp").ShouldBe(new ImageSize(16383 * 4, 7));
        Read(Webp("VP8 ", Vp8(640, 480)), "image/webp").ShouldBe(new ImageSize(640, 480));
        Invalid(() => Read(Webp("ABCD", new byte[10]), "image/webp")).ShouldContain("VP8");
        var truncated = Webp("VP8L", Vp8L(10, 10), extra: 100);
        Invalid(() => Read(truncated.AsSpan(0, truncated.Length - 50).ToArray(), "image/webp")).ShouldContain("truncated");
    }

    [Fact]
    public void Read_Heic_TakesThePrimaryItemsIspe()
    {
        Read(Heic(primaryWidth: 4032, primaryHeight: 3024), "image/heic").ShouldBe(new ImageSize(4032, 3024));
    }

    [Fact]
    public void Read_BrokenHeic_IsInvalid()
    {
        var whole = Heic(100, 100);
        Invalid(() => Read(whole.AsSpan(0, whole.Length - 4).ToArray(), "image/heic")).ShouldContain("truncated");
        Invalid(() => Read(Box("ftyp", Encoding.ASCII.GetBytes("heic\0\0\0\0")), "image/heic")).ShouldContain("meta");
    }

    private static ImageSize Read(byte[] bytes, string mime)
    {
        using var stream = new MemoryStream(bytes);
        return ImageHeaders.Read(stream, mime);
    }

    private static string Invalid(Func<object> read)
    {
        var e = Should.Throw<ApiException>(read);
        e.Status.ShouldBe(400);
        e.Code.ShouldBe("INVALID_IMAGE");
        return e.Message;
    }

    private static byte[] Jpeg(int width, int height, byte[]? app1 = null, int fillBytes = 0, byte sofMarker = 0xC0, bool eoi = true, bool sofBeforeSos = true)
    {
        var ms = new MemoryStream();
        ms.Write([0xFF, 0xD8]);
        if (app1 is not null)
        {
            Segment(ms, 0xE1, [.. "Exif\0\0"u8, .. app1]);
        }
        Segment(ms, 0xDB, new byte[65]);
        ms.Write(Enumerable.Repeat((byte)0xFF, fillBytes).ToArray());
        var sof = new byte[] { 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0 };
        if (sofBeforeSos)
        {
            Segment(ms, sofMarker, sof);
        }
        Segment(ms, 0xDA, [1, 1, 0, 0, 63, 0]);
        ms.Write([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]); // entropy data with a stuffed byte and a restart marker
        if (eoi)
        {
            ms.Write([0xFF, 0xD9]);
        }
        return ms.ToArray();
    }

    private static void Segment(Stream s, byte marker, byte[] payload)
    {
        s.Write([0xFF, marker, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2)]);
        s.Write(payload);
    }

    private static byte[] Png(uint width, uint height, bool iend = true)
    {
        var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        Chunk(ms, "IHDR", ihdr);
        Chunk(ms, "IDAT", new byte[20]);
        if (iend)
        {
            Chunk(ms, "IEND", []);
        }
        return ms.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)data.Length);
        s.Write(length);
        s.Write(Encoding.ASCII.GetBytes(type));
        s.Write(data);
        s.Write(new byte[4]); // CRC, not checked
    }

    private static byte[] Vp8L(int width, int height)
    {
        var bits = (uint)(width - 1) | ((uint)(height - 1) << 14);
        var data = new byte[10];
        data[0] = 0x2F;
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(1), bits);
        return data;
    }

    private static byte[] Vp8X(int width, int height)
    {
        var data = new byte[10];
        data[4] = (byte)(width - 1); data[5] = (byte)((width - 1) >> 8); data[6] = (byte)((width - 1) >> 16);
        data[7] = (byte)(height - 1); data[8] = (byte)((height - 1) >> 8); data[9] = (byte)((height - 1) >> 16);
        return data;
    }

    private static byte[] Vp8(int width, int height)
    {
        var data = new byte[10];
        data[3] = 0x9D; data[4] = 0x01; data[5] = 0x2A;
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(6), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(8), (ushort)height);
        return data;
    }

    private static byte[] Webp(string chunk, byte[] data, int extra = 0)
    {
        var body = new byte[4 + 8 + data.Length + extra];
        Encoding.ASCII.GetBytes("WEBP" + chunk).CopyTo(body, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(8), (uint)(data.Length + extra));
        data.CopyTo(body, 12);
        var riff = new byte[8 + body.Length];
        Encoding.ASCII.GetBytes("RIFF").CopyTo(riff, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(riff.AsSpan(4), (uint)body.Length);
        body.CopyTo(riff, 8);
        return riff;
    }

    // ftyp, then meta { pitm(2), iprp { ipco { ispe 256×192 (thumbnail), ispe W×H }, ipma { 1→[1], 2→[2] } } }, then mdat.
    private static byte[] Heic(int primaryWidth, int primaryHeight)
    {
        var pitm = FullBox("pitm", [0, 2]);
        var ipco = Box("ipco", [.. Ispe(256, 192), .. Ispe(primaryWidth, primaryHeight)]);
        var ipma = FullBox("ipma", [0, 0, 0, 2, 0, 1, 1, 0x81, 0, 2, 1, 0x82]);
        var meta = FullBox("meta", [.. pitm, .. Box("iprp", [.. ipco, .. ipma])]);
        return [.. Box("ftyp", Encoding.ASCII.GetBytes("heic\0\0\0\0mif1heic")), .. meta, .. Box("mdat", new byte[32])];
    }

    private static byte[] Ispe(int width, int height)
    {
        var data = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(data, (uint)width);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), (uint)height);
        return FullBox("ispe", data);
    }

    private static byte[] FullBox(string type, byte[] content) => Box(type, [0, 0, 0, 0, .. content]);

    private static byte[] Box(string type, byte[] content)
    {
        var box = new byte[8 + content.Length];
        BinaryPrimitives.WriteUInt32BigEndian(box, (uint)box.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(box, 4);
        content.CopyTo(box, 8);
        return box;
    }
}
