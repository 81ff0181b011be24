using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit.Abstractions;

namespace Apertur.IntegrationTests.Deliveries;

/// <summary>
/// The real server as a child process, killed with SIGKILL while deliveries are in flight, then started again: every
/// image answered 201 is delivered, and a receiver that answered 2xx for a delivery the server had recorded as sent never
/// sees it again. Only deliveries that were mid-request at the kill come twice (at-least-once, same delivery id).
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const int Images = 40;

    [Theory, ClassData(typeof(Databases))]
    public async Task SigkillMidFlight_Restart_EveryImageDeliveredAndOnlyInFlightOnesTwice(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = async (context, _) =>
        {
            await Task.Delay(400, context.RequestAborted);
            await context.Response.WriteAsync("ok");
        };
        // This in-memory server only prepares the storage (schema, keys, destination, session), then stops: the server
        // process serves that data directory alone (SQLite serves one process per data directory) and the test reads the
        // database directly.
        await using var owner = await TestApp.StartAsync(database, DeliveryKit.Settings(new Dictionary<string, string?> { ["Apertur:Workers:Enabled"] = "false" }));
        var destination = await DeliveryKit.WebhookAsync(owner, receiver.Url());
        var sessionId = await DeliveryKit.SessionAsync(owner, destination);
        await owner.StopServerAsync();

        var child = Environment(owner);
        var uploaded = new List<Guid>();
        List<Guid> sentAtKill, sendingAtKill;
        TimeSpan killedAt;
        await using (var server = await StartServerAsync(child))
        {
            using var client = new HttpClient { BaseAddress = await server.ListeningAsync() };
            for (var i = 0; i < Images; i++)
            {
                var answer = await client.UploadOkAsync(sessionId, "small.jpg");
                uploaded.Add(Guid.Parse(answer.GetProperty("id").GetString()!));
            }
            await receiver.WaitForAsync(12, timeout: TimeSpan.FromSeconds(30));
            await server.KillAsync();
            killedAt = receiver.Now;
            output.WriteLine($"killed after {receiver.Requests.Count} requests");
            (sentAtKill, sendingAtKill) = await SnapshotAsync(owner);
        }
        sentAtKill.ShouldNotBeEmpty("some deliveries finished before the kill");
        sendingAtKill.ShouldNotBeEmpty("some deliveries were in flight at the kill");

        await using (await StartServerAsync(child))
        {
            await Wait.UntilAsync(async () => (await SnapshotAsync(owner)).Sent.Count == Images, TimeSpan.FromSeconds(60), "every delivery sent after the restart");
        }

        var seen = receiver.Requests.GroupBy(r => r.DeliveryId).ToDictionary(g => Guid.Parse(g.Key), g => g.OrderBy(r => r.Number).ToList());
        var deliveries = await owner.ReadStorageAsync(db => db.Deliveries.AsNoTracking().ToListAsync());
        deliveries.Select(d => d.ImageId).Order().ShouldBe(uploaded.Order());
        foreach (var delivery in deliveries)
        {
            delivery.Status.ShouldBe(DeliveryStatus.Sent);
            seen.ShouldContainKey(delivery.Id);
        }
        foreach (var id in sentAtKill)
        {
            seen[id].Count.ShouldBe(1, $"delivery {id} was recorded as sent before the kill");
        }
        var twice = seen.Where(s => s.Value.Count > 1).ToList();
        output.WriteLine($"{sentAtKill.Count} sent and {sendingAtKill.Count} in flight at the kill; {twice.Count} delivered twice");
        foreach (var (id, requests) in twice)
        {
            sendingAtKill.ShouldContain(id, $"delivery {id} came twice but was not in flight at the kill");
            requests[0].ArrivedAt.ShouldBeLessThan(killedAt);
            requests.Count.ShouldBe(2);
        }
    }

    private static async Task<(List<Guid> Sent, List<Guid> Sending)> SnapshotAsync(TestApp owner)
    {
        var rows = await owner.ReadStorageAsync(db => db.Deliveries.AsNoTracking().Select(d => new { d.Id, d.Status }).ToListAsync());
        return (rows.Where(r => r.Status == DeliveryStatus.Sent).Select(r => r.Id).ToList(),
            rows.Where(r => r.Status == DeliveryStatus.Sending).Select(r => r.Id).ToList());
    }

    /// <summary>The owner's settings as environment variables, plus a fast lease so the restart reclaims quickly.</summary>
    private static Dictionary<string, string> Environment(TestApp owner)
    {
        var env = ServerProcess.TakingOver(owner.Settings);
        env["Apertur__Delivery__Concurrency"] = "4";
        env["Apertur__Delivery__AttemptTimeout"] = "00:00:02";
        env["Apertur__Delivery__Lease"] = "00:00:04";
        return env;
    }

    private Task<ServerProcess> StartServerAsync(Dictionary<string, string> env) => ServerProcess.StartListeningAsync([], env, output);
}
