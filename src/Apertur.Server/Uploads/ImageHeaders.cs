using System.Buffers.Binary;
using System.Text;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;

namespace Apertur.Server.Uploads;

public readonly record struct ImageSize(int Width, int Height);

/// <summary>
/// Reads an image's pixel size from its header and checks the file is structurally complete (JPEG end marker, PNG IEND,
/// RIFF and ISO-BMFF box sizes), without decoding a single pixel, so a decompression bomb costs nothing to refuse.
/// A small hand-written parser: four fixed layouts, bounded reads, and every failure a clear 400 INVALID_IMAGE.
/// </summary>
public static class ImageHeaders
{
    private const int MaxSegments = 100_000;
    private const int MaxMetaBytes = 4 * 1024 * 1024;

    /// <summary>The size of the image in <paramref name="stream"/> (seekable), whose type was already sniffed.</summary>
    public static ImageSize Read(Stream stream, string mimeType) => mimeType switch
    {
        ImageTypes.Jpeg => ReadJpeg(stream),
        ImageTypes.Png => ReadPng(stream),
        ImageTypes.Webp => ReadWebp(stream),
        ImageTypes.Heic => ReadHeic(stream),
        _ => throw new ArgumentOutOfRangeException(nameof(mimeType), mimeType, "Not an accepted image type."),
    };

    private static ImageSize ReadJpeg(Stream s)
    {
        Span<byte> b = stackalloc byte[5];
        ImageSize? size = null;
        long pos = 2;
        for (var segments = 0; segments < MaxSegments; segments++)
        {
            if (!TryReadAt(s, pos, b[..2]))
            {
                throw Invalid("The JPEG file is truncated: it ends inside its headers.");
            }
            if (b[0] != 0xFF)
            {
                throw Invalid("The JPEG file is damaged: a header marker is missing.");
            }
            var marker = b[1];
            pos += marker == 0xFF ? 1 : 2; // 0xFF 0xFF is a fill byte before the real marker
            if (marker is 0xFF or 0x01 or (>= 0xD0 and <= 0xD7))
            {
                continue;
            }
            if (marker is 0xD8 or 0xD9)
            {
                throw Invalid("The JPEG file is damaged: it has no image data.");
            }
            if (!TryReadAt(s, pos, b[..2]) || BinaryPrimitives.ReadUInt16BigEndian(b) < 2)
            {
                throw Invalid("The JPEG file is truncated: it ends inside its headers.");
            }
            var length = BinaryPrimitives.ReadUInt16BigEndian(b);
            if (IsStartOfFrame(marker))
            {
                if (!TryReadAt(s, pos + 2, b))
                {
                    throw Invalid("The JPEG file is truncated: it ends inside its frame header.");
                }
                size = Positive(BinaryPrimitives.ReadUInt16BigEndian(b[3..]), BinaryPrimitives.ReadUInt16BigEndian(b[1..]), "JPEG");
            }
            else if (marker == 0xDA)
            {
                return size is null ? throw Invalid("The JPEG file is damaged: its image data comes before its frame header.")
                    : ContainsEndOfImage(s, pos + length) ? size.Value
                    : throw Invalid("The JPEG file is truncated: its image data has no end marker. Upload the complete file.");
            }
            pos += length;
        }
        throw Invalid("The JPEG file is damaged: too many header segments.");
    }

    // Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames.
    private static bool IsStartOfFrame(byte marker) => marker is >= 0xC0 and <= 0xCF and not (0xC4 or 0xC8 or 0xCC);

    // The entropy-coded data never holds FF D9 except as the end-of-image marker (FF bytes are stuffed or restarts).
    private static bool ContainsEndOfImage(Stream s, long from)
    {
        if (from >= s.Length)
        {
            return false;
        }
        s.Position = from;
        var buffer = new byte[64 * 1024];
        var previousWasFf = false;
        int read;
        while ((read = s.Read(buffer)) > 0)
        {
            var span = buffer.AsSpan(0, read);
            if (previousWasFf && span[0] == 0xD9)
            {
                return true;
            }
            if (span.IndexOf((ReadOnlySpan<byte>)[0xFF, 0xD9]) >= 0)
            {
                return true;
            }
            previousWasFf = span[^1] == 0xFF;
        }
        return false;
    }

    private static ImageSize ReadPng(Stream s)
    {
        Span<byte> b = stackalloc byte[16];
        if (!TryReadAt(s, 8, b) || !b[4..8].SequenceEqual("IHDR"u8))
        {
            throw Invalid("The PNG file is damaged: it has no IHDR header.");
        }
        var size = Positive(BinaryPrimitives.ReadUInt32BigEndian(b[8..]), BinaryPrimitives.ReadUInt32BigEndian(b[12..]), "PNG");
        long pos = 8;
        for (var chunks = 0; chunks < MaxSegments; chunks++)
        {
            if (!TryReadAt(s, pos, b[..8]))
            {
                throw Invalid("The PNG file is truncated: it has no IEND chunk. Upload the complete file.");
            }
            if (b[4..8].SequenceEqual("IEND"u8))
            {
                return size;
            }
            pos += 12L + BinaryPrimitives.ReadUInt32BigEndian(b);
        }
        throw Invalid("The PNG file is damaged: too many chunks.");
    }

    private static ImageSize ReadWebp(Stream s)
    {
        Span<byte> b = stackalloc byte[30];
        if (!TryReadAt(s, 0, b))
        {
            throw Invalid("The WebP file is truncated: it ends inside its header.");
        }
        if (s.Length < 8L + BinaryPrimitives.ReadUInt32LittleEndian(b[4..]))
        {
            throw Invalid("The WebP file is truncated: it is shorter than its RIFF header says. Upload the complete file.");
        }
        var chunk = b[12..16];
        var data = b[20..];
        if (chunk.SequenceEqual("VP8 "u8) && data[3..6].SequenceEqual((ReadOnlySpan<byte>)[0x9D, 0x01, 0x2A]))
        {
            return Positive(BinaryPrimitives.ReadUInt16LittleEndian(data[6..]) & 0x3FFFu, BinaryPrimitives.ReadUInt16LittleEndian(data[8..]) & 0x3FFFu, "WebP");
        }
        if (chunk.SequenceEqual("VP8L"u8) && data[0] == 0x2F)
        {
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data[1..]);
            return Positive((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, "WebP");
        }
        if (chunk.SequenceEqual("VP8X"u8))
        {
            return Positive(ReadUInt24LittleEndian(data[4..]) + 1, ReadUInt24LittleEndian(data[7..]) + 1, "WebP");
        }
        throw Invalid("The WebP file is damaged: it has no VP8, VP8L or VP8X header.");
    }

    private static uint ReadUInt24LittleEndian(ReadOnlySpan<byte> b) => b[0] | ((uint)b[1] << 8) | ((uint)b[2] << 16);

    // Top-level ISO-BMFF boxes must all fit in the file; the size is the primary item's 'ispe' property.
    private static ImageSize ReadHeic(Stream s)
    {
        Span<byte> b = stackalloc byte[16];
        byte[]? meta = null;
        long pos = 0;
        for (var boxes = 0; pos < s.Length; boxes++)
        {
            if (boxes >= MaxSegments || !TryReadAt(s, pos, b[..8]))
            {
                throw Invalid("The HEIC file is damaged: its boxes do not fit the file.");
            }
            long size = BinaryPrimitives.ReadUInt32BigEndian(b);
            var header = 8;
            if (size == 1)
            {
                if (!TryReadAt(s, pos + 8, b[8..16]))
                {
                    throw Invalid("The HEIC file is truncated. Upload the complete file.");
                }
                size = (long)Math.Min(BinaryPrimitives.ReadUInt64BigEndian(b[8..]), long.MaxValue);
                header = 16;
            }
            else if (size == 0)
            {
                size = s.Length - pos;
            }
            if (size < header || size > s.Length - pos)
            {
                throw Invalid("The HEIC file is truncated: a box runs past the end of the file. Upload the complete file.");
            }
            if (meta is null && b[4..8].SequenceEqual("meta"u8))
            {
                if (size > MaxMetaBytes)
                {
                    throw Invalid("The HEIC file is damaged: its metadata box is implausibly large.");
                }
                meta = new byte[size - header];
                s.Position = pos + header;
                s.ReadExactly(meta);
            }
            pos += size;
        }
        return meta is null ? throw Invalid("The HEIC file is damaged: it has no 'meta' box.") : HeicMeta.PrimarySize(meta);
    }

    internal static ApiException Invalid(string message) => ApiException.BadRequest(message, "INVALID_IMAGE");

    private static ImageSize Positive(uint width, uint height, string format) =>
        width is 0 or > int.MaxValue || height is 0 or > int.MaxValue
            ? throw Invalid($"The {format} header gives an impossible size ({width}×{height}).")
            : new ImageSize((int)width, (int)height);

    private static bool TryReadAt(Stream s, long offset, Span<byte> buffer)
    {
        if (offset < 0 || offset > s.Length - buffer.Length)
        {
            return false;
        }
        s.Position = offset;
        s.ReadExactly(buffer);
        return true;
    }

    /// <summary>The HEIF 'meta' box: pitm names the primary item, ipma links items to ipco properties, ispe holds a size.</summary>
    private static class HeicMeta
    {
        public static ImageSize PrimarySize(byte[] meta)
        {
            // 'meta' is a full box: four bytes of version and flags precede its children.
            var children = Boxes(meta, 4, meta.Length);
            uint? primary = null;
            var sizes = new List<ImageSize?>();
            var associations = new Dictionary<uint, List<int>>();
            foreach (var (type, start, end) in children)
            {
                if (type == "pitm" && end - start >= 6)
                {
                    primary = meta[start] == 0 ? BinaryPrimitives.ReadUInt16BigEndian(meta.AsSpan(start + 4)) : BinaryPrimitives.ReadUInt32BigEndian(meta.AsSpan(start + 4));
                }
                else if (type == "iprp")
                {
                    foreach (var (childType, childStart, childEnd) in Boxes(meta, start, end))
                    {
                        if (childType == "ipco")
                        {
                            sizes.AddRange(Boxes(meta, childStart, childEnd).Select(p => p.Type == "ispe" && p.End - p.Start >= 12
                                ? Positive(BinaryPrimitives.ReadUInt32BigEndian(meta.AsSpan(p.Start + 4)), BinaryPrimitives.ReadUInt32BigEndian(meta.AsSpan(p.Start + 8)), "HEIC")
                                : (ImageSize?)null));
                        }
                        else if (childType == "ipma")
                        {
                            ReadAssociations(meta.AsSpan(childStart, childEnd - childStart), associations);
                        }
                    }
                }
            }
            if (primary is { } id && associations.TryGetValue(id, out var indices)
                && indices.Where(i => i >= 1 && i <= sizes.Count).Select(i => sizes[i - 1]).FirstOrDefault(sz => sz is not null) is { } found)
            {
                return found;
            }
            // No usable association: the largest declared size is the safe answer for limit checks.
            return sizes.OfType<ImageSize>().OrderByDescending(sz => (long)sz.Width * sz.Height).Cast<ImageSize?>().FirstOrDefault()
                ?? throw Invalid("The HEIC file is damaged: it declares no image size.");
        }

        private static void ReadAssociations(ReadOnlySpan<byte> box, Dictionary<uint, List<int>> into)
        {
            if (box.Length < 8)
            {
                return;
            }
            var version = box[0];
            var wideIndices = (box[3] & 1) != 0;
            var count = BinaryPrimitives.ReadUInt32BigEndian(box[4..]);
            var pos = 8;
            for (var e = 0u; e < count; e++)
            {
                var idLength = version < 1 ? 2 : 4;
                if (pos + idLength + 1 > box.Length)
                {
                    return;
                }
                var item = version < 1 ? BinaryPrimitives.ReadUInt16BigEndian(box[pos..]) : BinaryPrimitives.ReadUInt32BigEndian(box[pos..]);
                int n = box[pos + idLength];
                pos += idLength + 1;
                var list = into.TryGetValue(item, out var existing) ? existing : into[item] = [];
                for (var a = 0; a < n; a++)
                {
                    if (pos + (wideIndices ? 2 : 1) > box.Length)
                    {
                        return;
                    }
                    list.Add(wideIndices ? BinaryPrimitives.ReadUInt16BigEndian(box[pos..]) & 0x7FFF : box[pos] & 0x7F);
                    pos += wideIndices ? 2 : 1;
                }
            }
        }

        /// <summary>The child boxes in <c>[start, end)</c> as (type, content start, content end); stops at the first bad size.</summary>
        private static List<(string Type, int Start, int End)> Boxes(byte[] data, int start, int end)
        {
            var result = new List<(string, int, int)>();
            var pos = start;
            while (pos + 8 <= end)
            {
                var size = BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(pos));
                if (size < 8 || size > end - pos)
                {
                    break;
                }
                result.Add((Encoding.ASCII.GetString(data, pos + 4, 4), pos + 8, pos + (int)size));
                pos += (int)size;
            }
            return result;
        }
    }
}
