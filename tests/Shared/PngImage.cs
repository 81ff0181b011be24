using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Apertur.Tests;

/// <summary>
/// Reads back the PNGs the server writes (8-bit palette or RGB, no interlace, filter type 0 on every row): enough to check
/// dimensions and colours of single pixels without an imaging library.
/// </summary>
public sealed class PngImage
{
    private readonly byte[] _rows;
    private readonly byte[] _palette;
    private readonly int _bytesPerPixel;

    public int Width { get; }
    public int Height { get; }
    public int ColorType { get; }

    private PngImage(int width, int height, int colorType, byte[] palette, byte[] rows)
    {
        Width = width;
        Height = height;
        ColorType = colorType;
        _palette = palette;
        _rows = rows;
        _bytesPerPixel = colorType == 3 ? 1 : 3;
    }

    /// <summary>Width and height from the IHDR chunk, without decoding the image.</summary>
    public static (int Width, int Height) ReadSize(byte[] png)
    {
        CheckSignature(png);
        if (Encoding.ASCII.GetString(png, 12, 4) != "IHDR")
        {
            throw new InvalidDataException("IHDR is not the first chunk.");
        }
        return (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    public static PngImage Decode(byte[] png)
    {
        CheckSignature(png);
        int width = 0, height = 0, colorType = 0;
        var palette = Array.Empty<byte>();
        using var idat = new MemoryStream();
        for (var at = 8; at < png.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            var type = Encoding.ASCII.GetString(png, at + 4, 4);
            var data = png.AsSpan(at + 8, length);
            switch (type)
            {
                case "IHDR":
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    colorType = data[9];
                    if (data[8] != 8 || (colorType != 2 && colorType != 3) || data[12] != 0)
                    {
                        throw new InvalidDataException("Only 8-bit, non-interlaced palette or RGB images are read here.");
                    }
                    break;
                case "PLTE":
                    palette = data.ToArray();
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
            }
            at += 12 + length;
        }
        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionMode.Decompress))
        {
            zlib.CopyTo(inflated);
        }
        var rows = inflated.ToArray();
        var stride = 1 + (width * (colorType == 3 ? 1 : 3));
        if (rows.Length != stride * height)
        {
            throw new InvalidDataException($"IDAT holds {rows.Length} bytes, expected {stride * height}.");
        }
        for (var y = 0; y < height; y++)
        {
            if (rows[y * stride] != 0)
            {
                throw new InvalidDataException($"Row {y} uses filter {rows[y * stride]}; only 0 is read here.");
            }
        }
        return new PngImage(width, height, colorType, palette, rows);
    }

    /// <summary>The colour of one pixel as lowercase <c>rrggbb</c>.</summary>
    public string Pixel(int x, int y)
    {
        var at = (y * (1 + (Width * _bytesPerPixel))) + 1 + (x * _bytesPerPixel);
        var rgb = _bytesPerPixel == 1 ? _palette.AsSpan(_rows[at] * 3, 3) : _rows.AsSpan(at, 3);
        return Convert.ToHexStringLower(rgb);
    }

    private static void CheckSignature(byte[] png)
    {
        if (png.Length < 33 || !png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }))
        {
            throw new InvalidDataException("Not a PNG.");
        }
    }
}
