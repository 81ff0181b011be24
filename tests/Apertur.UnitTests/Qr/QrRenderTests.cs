using System.Xml.Linq;
using Apertur.Server.Qr;
using Apertur.Tests;
using Shouldly;

namespace Apertur.UnitTests.Qr;

public sealed class QrRenderTests
{
    private static readonly QrColor Red = new(255, 0, 0), Ivory = new(255, 255, 240), Blue = new(0, 0, 255);

    private static QrParameters With(int size = 300, int border = 4, QrStyle style = QrStyle.Square) =>
        new(QrFormat.Png, size, style, Red, Ivory, border, Blue);

    [Fact]
    public void Crc32_KnownVector() =>
        (PngWriter.Crc32("123456789"u8, 0xFFFFFFFFu) ^ 0xFFFFFFFFu).ShouldBe(0xCBF43926u);

    [Fact]
    public void WriteIndexed_RoundTripsThroughZlib()
    {
        byte[] pixels = [0, 1, 2, 2, 1, 0];
        var png = PngWriter.WriteIndexed(3, 2, [Red, Ivory, Blue], pixels);
        var image = PngImage.Decode(png);
        (image.Width, image.Height, image.ColorType).ShouldBe((3, 2, 3));
        image.Pixel(0, 0).ShouldBe("ff0000");
        image.Pixel(1, 0).ShouldBe("fffff0");
        image.Pixel(2, 1).ShouldBe("ff0000");
        image.Pixel(0, 1).ShouldBe("0000ff");
    }

    [Fact]
    public void Encode_StripsQuietZone_FinderPatternsAtTheCorners()
    {
        var m = QrMatrix.Encode("https://photos.example.com/u/0193a1c2-0000-7000-8000-000000000000");
        ((m.Count - 21) % 4).ShouldBe(0);
        foreach (var (x, y) in new[] { (0, 0), (m.Count - 7, 0), (0, m.Count - 7) })
        {
            m.IsDark(x, y).ShouldBeTrue();
            m.IsDark(x + 6, y + 6).ShouldBeTrue();
            m.IsDark(x + 1, y + 1).ShouldBeFalse();
            m.IsDark(x + 3, y + 3).ShouldBeTrue();
        }
        m.IsDark(-1, 0).ShouldBeFalse();
        m.IsDark(m.Count, 0).ShouldBeFalse();
    }

    [Fact]
    public void Layout_KeepsFourModulesOfQuietZoneAndCentres()
    {
        var m = QrMatrix.Encode("hello");
        var layout = QrLayout.For(m, With(size: 300, border: 10));
        layout.Scale.ShouldBe(280 / (m.Count + 8));
        (layout.Offset - 10).ShouldBeGreaterThanOrEqualTo(4 * layout.Scale);
        (300 - 10 - (layout.Offset + (m.Count * layout.Scale))).ShouldBeGreaterThanOrEqualTo(4 * layout.Scale);
    }

    [Fact]
    public void Layout_TooSmall_Throws() =>
        Should.Throw<Apertur.Server.Hosting.ApiException>(() => QrLayout.For(QrMatrix.Encode("hello"), With(size: 64, border: 30)))
            .Code.ShouldBe("INVALID_QR_PARAMETER");

    [Fact]
    public void Png_DrawsBorderBackgroundAndModules()
    {
        var m = QrMatrix.Encode("hello");
        var p = With(size: 200, border: 7);
        var layout = QrLayout.For(m, p);
        var image = PngImage.Decode(QrPng.Render(m, p));
        (image.Width, image.Height).ShouldBe((200, 200));
        image.Pixel(0, 0).ShouldBe("0000ff");
        image.Pixel(199, 6).ShouldBe("0000ff");
        image.Pixel(7, 7).ShouldBe("fffff0");
        image.Pixel(layout.Offset, layout.Offset).ShouldBe("ff0000");
        image.Pixel(layout.Offset - 1, layout.Offset).ShouldBe("fffff0");
        // Module (1,1) of the finder pattern is light, module (3,3) dark.
        var s = layout.Scale;
        image.Pixel(layout.Offset + s + (s / 2), layout.Offset + s + (s / 2)).ShouldBe("fffff0");
        image.Pixel(layout.Offset + (3 * s) + (s / 2), layout.Offset + (3 * s) + (s / 2)).ShouldBe("ff0000");
    }

    [Fact]
    public void Png_Rounded_CarvesOnlyFreeCorners()
    {
        var m = QrMatrix.Encode("hello");
        var p = With(size: 600, style: QrStyle.Rounded);
        var layout = QrLayout.For(m, p);
        var image = PngImage.Decode(QrPng.Render(m, p));
        var (o, s) = (layout.Offset, layout.Scale);
        // The finder's outer corner is free (rounded); the middle of its top edge and the joint with its neighbour are not.
        image.Pixel(o, o).ShouldBe("fffff0");
        image.Pixel(o + (s / 2), o + (s / 2)).ShouldBe("ff0000");
        image.Pixel(o + (3 * s), o).ShouldBe("ff0000");
        image.Pixel(o + s, o).ShouldBe("ff0000");
    }

    [Fact]
    public void Svg_SquareAndRounded_AreValidXml()
    {
        var m = QrMatrix.Encode("hello");
        foreach (var style in new[] { QrStyle.Square, QrStyle.Rounded })
        {
            var svg = XDocument.Parse(QrSvg.Render(m, With(style: style) with { Format = QrFormat.Svg })).Root!;
            svg.Name.LocalName.ShouldBe("svg");
            svg.Elements().Last().Attribute("fill")!.Value.ShouldBe("#ff0000");
        }
    }
}
