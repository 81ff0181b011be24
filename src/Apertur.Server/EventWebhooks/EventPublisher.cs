using System.Text;
using System.Text.Json;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.EventWebhooks;

/// <summary>
/// Writes an event into the outbox: one <c>event_logs</c> row holding the exact body subscribers receive, and one
/// <c>webhook_deliveries</c> row per active webhook of the project subscribed to the topic. It saves through the
/// caller's <see cref="AperturDb"/>, so inside the caller's transaction the event commits or rolls back with the change
/// that caused it. Nothing is written when no webhook listens. Saving also saves whatever else the context tracks:
/// call it once the caller's own changes are saved or meant to be.
/// </summary>
public sealed class EventPublisher(AperturDb db, TimeProvider time, EventDeliveryNudge nudge)
{
    // Every upload asks.
    private static readonly CompiledQuery<Func<AperturDb, Guid, IAsyncEnumerable<EventListener>>> ActiveWebhooks = new(() =>
        EF.CompileAsyncQuery((AperturDb db, Guid projectId) =>
            db.EventWebhooks.AsNoTracking().Where(w => w.ProjectId == projectId && w.IsActive).Select(w => new EventListener(w.Id, w.Topics))));

    /// <summary>
    /// Queues <paramref name="topic"/> (canonical) with <paramref name="data"/> (serialised as is: give it snake_case
    /// names). Outside a transaction the worker is nudged at once; inside one, call <see cref="Nudge"/> after the commit.
    /// Returns how many deliveries were queued.
    /// </summary>
    public async Task<int> PublishAsync(Guid projectId, string env, string topic, object data, CancellationToken ct) =>
        await PublishAsync(await ListenersAsync(projectId, ct), env, topic, data, ct);

    /// <summary>
    /// The project's active event webhooks, read once for several events of one operation (an upload's started and
    /// completed events): the upload path then costs one lookup instead of one per event, and none inside the commit.
    /// </summary>
    public async Task<EventListeners> ListenersAsync(Guid projectId, CancellationToken ct)
    {
        var webhooks = new List<EventListener>();
        await foreach (var webhook in ActiveWebhooks.For(db)(db, projectId).WithCancellation(ct))
        {
            webhooks.Add(webhook);
        }
        return new EventListeners(projectId, webhooks);
    }

    /// <summary>Like <see cref="PublishAsync(Guid, string, string, object, CancellationToken)"/>, to listeners already read.</summary>
    public async Task<int> PublishAsync(EventListeners listeners, string env, string topic, object data, CancellationToken ct)
    {
        var subscribed = listeners.Webhooks.Where(w => EventTopics.Matches(w.Topics, topic)).Select(w => w.Id).ToList();
        if (subscribed.Count == 0)
        {
            return 0;
        }
        var projectId = listeners.ProjectId;

        var now = Iso.Millis(time.GetUtcNow());
        var log = new EventLog
        {
            Id = Ids.New(time),
            ProjectId = projectId,
            Topic = topic,
            Env = env,
            Payload = EventPayload.Serialize(topic, projectId, data, now),
            CreatedAt = now,
        };
        db.EventLogs.Add(log);
        foreach (var webhookId in subscribed)
        {
            db.WebhookDeliveries.Add(new WebhookDelivery
            {
                Id = Ids.New(time),
                WebhookId = webhookId,
                EventLogId = log.Id,
                Topic = topic,
                Status = WebhookDeliveryStatus.Retrying,
                NextRetryAt = now,
                CreatedAt = now,
                UpdatedAt = now,
            });
        }
        // On SQLite this write waits for the write gate like every other, in or out of the caller's transaction (Data/WriteGate.cs).
        await db.SaveChangesAsync(ct);
        if (db.Database.CurrentTransaction is not null)
        {
            return subscribed.Count;
        }
        nudge.Poke();
        return subscribed.Count;
    }

    /// <summary>Wakes the delivery worker; for callers that published inside a transaction, after it committed.</summary>
    public void Nudge() => nudge.Poke();
}

/// <summary>A project's active event webhooks and the topics each listens to.</summary>
public sealed record EventListeners(Guid ProjectId, IReadOnlyList<EventListener> Webhooks);

public sealed record EventListener(Guid Id, string[] Topics);

/// <summary>The event envelope with both <c>event</c> and <c>topic</c> (docs/api.md "Event webhooks"), as compact UTF-8 JSON.</summary>
public static class EventPayload
{
    public static string Serialize(string topic, Guid projectId, object data, DateTimeOffset timestamp)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("event", topic);
            writer.WriteString("topic", topic);
            writer.WriteString("project_id", projectId.ToString());
            writer.WritePropertyName("data");
            JsonSerializer.Serialize(writer, data, data.GetType());
            writer.WriteString("timestamp", Iso.Format(timestamp));
            writer.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}

/// <summary>Wakes the event delivery worker now instead of at its next poll.</summary>
public sealed class EventDeliveryNudge(IReplicaSignals replicas) : Nudge(replicas, "event-delivery");
