using System.Net;
using System.Text.Json;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Server.Events;
using Apertur.Tests;
using Npgsql;
using Shouldly;

namespace Apertur.IntegrationTests.ScaleOut;

/// <summary>
/// Several servers on one PostgreSQL database behave as one (docs/scale-out.md): session events, long-poll wake-ups and
/// worker nudges go from one replica to the others through LISTEN/NOTIFY. Timeouts bound the waits; nothing times them.
/// </summary>
public sealed class ReplicaFanOutTests
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task AnUploadThroughA_ReachesAStreamOnB_AndIsPulledAndAcknowledgedThroughC()
    {
        await using var a = await TestApp.StartAsync(Databases.Postgres);
        await using var b = await a.StartAnotherAsync();
        await using var c = await a.StartAnotherAsync();
        var uuid = (await a.Client.CreateSessionAsync("""{"long_polling":true}""")).GetProperty("uuid").GetString()!;
        using var listener = b.CreateClient();
        await using var stream = await SseReader.OpenAsync(listener, $"/api/v1/upload/{uuid}/events");
        (await stream.NextFrameAsync()).ShouldStartWith("event: connected\n");

        using var phone = a.CreateClient();
        var uploaded = await phone.UploadOkAsync(uuid, "small.jpg");
        var imageId = uploaded.GetProperty("id").GetString()!;

        (await stream.NextFrameAsync(Arrival)).ShouldStartWith($"event: image:ready\ndata: {{\"imageId\":\"{imageId}\"");
        using var listed = await c.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/poll");
        (await listed.Content.ReadAsStringAsync()).ShouldContain(imageId);
        using var download = await c.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}");
        (await download.Content.ReadAsByteArrayAsync()).ShouldBe(Fixture.Bytes("small.jpg"));
        using var ack = await c.Client.PostAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}/ack", null);
        ack.StatusCode.ShouldBe(HttpStatusCode.OK);
        // C's acknowledgement reaches B's stream too.
        (await stream.NextFrameAsync(Arrival)).ShouldStartWith("event: session:updated\n");
    }

    [Fact]
    public async Task AnUploadThroughB_WakesTheWorkerOnA_AndADeliveryStatusPollHeldOnC_Returns()
    {
        await using var receiver = await TestReceiver.StartAsync();
        // Only A delivers, and it polls once a minute: only B's nudge gets the delivery out quickly. C rechecks once a
        // minute too: only A's event ends C's held poll.
        await using var a = await TestApp.StartAsync(Databases.Postgres, DeliveryKit.Settings(new Dictionary<string, string?>
        {
            ["Apertur:Delivery:PollInterval"] = "00:01:00",
            ["Apertur:Polling:DeliveryStatusHold"] = "00:01:00",
            ["Apertur:Polling:DeliveryStatusRecheck"] = "00:01:00",
        }));
        await using var b = await a.StartAnotherAsync(new Dictionary<string, string?> { ["Apertur:Workers:Enabled"] = "false" });
        await using var c = await a.StartAnotherAsync(new Dictionary<string, string?> { ["Apertur:Workers:Enabled"] = "false" });
        var destination = await DeliveryKit.WebhookAsync(a, receiver.Url());
        var uuid = await DeliveryKit.SessionAsync(a, destination);
        var lastChanged = (await (await c.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status")).ReadJsonAsync())
            .GetProperty("lastChanged").GetString()!;
        using var held = c.Client.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status?pollFrom={Uri.EscapeDataString(lastChanged)}");

        await DeliveryKit.UploadAsync(b, uuid);

        await receiver.WaitForAsync(1);
        using var answer = await held.WaitAsync(Arrival);
        answer.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await answer.Content.ReadAsStringAsync()).ShouldContain("\"status\":\"");
    }

    [Fact]
    public async Task TheListeningConnectionDropped_IsOpenedAgain_AndEventsFlowAgain()
    {
        await using var a = await TestApp.StartAsync(Databases.Postgres);
        await using var b = await a.StartAnotherAsync();
        var uuid = (await a.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        using var listener = b.CreateClient();
        await using var stream = await SseReader.OpenAsync(listener, $"/api/v1/upload/{uuid}/events");
        (await stream.NextFrameAsync()).ShouldStartWith("event: connected\n");

        var database = new NpgsqlConnectionStringBuilder(a.Settings["Apertur:Database:ConnectionString"]).Database!;
        await using var admin = new NpgsqlConnection(TestApp.PostgresAdminConnectionString);
        await admin.OpenAsync();
        (await ListenersAsync(admin, database, terminate: true)).ShouldBe(2);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await ListenersAsync(admin, database, terminate: false) < 2)
        {
            waited.Elapsed.ShouldBeLessThan(Arrival, "the listeners did not come back");
            await Task.Delay(100);
        }

        // An event published while B's LISTEN was not yet in place is lost by design: publish until one arrives.
        using var stop = new CancellationTokenSource();
        var publishing = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                Seed.Publish(a, uuid, SessionEventNames.SessionUpdated, new { sessionId = uuid });
                await Task.Delay(200);
            }
        });
        (await stream.NextFrameAsync(Arrival)).ShouldStartWith("event: session:updated\n");
        await stop.CancelAsync();
        await publishing;
        b.Output.Text.ShouldContain("Lost the connection listening to other replicas");
    }

    // What a replica says on the channel: every signal queued at once arrives, in order (they go in one statement); an
    // upload nudges the other replicas' event-webhook workers only when an event webhook listens to its completion.
    [Fact]
    public async Task Signals_QueuedTogetherArriveInOrder_AndUploadsNudgeTheEventWorkerOnlyForAListeningWebhook()
    {
        await using var a = await TestApp.StartAsync(Databases.Postgres);
        var uuid = (await a.Client.CreateSessionAsync("""{"max_images":10}""")).GetProperty("uuid").GetString()!;
        await using var channel = await ChannelListener.StartAsync(a);

        for (var i = 0; i < 300; i++)
        {
            Seed.Publish(a, uuid, SessionEventNames.SessionUpdated, new { i });
        }
        var numbers = new List<int>();
        while (numbers.Count < 300)
        {
            using var message = JsonDocument.Parse(await channel.NextAsync(Arrival));
            if (message.RootElement.TryGetProperty("d", out var data) && data.GetString() is { } json && json.Contains("\"i\"", StringComparison.Ordinal))
            {
                numbers.Add(JsonDocument.Parse(json).RootElement.GetProperty("i").GetInt32());
            }
        }
        numbers.ShouldBe(Enumerable.Range(0, 300));

        // No event webhook: the uploads' events arrive and no event-delivery nudge comes before them (the committer would
        // queue it before the handler publishes the upload's session event).
        using var phone = a.CreateClient();
        var lastImage = "";
        for (var i = 0; i < 3; i++)
        {
            lastImage = (await phone.UploadOkAsync(uuid, "small.jpg")).GetProperty("id").GetString()!;
        }
        var nudges = new List<string>();
        while (true)
        {
            var message = await channel.NextAsync(Arrival);
            if (NudgeName(message) is { } nudge)
            {
                nudges.Add(nudge);
            }
            if (message.Contains(lastImage, StringComparison.Ordinal))
            {
                break;
            }
        }
        nudges.ShouldNotContain("event-delivery");

        // A webhook listening to completed uploads only: the commit queues its delivery and nudges.
        await EventWebhooks.EventHooks.CreateWebhookAsync(a, """{"url":"https://example.com/hook","topics":["project.upload.completed"]}""");
        await phone.UploadOkAsync(uuid, "small.jpg");
        while (NudgeName(await channel.NextAsync(Arrival)) != "event-delivery")
        {
        }

        static string? NudgeName(string message) =>
            JsonDocument.Parse(message).RootElement.TryGetProperty("u", out var nudge) ? nudge.GetString() : null;
    }

    // A LISTEN on the replicas' channel of the app's database, as another replica would hold it.
    private sealed class ChannelListener : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _received = new();

        private ChannelListener(NpgsqlConnection connection)
        {
            _connection = connection;
            _connection.Notification += (_, e) => _received.Enqueue(e.Payload);
        }

        public static async Task<ChannelListener> StartAsync(TestApp app)
        {
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(app.Settings["Apertur:Database:ConnectionString"]) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var listen = new NpgsqlCommand($"LISTEN {PostgresReplicas.Channel}", connection);
            await listen.ExecuteNonQueryAsync();
            return new ChannelListener(connection);
        }

        public async Task<string> NextAsync(TimeSpan timeout)
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            string? message;
            while (!_received.TryDequeue(out message))
            {
                var left = timeout - waited.Elapsed;
                left.ShouldBeGreaterThan(TimeSpan.Zero, "no message on the replicas' channel");
                await _connection.WaitAsync(left);
            }
            return message;
        }

        public ValueTask DisposeAsync() => _connection.DisposeAsync();
    }

    private static async Task<int> ListenersAsync(NpgsqlConnection admin, string database, bool terminate)
    {
        await using var cmd = admin.CreateCommand();
        cmd.CommandText = (terminate ? "SELECT count(pg_terminate_backend(pid))" : "SELECT count(*)")
            + " FROM pg_stat_activity WHERE datname = @database AND application_name = @name";
        cmd.Parameters.AddWithValue("database", database);
        cmd.Parameters.AddWithValue("name", PostgresReplicaListener.ApplicationName);
        return Convert.ToInt32(await cmd.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
