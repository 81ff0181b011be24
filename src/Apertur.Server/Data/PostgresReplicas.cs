using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Apertur.Server.Deliveries;
using Apertur.Server.Events;
using Apertur.Server.EventWebhooks;
using Apertur.Server.Hosting;
using Npgsql;

namespace Apertur.Server.Data;

/// <summary>
/// One NOTIFY message between replicas on the channel <see cref="PostgresReplicas.Channel"/>: who sent it (a replica skips
/// its own echoes), and either a session event (<c>s</c>, <c>n</c>, <c>d</c>) or a nudge name (<c>u</c>).
/// </summary>
internal sealed record ReplicaMessage(
    [property: JsonPropertyName("o")] Guid Origin,
    [property: JsonPropertyName("s")] Guid? SessionId = null,
    [property: JsonPropertyName("n")] string? Name = null,
    [property: JsonPropertyName("d")] string? DataJson = null,
    [property: JsonPropertyName("u")] string? Nudge = null);

/// <summary>
/// The PostgreSQL side of <see cref="IReplicaSignals"/> (docs/scale-out.md): signals queue here and a background loop sends
/// them as <c>pg_notify</c> over a pooled connection, all those queued at once in one statement, after the publisher's own commit, as the in-process hub delivers.
/// Never blocks the publisher; a full queue drops the oldest signal (a lost signal costs a poll interval).
/// </summary>
public sealed partial class PostgresReplicas(DatabaseSettings database, ILogger<PostgresReplicas> logger) : BackgroundService, IReplicaSignals
{
    /// <summary>The one LISTEN/NOTIFY channel of a deployment's database.</summary>
    public const string Channel = "apertur_replicas";

    /// <summary>NOTIFY payloads must stay under 8000 bytes; an event larger than this reaches this replica's subscribers only.</summary>
    private const int MaxPayloadBytes = 7900;

    /// <summary>Signals sent in one statement at most (a few MB at the largest payloads).</summary>
    private const int MaxPerStatement = 500;

    private readonly Channel<string> _outbox = System.Threading.Channels.Channel.CreateBounded<string>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    /// <summary>This process among the replicas: its own notifications come back to it and are skipped.</summary>
    public Guid ProcessId { get; } = Guid.NewGuid();

    public void SessionEvent(Guid sessionId, string name, string dataJson) =>
        Enqueue(new ReplicaMessage(ProcessId, SessionId: sessionId, Name: name, DataJson: dataJson));

    public void Nudge(string name) => Enqueue(new ReplicaMessage(ProcessId, Nudge: name));

    private void Enqueue(ReplicaMessage message)
    {
        var payload = JsonSerializer.Serialize(message);
        if (System.Text.Encoding.UTF8.GetByteCount(payload) > MaxPayloadBytes)
        {
            LogTooLarge(logger, message.Name ?? message.Nudge ?? "?");
            return;
        }
        _outbox.Writer.TryWrite(payload);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _outbox.Reader.WaitToReadAsync(stoppingToken))
            {
                try
                {
                    // Everything queued by now goes in one statement (array order), so signals under load cost one round
                    // trip per batch, not one each. Identical signals of one statement arrive once (PostgreSQL delivers
                    // one of identical notifications of a transaction): a nudge queued twice, or an event repeated with
                    // the same data, which tells the other replicas nothing more.
                    var payloads = new List<string>();
                    while (payloads.Count < MaxPerStatement && _outbox.Reader.TryRead(out var payload))
                    {
                        payloads.Add(payload);
                    }
                    await using var connection = new NpgsqlConnection(database.ConnectionString);
                    await connection.OpenAsync(stoppingToken);
                    await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, payload) FROM unnest(@payloads) AS payload", connection);
                    notify.Parameters.AddWithValue("channel", Channel);
                    notify.Parameters.AddWithValue("payloads", payloads.ToArray());
                    await notify.ExecuteNonQueryAsync(stoppingToken);
                }
                catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    // The database is away: the signals of this batch are lost; the pollers find the work anyway.
                    LogSendFailed(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica signal {Name} is too large for NOTIFY; other replicas will not see it")]
    private static partial void LogTooLarge(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not notify the other replicas: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string error);
}

/// <summary>
/// Listens on <see cref="PostgresReplicas.Channel"/> over one dedicated connection for the life of the process and hands
/// what other replicas sent to this process's hub and nudges. A dropped connection is opened again with backoff (one
/// log line); on every (re)connect the local loops are woken, since signals sent meanwhile were lost.
/// </summary>
public sealed partial class PostgresReplicaListener(DatabaseSettings database, PostgresReplicas replicas, SessionEventHub hub,
    DeliveryNudge deliveries, EventDeliveryNudge eventDeliveries, FailureNudge failures, TimeProvider time, ILogger<PostgresReplicaListener> logger)
    : BackgroundService
{
    /// <summary>The <c>application_name</c> of the listening connection, as pg_stat_activity shows it.</summary>
    public const string ApplicationName = "apertur-listen";

    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LastBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(database.ConnectionString)
        {
            ApplicationName = ApplicationName,
            Pooling = false,
            // A silently dead peer is noticed within a minute rather than never.
            KeepAlive = 30,
        }.ToString();
        var backoff = FirstBackoff;
        var dropped = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => Receive(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgresReplicas.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                if (dropped)
                {
                    LogListeningAgain(logger);
                }
                backoff = FirstBackoff;
                WakeAll();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or System.IO.IOException or TimeoutException or InvalidOperationException)
            {
                dropped = true;
                LogDropped(logger, backoff.TotalSeconds, e.Message);
            }
            try
            {
                await Task.Delay(backoff, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            backoff = backoff * 2 < LastBackoff ? backoff * 2 : LastBackoff;
        }
    }

    private void Receive(string payload)
    {
        ReplicaMessage? message;
        try
        {
            message = JsonSerializer.Deserialize<ReplicaMessage>(payload);
        }
        catch (JsonException)
        {
            return;
        }
        if (message is null || message.Origin == replicas.ProcessId)
        {
            return;
        }
        if (message is { SessionId: { } sessionId, Name: { } name, DataJson: { } data })
        {
            hub.Deliver(sessionId, new SessionEvent(name, data));
        }
        else if (message.Nudge is { } nudge)
        {
            foreach (var local in new Nudge[] { deliveries, eventDeliveries, failures })
            {
                if (local.Name == nudge)
                {
                    local.PokeHere();
                }
            }
        }
    }

    private void WakeAll()
    {
        deliveries.PokeHere();
        eventDeliveries.PokeHere();
        failures.PokeHere();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the connection listening to other replicas; trying again in {Seconds} s: {Error}")]
    private static partial void LogDropped(ILogger logger, double seconds, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening to other replicas again")]
    private static partial void LogListeningAgain(ILogger logger);
}
