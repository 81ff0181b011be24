using System.Buffers;
using System.Net;
using Apertur.Destinations.Webhooks;

using Apertur.Destinations.Storage;

namespace Apertur.Destinations.CloudDrives;

/// <summary>
/// Reads an image chunk by chunk at the offsets a provider asks for, holding one chunk in a pooled buffer (never the
/// image). Offsets may move forward past the buffer (skipped) or back into it (a chunk sent again after a 401, or a
/// provider that kept only part of one); further back, the image is opened again. Byte counts are checked against
/// <see cref="DeliveryImage.SizeBytes"/> while reading.
/// </summary>
internal sealed class ImageChunks : IAsyncDisposable
{
    private readonly DeliveryImage _image;
    private readonly byte[] _buffer;
    private readonly byte[] _probe = new byte[1];
    private readonly int _capacity;
    private CheckedImageStream? _reader;
    private long _bufferStart;
    private int _bufferLength;

    public ImageChunks(DeliveryImage image, int maxChunk)
    {
        _image = image;
        _capacity = maxChunk;
        _buffer = ArrayPool<byte>.Shared.Rent(maxChunk);
    }

    public long Size => _image.SizeBytes;

    /// <summary>The bytes [offset, offset + count), shorter only at the end of the image. Valid until the next call.</summary>
    public async ValueTask<ReadOnlyMemory<byte>> ReadAsync(long offset, int count, CancellationToken ct)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _capacity);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, Size);
        if (_reader is null || offset < _bufferStart)
        {
            await ReopenAsync(ct).ConfigureAwait(false);
        }
        var end = _bufferStart + _bufferLength;
        if (offset >= end)
        {
            // Skip forward: read and drop what lies before the offset.
            _bufferStart = end;
            _bufferLength = 0;
            while (_bufferStart < offset)
            {
                var read = await _reader!.ReadAsync(_buffer.AsMemory(0, (int)Math.Min(_capacity, offset - _bufferStart)), ct).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }
                _bufferStart += read;
            }
        }
        else if (offset > _bufferStart)
        {
            var drop = (int)(offset - _bufferStart);
            Buffer.BlockCopy(_buffer, drop, _buffer, 0, _bufferLength - drop);
            _bufferLength -= drop;
            _bufferStart = offset;
        }
        var wanted = (int)Math.Min(count, Size - offset);
        while (_bufferLength < wanted)
        {
            var read = await _reader!.ReadAsync(_buffer.AsMemory(_bufferLength, wanted - _bufferLength), ct).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }
            _bufferLength += read;
        }
        if (offset + wanted == Size && _bufferLength == wanted)
        {
            // At the end: let the reader check that the store holds no more bytes than recorded.
            await _reader!.ReadAsync(_probe, ct).ConfigureAwait(false);
        }
        return _buffer.AsMemory(0, wanted);
    }

    private async Task ReopenAsync(CancellationToken ct)
    {
        if (_reader is not null)
        {
            await _reader.DisposeAsync().ConfigureAwait(false);
        }
        _reader = null;
        _reader = await CheckedImageStream.OpenAsync(_image, ct).ConfigureAwait(false);
        _bufferStart = 0;
        _bufferLength = 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (_reader is not null)
        {
            await _reader.DisposeAsync().ConfigureAwait(false);
        }
        ArrayPool<byte>.Shared.Return(_buffer);
    }
}

/// <summary>The whole image as a request body of known length, streamed from the store each time it is sent.</summary>
internal sealed class ImageContent : HttpContent
{
    private readonly DeliveryImage _image;

    public ImageContent(DeliveryImage image, string contentType)
    {
        _image = image;
        Headers.TryAddWithoutValidation("Content-Type", contentType);
        Headers.ContentLength = image.SizeBytes;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        CheckedImageStream.CopyToAsync(_image, stream, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = _image.SizeBytes;
        return true;
    }
}
