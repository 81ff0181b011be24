using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.EventWebhooks;

/// <summary><c>project.session.expired</c>: fired once by the sweep after the clock passes a session's expiry.</summary>
public sealed class SessionExpiredEventTests : IAsyncLifetime
{
    private TestReceiver _receiver = null!;

    public async Task InitializeAsync() => _receiver = await TestReceiver.StartAsync();

    public async Task DisposeAsync() => await _receiver.DisposeAsync();

    private static JsonElement Json(ReceivedRequest request)
    {
        using var doc = JsonDocument.Parse(request.Body);
        return doc.RootElement.Clone();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task SessionExpired_FiresOnceAfterTheClockPassesExpiry(string db)
    {
        var clock = new ManualClock();
        await using var app = await EventHooks.StartAsync(db, clock);
        await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{_receiver.Url()}}","topics":["project.session.expired"]}""");
        var soon = (await app.Client.CreateSessionAsync("""{"expires_in":600,"tags":["a:b"]}""")).GetProperty("uuid").GetString();
        await app.Client.CreateSessionAsync("""{"expires_in_hours":2}""");

        clock.Advance(TimeSpan.FromSeconds(599));
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System);
        _receiver.Requests.ShouldBeEmpty();

        clock.Advance(TimeSpan.FromSeconds(1));
        var request = (await _receiver.WaitForAsync(1)).Single();
        var body = Json(request);
        body.GetProperty("event").GetString().ShouldBe("project.session.expired");
        body.GetProperty("data").GetProperty("id").GetString().ShouldBe(soon);
        body.GetProperty("data").GetProperty("status").GetString().ShouldBe("expired");
        body.GetProperty("data").GetProperty("tags").EnumerateArray().Select(t => t.GetString()).ShouldBe(["a:b"]);
        body.GetProperty("timestamp").GetString().ShouldBe("2026-11-02T12:10:00.000Z");

        // Many sweeps later, still once. The answer is recorded first: moving the manual clock while the attempt is in
        // flight would time it out (its timeout runs on this clock) and retry it.
        await EventHooks.WaitForSentAsync(app, 1);
        clock.Advance(TimeSpan.FromMinutes(30));
        await Task.Delay(TimeSpan.FromMilliseconds(400), TimeProvider.System);
        _receiver.Requests.Count.ShouldBe(1);
        (await EventHooks.DeliveriesAsync(app)).Count.ShouldBe(1);

        clock.Advance(TimeSpan.FromHours(2));
        await _receiver.WaitForAsync(2);
        await Task.Delay(TimeSpan.FromMilliseconds(300), TimeProvider.System);
        _receiver.Requests.Count.ShouldBe(2);
    }
}
