using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.Destinations;

/// <summary><c>POST …/destinations/{id}/test</c> against a real receiver on loopback.</summary>
public sealed class DestinationTestEndpointTests
{
    private static string SdkSignature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private static async Task<JsonElement> TestAsync(TestApp app, string destinationId)
    {
        var projectId = await app.Client.ProjectIdAsync();
        // The .NET SDK posts no body.
        using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/destinations/{destinationId}/test", null);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Webhook_ReachableReceiver_SucceedsWithStatusAndTheProjectsSignature(string db)
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await TestApp.StartAsync(db);
        var destination = await app.Client.CreateDestinationAsync($$$"""{"type":"webhook","name":"Receiver","config":{"url":"{{{receiver.Url()}}}"}}""");

        var result = await TestAsync(app, destination.GetProperty("id").GetString()!);

        result.GetProperty("success").GetBoolean().ShouldBeTrue();
        result.GetProperty("status").GetInt32().ShouldBe(200);
        result.GetProperty("message").GetString().ShouldNotBeNullOrWhiteSpace();
        result.TryGetProperty("error", out _).ShouldBeFalse();
        receiver.Requests.Count.ShouldBe(1);
        receiver.Requests.TryDequeue(out var request).ShouldBeTrue();
        var secret = (await (await app.Client.GetAsync("/api/v1/project")).ReadJsonAsync()).GetProperty("webhookSecret").GetString()!;
        request!.Header("X-Aptr-Signature").ShouldBe(SdkSignature(secret, request.Body));
        request.Header("X-Apertur-Signature").ShouldBe(request.Header("X-Aptr-Signature"));
        request.Header("webhook-signature").Split(' ').Length.ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Webhook_AfterRotation_SignsWithTheNewSecretAndListsThePreviousOne(string db)
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await TestApp.StartAsync(db);
        var destination = await app.Client.CreateDestinationAsync($$$"""{"type":"webhook","name":"Receiver","config":{"url":"{{{receiver.Url()}}}"}}""");
        var rotated = await (await app.Client.PostAsync("/api/v1/project/webhook-secret/rotate", null)).ReadJsonAsync();

        (await TestAsync(app, destination.GetProperty("id").GetString()!)).GetProperty("success").GetBoolean().ShouldBeTrue();

        receiver.Requests.TryDequeue(out var request).ShouldBeTrue();
        request!.Header("X-Aptr-Signature").ShouldBe(SdkSignature(rotated.GetProperty("webhookSecret").GetString()!, request.Body));
        // Standard Webhooks: the current and the previous secret sign during the 24 h after a rotation.
        request.Header("webhook-signature").Split(' ').Length.ShouldBe(2);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Webhook_ReceiverAnswers500_FailsWithThatStatus(string db)
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 500;
            return Task.CompletedTask;
        };
        await using var app = await TestApp.StartAsync(db);
        var destination = await app.Client.CreateDestinationAsync($$$"""{"type":"webhook","name":"Receiver","config":{"url":"{{{receiver.Url()}}}"}}""");

        var result = await TestAsync(app, destination.GetProperty("id").GetString()!);

        result.GetProperty("success").GetBoolean().ShouldBeFalse();
        result.GetProperty("status").GetInt32().ShouldBe(500);
        result.GetProperty("message").GetString()!.ShouldContain("500");
        result.GetProperty("error").GetString().ShouldBe(result.GetProperty("message").GetString());
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Webhook_ClosedPort_FailsWithAnActionableMessage(string db)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var app = await TestApp.StartAsync(db);
        var destination = await app.Client.CreateDestinationAsync($$$"""{"type":"webhook","name":"Nobody","config":{"url":"http://127.0.0.1:{{{port}}}/hook"}}""");

        var result = await TestAsync(app, destination.GetProperty("id").GetString()!);

        result.GetProperty("success").GetBoolean().ShouldBeFalse();
        result.TryGetProperty("status", out _).ShouldBeFalse();
        var message = result.GetProperty("message").GetString()!;
        message.ShouldContain($"127.0.0.1:{port}");
        message.ShouldContain("refused");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task KindWithoutAdapter_AnswersHonestly(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        // Every kind the API accepts has an adapter now: a row of a kind this version does not know stands for one from a newer version.
        var destination = await Seed.DestinationAsync(app, "box", "Box");

        var result = await TestAsync(app, destination.ToString());

        result.GetProperty("success").GetBoolean().ShouldBeFalse();
        result.GetProperty("message").GetString().ShouldBe("No adapter for box is installed in this version");
    }
}
