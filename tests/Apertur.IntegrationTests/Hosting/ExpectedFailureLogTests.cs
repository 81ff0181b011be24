using System.Net;
using System.Net.Sockets;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Server.Delivery;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// Failures that are part of the job (a connection test that fails, a receiver that refuses the connection or answers 500)
/// are logged in one line each, without a stack trace; stack traces are for the unexpected.
/// </summary>
public sealed class ExpectedFailureLogTests
{
    [Fact]
    public async Task ConnectionTest_ReceiverRefusesTheConnection_OneLogLineWithoutStackTrace()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite);
        var projectId = await app.Client.ProjectIdAsync();
        var destination = await app.Client.CreateDestinationAsync($$$"""{"type":"webhook","name":"Closed","config":{"url":"http://127.0.0.1:{{{ClosedPort()}}}/hook"}}""");
        var destinationId = destination.GetProperty("id").GetString()!;

        using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/destinations/{destinationId}/test", null);

        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await response.ReadJsonAsync()).GetProperty("success").GetBoolean().ShouldBeFalse();
        var log = app.Output.Text;
        log.ShouldNotContain("   at ", customMessage: log);
        log.Split('\n').Count(l => l.Contains($"Connection test of destination {destinationId} (webhook) failed", StringComparison.Ordinal)).ShouldBe(1, log);
    }

    [Fact]
    public async Task Delivery_ReceiverRefusesThenAnswers500_OneLogLinePerAttemptWithoutStackTrace()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        };
        await using var app = await DeliveryKit.StartAsync(Databases.Sqlite);
        var refused = await DeliveryKit.WebhookAsync(app, new Uri($"http://127.0.0.1:{ClosedPort()}/hook"), name: "Closed");
        var failing = await DeliveryKit.WebhookAsync(app, receiver.Url(), name: "Failing");
        var sessionId = await DeliveryKit.SessionAsync(app, refused, failing);

        var image = await DeliveryKit.UploadAsync(app, sessionId);
        await Wait.UntilAsync(async () =>
        {
            var attempted = (await DeliveriesOfAsync(app, image)).Count(d => d is { Attempts: >= 1, Status: not DeliveryStatus.Sending });
            return attempted == 2;
        }, TimeSpan.FromMinutes(1), "both deliveries attempted once");

        var log = app.Output.Text;
        log.ShouldNotContain("   at ", customMessage: log);
        log.ShouldContain("to Closed will be retried", customMessage: log);
        log.ShouldContain("to Failing will be retried", customMessage: log);
    }

    private static async Task<List<Server.Delivery.Delivery>> DeliveriesOfAsync(TestApp app, Guid imageId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        return await db.Deliveries.AsNoTracking().Where(d => d.ImageId == imageId).ToListAsync();
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
