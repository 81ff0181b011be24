using System.Buffers.Binary;
using System.Text;
using Apertur.Server.Sessions;

namespace Apertur.Server.Uploads;

/// <summary>What the first bytes of a file say it is: an accepted image type, or a description of what was found instead.</summary>
public sealed record SniffResult(string? MimeType, string Description);

/// <summary>Decides the type of an upload from its magic bytes only; the client's Content-Type and file name are never trusted.</summary>
public static class ImageSniffer
{
    /// <summary>How many leading bytes <see cref="Sniff"/> wants to see (room for an ftyp box or an XML prolog).</summary>
    public const int HeadLength = 512;

    private static readonly string[] HeicBrands = ["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs"];
    private static readonly string[] HeifBrands = ["mif1", "msf1"];
    private static readonly string[] AvifBrands = ["avif", "avis"];
    private static readonly string[] HtmlStarts = ["<html", "<head", "<body", "<script"];

    public static SniffResult Sniff(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return new(ImageTypes.Jpeg, "a JPEG image");
        }
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
        {
            return new(ImageTypes.Png, "a PNG image");
        }
        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
        {
            return new(ImageTypes.Webp, "a WebP image");
        }
        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
        {
            return SniffIsoBmff(head);
        }
        return new(null, DescribeOther(head));
    }

    // HEIF family: the major brand or any compatible brand names a HEIC/HEIF brand (heic, heix, mif1, msf1, hevc, …).
    private static SniffResult SniffIsoBmff(ReadOnlySpan<byte> head)
    {
        var boxSize = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(head), (uint)head.Length);
        var brands = new List<string> { Encoding.ASCII.GetString(head[8..12]) };
        for (var i = 16; i + 4 <= boxSize; i += 4)
        {
            brands.Add(Encoding.ASCII.GetString(head[i..(i + 4)]));
        }
        if (brands.Any(b => HeicBrands.Contains(b)))
        {
            return new(ImageTypes.Heic, "a HEIC image");
        }
        if (brands.Any(b => AvifBrands.Contains(b)))
        {
            return new(null, "an AVIF image");
        }
        if (brands.Any(b => HeifBrands.Contains(b)))
        {
            return new(ImageTypes.Heic, "a HEIF image");
        }
        return new(null, brands[0] == "qt  " ? "a QuickTime video" : $"an ISO media file (brand '{brands[0].Trim()}')");
    }

    private static string DescribeOther(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
        {
            return "a GIF image";
        }
        if (head.StartsWith("%PDF-"u8))
        {
            return "a PDF document";
        }
        if (head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8))
        {
            return "a TIFF image";
        }
        if (head.StartsWith("BM"u8) && head.Length >= 14)
        {
            return "a BMP image";
        }
        if (head.StartsWith("PK\u0003\u0004"u8))
        {
            return "a ZIP archive";
        }
        if (head.StartsWith("\u007fELF"u8) || head.StartsWith("MZ"u8))
        {
            return "an executable program";
        }
        return DescribeText(head) ?? "of an unrecognised type";
    }

    // Markup and scripts, looked at case-insensitively after a BOM and leading white space.
    private static string? DescribeText(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            head = head[3..];
        }
        var text = Encoding.UTF8.GetString(head).TrimStart().ToLowerInvariant();
        if (text.StartsWith("<?php", StringComparison.Ordinal))
        {
            return "a PHP script";
        }
        if (text.StartsWith("<svg", StringComparison.Ordinal)
            || (text.StartsWith('<') && text.Contains("<svg", StringComparison.Ordinal)))
        {
            return "an SVG image";
        }
        if (text.StartsWith("<!doctype html", StringComparison.Ordinal)
            || HtmlStarts.Any(t => text.StartsWith(t, StringComparison.Ordinal)))
        {
            return "an HTML page";
        }
        if (text.StartsWith("<?xml", StringComparison.Ordinal))
        {
            return "an XML document";
        }
        if (text.StartsWith('{'))
        {
            return "JSON text (an encrypted envelope must be sent with the header X-Aptr-Encrypted: default)";
        }
        return null;
    }
}
