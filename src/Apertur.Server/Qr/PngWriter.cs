using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Apertur.Server.Qr;

/// <summary>
/// Writes an 8-bit palette PNG (IHDR, PLTE, one IDAT, IEND). Hand-written because a two-or-three-colour image needs none of
/// an imaging library, and the framework already has zlib; CRC-32 is a small table (System.IO.Hashing is not in the framework).
/// </summary>
public static class PngWriter
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
    private static readonly uint[] CrcTable = BuildCrcTable();

    /// <summary><paramref name="pixels"/> holds one palette index per pixel, row by row (<c>width × height</c> bytes).</summary>
    public static byte[] WriteIndexed(int width, int height, IReadOnlyList<QrColor> palette, ReadOnlySpan<byte> pixels)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(pixels.Length, width * height, nameof(pixels));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(palette.Count, 256, nameof(palette));

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 3; // colour type: palette; compression, filter and interlace stay 0

        var plte = new byte[palette.Count * 3];
        for (var i = 0; i < palette.Count; i++)
        {
            (plte[i * 3], plte[(i * 3) + 1], plte[(i * 3) + 2]) = (palette[i].R, palette[i].G, palette[i].B);
        }

        using var idat = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (var y = 0; y < height; y++)
            {
                zlib.WriteByte(0); // filter: none (runs of one colour compress well as they are)
                zlib.Write(pixels.Slice(y * width, width));
            }
        }

        using var png = new MemoryStream();
        png.Write(Signature);
        WriteChunk(png, "IHDR", header);
        WriteChunk(png, "PLTE", plte);
        WriteChunk(png, "IDAT", idat.GetBuffer().AsSpan(0, (int)idat.Length));
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32(data, Crc32(typeBytes, 0xFFFFFFFFu)) ^ 0xFFFFFFFFu);
        output.Write(word);
    }

    /// <summary>Continues a CRC-32 (ISO-HDLC, as PNG uses) over <paramref name="data"/>; start with all ones, finish with a XOR.</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data, uint crc)
    {
        foreach (var b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }
        return crc;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }
            table[n] = c;
        }
        return table;
    }
}
