using System.Globalization;
using System.Net.Sockets;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Webhooks;

namespace Apertur.Destinations.Storage;

/// <summary>
/// What went wrong on the way to a storage server, before it answered, in words a person can act on, and whether it is
/// worth retrying: the SSRF guard's refusal is permanent, an unreadable image and network trouble are not.
/// </summary>
internal static class Failures
{
    /// <summary>The first exception of type <typeparamref name="T"/> in the chain of inner exceptions.</summary>
    public static T? Find<T>(Exception? error) where T : Exception
    {
        for (; error is not null; error = error.InnerException)
        {
            if (error is T found)
            {
                return found;
            }
            if (error is AggregateException { InnerExceptions.Count: > 0 } aggregate && Find<T>(aggregate.InnerExceptions[0]) is { } inner)
            {
                return inner;
            }
        }
        return null;
    }

    /// <summary>
    /// A failure that happened before any answer (guard, image, connection), or null when the exception is none of these.
    /// <paramref name="endpoint"/> is <c>host:port</c>.
    /// </summary>
    public static DeliveryResult? BeforeAnswer(Exception error, string endpoint)
    {
        if (Find<OutboundBlockedException>(error) is { } blocked)
        {
            return new DeliveryResult.Rejected(blocked.Message);
        }
        if (Find<ImageSourceException>(error) is { } image)
        {
            return new DeliveryResult.RetryLater($"Could not read the image: {image.Message}");
        }
        if (Find<HttpRequestException>(error) is { } http)
        {
            return new DeliveryResult.RetryLater(Network(http, endpoint));
        }
        if (Find<SocketException>(error) is { } socket)
        {
            return new DeliveryResult.RetryLater($"Could not connect to {endpoint} ({Socket(socket.SocketErrorCode)})");
        }
        if (Find<IOException>(error) is { } io)
        {
            return new DeliveryResult.RetryLater($"Connection to {endpoint} failed ({io.Message})");
        }
        return null;
    }

    /// <summary>A network failure in words: "Could not connect to host:port (connection refused)".</summary>
    public static string Network(HttpRequestException error, string endpoint)
    {
        var socket = Find<SocketException>(error);
        var connecting = error.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;
        var what = socket is not null ? Socket(socket.SocketErrorCode) : error.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "host not found",
            HttpRequestError.SecureConnectionError => "TLS handshake failed: " + (error.InnerException?.Message ?? error.Message),
            HttpRequestError.ResponseEnded => "the server closed the connection without answering",
            HttpRequestError.InvalidResponse => "the server's answer is not valid HTTP",
            _ => error.InnerException?.Message ?? error.Message,
        };
        return connecting ? $"Could not connect to {endpoint} ({what})" : $"Request to {endpoint} failed ({what})";
    }

    public static string TimedOut(TimeSpan timeout) =>
        $"Timed out after {timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s";

    public static string Endpoint(Uri url) => $"{url.Host}:{url.Port}";

    private static string Socket(SocketError code) => code switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
        SocketError.ConnectionReset => "connection reset",
        SocketError.ConnectionAborted => "connection aborted",
        SocketError.TimedOut => "connection timed out",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.NetworkUnreachable or SocketError.NetworkDown => "network unreachable",
        _ => code.ToString(),
    };
}
