using System.Buffers;

namespace Apertur.Destinations.Storage;

/// <summary>Reading the image failed (missing, unreadable, or not the size recorded): not the receiver's fault.</summary>
internal sealed class ImageSourceException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// The image as a forward-only stream for every adapter (webhook bodies, storage uploads, drive chunks): reads the store on demand (never the whole image in memory)
/// and checks, while streaming, that it yields exactly <see cref="DeliveryImage.SizeBytes"/> bytes, so the length
/// announced to the server never lies. A short or long image fails with <see cref="ImageSourceException"/>.
/// </summary>
internal sealed class CheckedImageStream : Stream
{
    private readonly DeliveryImage _image;
    private readonly Stream _inner;
    private long _position;

    private CheckedImageStream(DeliveryImage image, Stream inner)
    {
        _image = image;
        _inner = inner;
    }

    public static async Task<CheckedImageStream> OpenAsync(DeliveryImage image, CancellationToken ct)
    {
        try
        {
            return new CheckedImageStream(image, await image.OpenReadAsync(ct).ConfigureAwait(false));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ImageSourceException($"could not open image {image.Id}: {e.Message}", e);
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _image.SizeBytes;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int read;
        try
        {
            read = _inner.Read(buffer);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ImageSourceException($"could not read image {_image.Id}: {e.Message}", e);
        }
        return Count(read, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int read;
        try
        {
            read = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ImageSourceException($"could not read image {_image.Id}: {e.Message}", e);
        }
        return Count(read, buffer.Length);
    }

    /// <summary>Copies the whole image to <paramref name="destination"/> through one pooled 64 KB buffer.</summary>
    public static async Task CopyToAsync(DeliveryImage image, Stream destination, CancellationToken ct)
    {
        const int bufferSize = 64 * 1024;
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            await using var source = await OpenAsync(image, ct).ConfigureAwait(false);
            int read;
            while ((read = await source.ReadAsync(buffer.AsMemory(0, bufferSize), ct).ConfigureAwait(false)) > 0)
            {
                await destination.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>True when the store's stream can seek (a file): parts can then be read in place, without a buffer.</summary>
    public bool CanSeekSource => _inner.CanSeek;

    /// <summary>
    /// The store's own seekable stream at <paramref name="offset"/>, for an SDK that needs to rewind a part. Its length is
    /// checked against <see cref="DeliveryImage.SizeBytes"/> first, since reads through it are not counted.
    /// </summary>
    public Stream SourceAt(long offset)
    {
        try
        {
            if (_inner.Length != _image.SizeBytes)
            {
                throw new ImageSourceException($"image {_image.Id} has {_inner.Length} bytes in the store, {_image.SizeBytes} recorded.");
            }
            _inner.Position = offset;
            return _inner;
        }
        catch (Exception e) when (e is not ImageSourceException)
        {
            throw new ImageSourceException($"could not read image {_image.Id}: {e.Message}", e);
        }
    }

    /// <summary>After the last part: checks the store has no byte beyond <see cref="DeliveryImage.SizeBytes"/>.</summary>
    public async Task EnsureEndAsync(CancellationToken ct)
    {
        var probe = new byte[1];
        if (await ReadAsync(probe, ct).ConfigureAwait(false) != 0)
        {
            throw new ImageSourceException($"image {_image.Id} has more bytes in the store than the {_image.SizeBytes} recorded.");
        }
    }

    private int Count(int read, int asked)
    {
        _position += read;
        if (_position > _image.SizeBytes)
        {
            throw new ImageSourceException($"image {_image.Id} has more bytes in the store than the {_image.SizeBytes} recorded.");
        }
        if (read == 0 && asked > 0 && _position != _image.SizeBytes)
        {
            throw new ImageSourceException($"image {_image.Id} has {_position} bytes in the store, {_image.SizeBytes} recorded.");
        }
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>
/// The next <see cref="Length"/> bytes of a forward-only stream, as one part or block of a multipart upload. Reading it to
/// the end leaves the inner stream at the start of the next part; disposing it leaves the inner stream open.
/// </summary>
internal sealed class SliceStream(Stream inner, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var wanted = (int)Math.Min(buffer.Length, length - _position);
        if (wanted <= 0)
        {
            return 0;
        }
        var read = inner.Read(buffer[..wanted]);
        return Advance(read);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var wanted = (int)Math.Min(buffer.Length, length - _position);
        if (wanted <= 0)
        {
            return 0;
        }
        var read = await inner.ReadAsync(buffer[..wanted], cancellationToken).ConfigureAwait(false);
        return Advance(read);
    }

    private int Advance(int read)
    {
        if (read == 0)
        {
            throw new ImageSourceException($"the image ended {length - _position} bytes before the end of a {length}-byte part.");
        }
        _position += read;
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
