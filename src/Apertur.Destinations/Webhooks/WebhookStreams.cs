using System.Buffers;
using System.Net;
using System.Security.Cryptography;

namespace Apertur.Destinations.Webhooks;

/// <summary>Reading the image failed (missing, unreadable, or not the size recorded): not the receiver's fault.</summary>
internal sealed class ImageSourceException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// Reads an image from the store and checks that it yields exactly <see cref="DeliveryImage.SizeBytes"/> bytes, so both
/// passes over a body (signing, sending) see the same bytes and <c>size_bytes</c> in the body never lies.
/// </summary>
internal sealed class ImageReader : IAsyncDisposable
{
    public const int BufferSize = 64 * 1024;

    private readonly DeliveryImage _image;
    private readonly Stream _stream;
    private long _total;

    private ImageReader(DeliveryImage image, Stream stream)
    {
        _image = image;
        _stream = stream;
    }

    public static async Task<ImageReader> OpenAsync(DeliveryImage image, CancellationToken ct)
    {
        try
        {
            return new ImageReader(image, await image.OpenReadAsync(ct).ConfigureAwait(false));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ImageSourceException($"could not open image {image.Id}: {e.Message}", e);
        }
    }

    /// <summary>Reads into <paramref name="buffer"/>; 0 at the end, once the byte count has been checked.</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct)
    {
        int read;
        try
        {
            read = await _stream.ReadAsync(buffer, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ImageSourceException($"could not read image {_image.Id}: {e.Message}", e);
        }
        _total += read;
        if (_total > _image.SizeBytes)
        {
            throw new ImageSourceException($"image {_image.Id} has more bytes in the store than the {_image.SizeBytes} recorded.");
        }
        if (read == 0 && _total != _image.SizeBytes)
        {
            throw new ImageSourceException($"image {_image.Id} has {_total} bytes in the store, {_image.SizeBytes} recorded.");
        }
        return read;
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();

    /// <summary>Copies the whole image to <paramref name="destination"/> through one pooled 64 KB buffer.</summary>
    public static async Task CopyToAsync(DeliveryImage image, Stream destination, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var reader = await OpenAsync(image, ct).ConfigureAwait(false);
            int read;
            while ((read = await reader.ReadAsync(buffer.AsMemory(0, BufferSize), ct).ConfigureAwait(false)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>A write-only stream that feeds every byte to some HMACs and counts them: pass 1 of a signed send.</summary>
internal sealed class SigningSink(params IncrementalHash[] macs) : Stream
{
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Position;
    public override long Position { get; set; }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        foreach (var mac in macs)
        {
            mac.AppendData(buffer);
        }
        Position += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>Pass 2 of a signed send: writes the body straight to the connection, with the length pass 1 counted.</summary>
internal sealed class WebhookContent(WebhookBody body, long contentLength) : HttpContent
{
    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        body.WriteToAsync(stream, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        body.WriteToAsync(stream, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = contentLength;
        return true;
    }
}
