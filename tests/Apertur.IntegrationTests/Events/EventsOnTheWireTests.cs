using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Events;
using Shouldly;

namespace Apertur.IntegrationTests.Events;

/// <summary>
/// The SSE stream on real Kestrel, read as raw HTTP/1.1: the Node parser loses an event split across reads, so each
/// event must leave the server as exactly one chunk. The in-memory server cannot show chunk boundaries.
/// </summary>
public sealed class EventsOnTheWireTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Stream_OnKestrel_SendsEachEventAsExactlyOneChunk(string db)
    {
        await using var app = await TestApp.StartAsync(db, kestrel: true);
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        var address = app.KestrelAddress!;

        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var wire = new RawHttp(tcp.GetStream());
        await wire.SendAsync($"GET /api/v1/upload/{uuid}/events HTTP/1.1\r\nHost: {address.Authority}\r\nAccept: text/event-stream\r\n\r\n");

        var head = await wire.ReadHeadAsync();
        head.ShouldStartWith("HTTP/1.1 200");
        head.ShouldContain("Content-Type: text/event-stream", Case.Insensitive);
        head.ShouldContain("Cache-Control: no-cache", Case.Insensitive);
        head.ShouldContain("X-Accel-Buffering: no", Case.Insensitive);
        head.ShouldContain("Transfer-Encoding: chunked", Case.Insensitive);

        (await wire.ReadChunkAsync()).ShouldBe($"event: connected\ndata: {{\"sessionId\":\"{uuid}\"}}\n\n");
        var imageId = Guid.CreateVersion7();
        Seed.Publish(app, uuid, SessionEventNames.ImageReady, new { imageId, filename = "a.jpg", sizeBytes = 3 });
        Seed.Publish(app, uuid, SessionEventNames.ImageDelivering, new { imageId });
        (await wire.ReadChunkAsync()).ShouldBe($"event: image:ready\ndata: {{\"imageId\":\"{imageId}\",\"filename\":\"a.jpg\",\"sizeBytes\":3}}\n\n");
        (await wire.ReadChunkAsync()).ShouldBe($"event: image:delivering\ndata: {{\"imageId\":\"{imageId}\"}}\n\n");
    }

    /// <summary>Just enough HTTP/1.1 to read a head and then chunk by chunk.</summary>
    private sealed class RawHttp(NetworkStream stream)
    {
        private readonly List<byte> _buffer = [];

        public Task SendAsync(string request) => stream.WriteAsync(Encoding.ASCII.GetBytes(request)).AsTask();

        public async Task<string> ReadHeadAsync()
        {
            var head = new StringBuilder();
            string line;
            while ((line = await ReadLineAsync()).Length > 0)
            {
                head.Append(line).Append('\n');
            }
            return head.ToString();
        }

        public async Task<string> ReadChunkAsync()
        {
            var size = int.Parse(await ReadLineAsync(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var data = await ReadBytesAsync(size);
            (await ReadLineAsync()).ShouldBeEmpty();
            return Encoding.UTF8.GetString(data);
        }

        private async Task<string> ReadLineAsync()
        {
            int end;
            while ((end = IndexOfCrLf()) < 0)
            {
                await FillAsync();
            }
            var line = Encoding.ASCII.GetString(_buffer.GetRange(0, end).ToArray());
            _buffer.RemoveRange(0, end + 2);
            return line;
        }

        private async Task<byte[]> ReadBytesAsync(int count)
        {
            while (_buffer.Count < count)
            {
                await FillAsync();
            }
            var bytes = _buffer.GetRange(0, count).ToArray();
            _buffer.RemoveRange(0, count);
            return bytes;
        }

        private async Task FillAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var chunk = new byte[4096];
            var read = await stream.ReadAsync(chunk, timeout.Token);
            if (read == 0)
            {
                throw new EndOfStreamException("connection closed");
            }
            _buffer.AddRange(chunk.AsSpan(0, read));
        }

        private int IndexOfCrLf()
        {
            for (var i = 0; i + 1 < _buffer.Count; i++)
            {
                if (_buffer[i] == '\r' && _buffer[i + 1] == '\n')
                {
                    return i;
                }
            }
            return -1;
        }
    }
}
