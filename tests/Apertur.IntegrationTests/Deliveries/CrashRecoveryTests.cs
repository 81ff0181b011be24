using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Server.Delivery;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
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
        // This in-memory server only prepares the storage (schema, keys, destination, session) and reads it; it runs no worker.
        await using var owner = await TestApp.StartAsync(database, DeliveryKit.Settings(new Dictionary<string, string?> { ["Apertur:Delivery:WorkerEnabled"] = "false" }));
        var destination = await DeliveryKit.WebhookAsync(owner, receiver.Url());
        var sessionId = await DeliveryKit.SessionAsync(owner, destination);

        var port = FreePort();
        var child = Environment(owner, port);
        var uploaded = new List<Guid>();
        List<Guid> sentAtKill, sendingAtKill;
        TimeSpan killedAt;
        using (var server = await StartServerAsync(child, port))
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            for (var i = 0; i < Images; i++)
            {
                var answer = await client.UploadOkAsync(sessionId, "small.jpg");
                uploaded.Add(Guid.Parse(answer.GetProperty("id").GetString()!));
            }
            await receiver.WaitForAsync(12, timeout: TimeSpan.FromSeconds(30));
            server.Process.Kill();
            killedAt = receiver.Now;
            await server.Process.WaitForExitAsync();
            output.WriteLine($"killed after {receiver.Requests.Count} requests");
            (sentAtKill, sendingAtKill) = await SnapshotAsync(owner);
        }
        sentAtKill.ShouldNotBeEmpty("some deliveries finished before the kill");
        sendingAtKill.ShouldNotBeEmpty("some deliveries were in flight at the kill");

        using (await StartServerAsync(child, port))
        {
            await Wait.UntilAsync(async () => (await SnapshotAsync(owner)).Sent.Count == Images, TimeSpan.FromSeconds(60), "every delivery sent after the restart");
        }

        var seen = receiver.Requests.GroupBy(r => r.DeliveryId).ToDictionary(g => Guid.Parse(g.Key), g => g.OrderBy(r => r.Number).ToList());
        await using var scope = owner.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var deliveries = await db.Deliveries.AsNoTracking().ToListAsync();
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
        await using var scope = owner.Services.CreateAsyncScope();
        var rows = await scope.ServiceProvider.GetRequiredService<AperturDb>().Deliveries.AsNoTracking().Select(d => new { d.Id, d.Status }).ToListAsync();
        return (rows.Where(r => r.Status == DeliveryStatus.Sent).Select(r => r.Id).ToList(),
            rows.Where(r => r.Status == DeliveryStatus.Sending).Select(r => r.Id).ToList());
    }

    /// <summary>The owner's settings as environment variables, plus a fast lease so the restart reclaims quickly.</summary>
    private static Dictionary<string, string> Environment(TestApp owner, int port)
    {
        var env = owner.Settings.Where(s => s.Value is not null).ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value!);
        env["Urls"] = $"http://127.0.0.1:{port}";
        env["Logging__LogLevel__Default"] = "Warning";
        env["Apertur__Delivery__WorkerEnabled"] = "true";
        env["Apertur__Delivery__Concurrency"] = "4";
        env["Apertur__Delivery__AttemptTimeout"] = "00:00:02";
        env["Apertur__Delivery__Lease"] = "00:00:04";
        return env;
    }

    private sealed class ChildServer(Process process, StringBuilder log) : IDisposable
    {
        public Process Process { get; } = process;
        public StringBuilder Log { get; } = log;

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill();
                Process.WaitForExit();
            }
            Process.Dispose();
        }
    }

    private async Task<ChildServer> StartServerAsync(Dictionary<string, string> env, int port)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Apertur.Server.dll"));
        foreach (var (k, v) in env)
        {
            start.Environment[k] = v;
        }
        var log = new StringBuilder();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var child = new ChildServer(process, log);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        try
        {
            await Wait.UntilAsync(async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"the server exited with {process.ExitCode}: {log}");
                }
                try
                {
                    using var health = await http.GetAsync("/healthz");
                    return health.IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), "the server to start");
        }
        catch
        {
            output.WriteLine(log.ToString());
            child.Dispose();
            throw;
        }
        return child;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
