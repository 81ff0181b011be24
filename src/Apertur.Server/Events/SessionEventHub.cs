using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using Apertur.Server.Hosting;

namespace Apertur.Server.Events;

/// <summary>One thing that happened to a session, as SSE sends it: an event name and a single-line JSON payload.</summary>
public sealed record SessionEvent(string Name, string DataJson);

/// <summary>
/// In-process fan-out of session changes to SSE streams and delivery-status long-polls. Publishing never blocks:
/// a subscriber that falls far behind loses its oldest events (it can re-read the snapshot).
/// Every event also goes to the other replicas (<see cref="IReplicaSignals"/>, PostgreSQL NOTIFY), which hand it to their own
/// subscribers through <see cref="Deliver"/> (docs/scale-out.md).
/// </summary>
public sealed class SessionEventHub(IReplicaSignals replicas)
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Channel<SessionEvent>, byte>> _subscribers = new();
    private readonly Lock _gate = new();

    public void Publish(Guid sessionId, string name, object payload)
    {
        var evt = new SessionEvent(name, JsonSerializer.Serialize(payload, JsonOptions));
        Deliver(sessionId, evt);
        replicas.SessionEvent(sessionId, evt.Name, evt.DataJson);
    }

    /// <summary>
    /// Hands an already-serialised event to this process's subscribers only. <see cref="Publish"/> ends here; a
    /// cross-replica transport (PostgreSQL LISTEN/NOTIFY) calls it for events that other replicas published.
    /// </summary>
    public void Deliver(Guid sessionId, SessionEvent evt)
    {
        if (!_subscribers.TryGetValue(sessionId, out var channels))
        {
            return;
        }
        foreach (var channel in channels.Keys)
        {
            channel.Writer.TryWrite(evt);
        }
    }

    /// <summary>Open subscriptions of a session; lets tests prove that streams and long-polls let go.</summary>
    internal int SubscriberCount(Guid sessionId) => _subscribers.TryGetValue(sessionId, out var channels) ? channels.Count : 0;

    /// <summary>Receives every event of the session published after this call until disposed.</summary>
    public Subscription Subscribe(Guid sessionId)
    {
        var channel = Channel.CreateBounded<SessionEvent>(new BoundedChannelOptions(256)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        // Subscribe and unsubscribe serialise so a new subscriber never lands in a set that is being dropped.
        lock (_gate)
        {
            _subscribers.GetOrAdd(sessionId, _ => new()).TryAdd(channel, 0);
        }
        return new Subscription(channel.Reader, () =>
        {
            lock (_gate)
            {
                if (_subscribers.TryGetValue(sessionId, out var channels) && channels.TryRemove(channel, out _) && channels.IsEmpty)
                {
                    _subscribers.TryRemove(sessionId, out _);
                }
            }
            channel.Writer.TryComplete();
        });
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public sealed class Subscription(ChannelReader<SessionEvent> reader, Action dispose) : IDisposable
    {
        public ChannelReader<SessionEvent> Reader { get; } = reader;

        public void Dispose() => dispose();
    }
}

/// <summary>The SSE event names (docs/api.md "Live events (SSE)").</summary>
public static class SessionEventNames
{
    public const string Connected = "connected";
    public const string ImageReady = "image:ready";
    public const string ImageDelivering = "image:delivering";
    public const string ImageDelivered = "image:delivered";
    public const string ImageFailed = "image:failed";
    /// <summary>Not sent by the hosted service: an attempt failed and the delivery will be tried again (attempts, error, nextAttemptAt).</summary>
    public const string ImageRetrying = "image:retrying";
    public const string SessionCompleted = "session:completed";
    /// <summary>Not sent by the hosted service: tells the upload page and long-polls that settings changed.</summary>
    public const string SessionUpdated = "session:updated";
}
