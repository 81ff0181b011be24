namespace Apertur.Destinations.Tests.Files;

/// <summary>
/// An image source that serves its bytes, stops after <c>pauseAfter</c> of them until <see cref="Resume"/>, and says when
/// it stopped: a test looks at the server while an upload is half done, sequenced by signals, never by sleeps. With
/// <c>failOnResume</c> the read after the pause fails as a broken source would.
/// </summary>
internal sealed class PausingStream(byte[] bytes, int pauseAfter, bool failOnResume = false) : Stream
{
    private readonly TaskCompletionSource _paused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _position;

    public Task Paused => _paused.Task;

    public void Resume() => _resume.TrySetResult();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => bytes.Length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position >= pauseAfter && !_resume.Task.IsCompleted)
        {
            _paused.TrySetResult();
            _resume.Task.Wait();
            ThrowIfFailing();
        }
        return Serve(buffer);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position >= pauseAfter && !_resume.Task.IsCompleted)
        {
            _paused.TrySetResult();
            await _resume.Task.WaitAsync(cancellationToken);
            ThrowIfFailing();
        }
        return Serve(buffer.Span);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void ThrowIfFailing()
    {
        if (failOnResume)
        {
            throw new IOException("the disk went away");
        }
    }

    private int Serve(Span<byte> buffer)
    {
        var limit = _position < pauseAfter ? pauseAfter : bytes.Length;
        var count = Math.Min(buffer.Length, limit - _position);
        bytes.AsSpan(_position, count).CopyTo(buffer);
        _position += count;
        return count;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
