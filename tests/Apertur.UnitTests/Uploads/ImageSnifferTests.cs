using System.Text;
using Apertur.Server.Uploads;
using Shouldly;

namespace Apertur.UnitTests.Uploads;

public sealed class ImageSnifferTests
{
    [Theory]
    [InlineData("phone-photo.jpg", "image/jpeg")]
    [InlineData("small.jpg", "image/jpeg")]
    [InlineData("polyglot.jpg", "image/jpeg")]
    [InlineData("truncated.jpg", "image/jpeg")]
    [InlineData("screenshot.png", "image/png")]
    [InlineData("bomb-30000px.png", "image/png")]
    [InlineData("photo.webp", "image/webp")]
    [InlineData("photo.heic", "image/heic")]
    [InlineData("pdf-named.jpg", null)]
    [InlineData("html-named.png", null)]
    [InlineData("script.svg", null)]
    [InlineData("animation.gif", null)]
    [InlineData("empty.jpg", null)]
    public void Sniff_Fixtures_DecideByContentOnly(string fixture, string? expected)
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Fixtures", fixture));
        ImageSniffer.Sniff(bytes.AsSpan(0, Math.Min(bytes.Length, ImageSniffer.HeadLength))).MimeType.ShouldBe(expected);
    }

    [Theory]
    [InlineData("%PDF-1.7\n", "PDF")]
    [InlineData("  \n<!DOCTYPE HTML><html>", "HTML")]
    [InlineData("<html><body>", "HTML")]
    [InlineData("<?xml version=\"1.0\"?>\n<!-- x -->\n<svg xmlns=\"http://www.w3.org/2000/svg\">", "SVG")]
    [InlineData("<svg onload=alert(1)>", "SVG")]
    [InlineData("<?xml version=\"1.0\"?><feed/>", "XML")]
    [InlineData("GIF89a\u0001\u0000", "GIF")]
    [InlineData("GIF87a\u0001\u0000", "GIF")]
    [InlineData("<?php echo 1;", "PHP")]
    [InlineData("{\"encryptedKey\":\"...\"}", "X-Aptr-Encrypted")]
    [InlineData("PK\u0003\u0004zip", "ZIP")]
    [InlineData("II*\u0000tiff", "TIFF")]
    [InlineData("just some text", "unrecognised")]
    [InlineData("", "unrecognised")]
    public void Sniff_OtherContent_IsRefusedAndNamed(string content, string named)
    {
        var result = ImageSniffer.Sniff(Encoding.Latin1.GetBytes(content));
        result.MimeType.ShouldBeNull();
        result.Description.ShouldContain(named, Case.Insensitive);
    }

    [Theory]
    [InlineData("heic", new string[0], "image/heic")]
    [InlineData("heix", new string[0], "image/heic")]
    [InlineData("mif1", new[] { "heic" }, "image/heic")]
    [InlineData("msf1", new[] { "hevc" }, "image/heic")]
    [InlineData("mif1", new[] { "miaf" }, "image/heic")]
    [InlineData("isom", new[] { "mif1", "heic" }, "image/heic")]
    [InlineData("avif", new[] { "mif1", "miaf" }, null)]
    [InlineData("mif1", new[] { "avif" }, null)]
    [InlineData("isom", new[] { "iso2", "mp41" }, null)]
    [InlineData("qt  ", new string[0], null)]
    public void Sniff_IsoBmff_ChecksMajorAndCompatibleBrands(string major, string[] compatible, string? expected)
    {
        ImageSniffer.Sniff(Ftyp(major, compatible)).MimeType.ShouldBe(expected);
    }

    [Fact]
    public void Sniff_WebpNeedsBothRiffAndWebp()
    {
        ImageSniffer.Sniff("RIFF\u0010\u0000\u0000\u0000WEBPVP8 "u8).MimeType.ShouldBe("image/webp");
        ImageSniffer.Sniff("RIFF\u0010\u0000\u0000\u0000WAVEfmt "u8).MimeType.ShouldBeNull();
    }

    internal static byte[] Ftyp(string major, params string[] compatible)
    {
        var size = 16 + (4 * compatible.Length);
        var box = new byte[size];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(box, (uint)size);
        Encoding.ASCII.GetBytes("ftyp" + major).CopyTo(box, 4);
        for (var i = 0; i < compatible.Length; i++)
        {
            Encoding.ASCII.GetBytes(compatible[i]).CopyTo(box, 16 + (4 * i));
        }
        return box;
    }
}
