using System.Buffers;
using System.Net;
using System.Security.Cryptography;

using Apertur.Destinations.Storage;

namespace Apertur.Destinations.Webhooks;

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
