using System.Text;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>Reads a raw <c>text/event-stream</c> the way the Node SDK does: bytes in, frames split on a blank line.</summary>
public sealed class SseReader : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);
    private readonly Stream _body;
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly StringBuilder _pending = new();
    private readonly byte[] _buffer = new byte[4096];

    private SseReader(HttpResponseMessage response, Stream body)
    {
        Response = response;
        _body = body;
    }

    public HttpResponseMessage Response { get; }

    /// <summary>Opens the stream and returns once the headers arrived; the body is read frame by frame.</summary>
    public static async Task<SseReader> OpenAsync(HttpClient client, string url, CancellationToken ct = default)
    {
        var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
        return new SseReader(response, await response.Content.ReadAsStreamAsync(ct));
    }

    /// <summary>The next whole frame, including its terminating blank line, exactly as sent.</summary>
    public async Task<string> NextFrameAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf("\n\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 2);
                return text[..(end + 2)];
            }
            var read = await _body.ReadAsync(_buffer, cts.Token);
            if (read == 0)
            {
                throw new EndOfStreamException($"stream ended; unparsed: {text}");
            }
            var chars = new char[_decoder.GetCharCount(_buffer, 0, read)];
            _decoder.GetChars(_buffer, 0, read, chars, 0);
            _pending.Append(chars);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _body.DisposeAsync();
        Response.Dispose();
    }
}
