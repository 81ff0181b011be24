using System.Text;

namespace Apertur.Server.Events;

/// <summary>
/// Server-sent-event framing as the Node SDK's parser needs it (docs/api.md "Live events (SSE)"): <c>event: name\ndata: json\n\n</c>,
/// one space after each colon, LF only, a single data line. Hand-written rather than .NET's SseFormatter because
/// heartbeats are comment lines and each frame must reach the socket as one write.
/// </summary>
public static class SseFrame
{
    public const string Heartbeat = ": heartbeat\n\n";

    public static string Event(string name, string dataJson)
    {
        if (name.Length == 0 || name.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("An SSE event name is one non-empty line.", nameof(name));
        }
        // JSON holds raw CR or LF only as whitespace between tokens, so a space keeps the data on one line unchanged.
        var data = dataJson.Replace('\r', ' ').Replace('\n', ' ');
        return $"event: {name}\ndata: {data}\n\n";
    }

    public static byte[] Bytes(string frame) => Encoding.UTF8.GetBytes(frame);
}
