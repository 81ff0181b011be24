using System.Text.Json;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Deliveries;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.OpenApi;

/// <summary>
/// The OpenAPI document cannot drift from the server: one pass calls every operation of the document (successes and the
/// usual refusals), records each answer, and checks it against the document: its status is documented for that route,
/// its content type too, and a JSON body validates against that status's schema, closed to undocumented fields. A new
/// route without a call here fails the coverage check; a changed answer fails the validation.
/// </summary>
public sealed class ApiDocumentDriftTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task EveryOperation_RealAnswers_MatchTheDocument(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var recorder = new AnswerRecorder();
        using var keyed = app.CreateClient(app.LiveKey, recorder);
        using var anonymous = app.CreateClient(null, new AnswerRecorderRelay(recorder));
        var contract = await ApiContract.LoadAsync(app.CreateClient());

        await CallEveryOperationAsync(app, keyed, anonymous);

        var answers = recorder.Answers.ToList();
        answers.Select(a => contract.Check(a)).OfType<string>().ShouldBeEmpty();
        var called = answers.Select(a => $"{a.Method} {contract.TemplateOf(a.Path)}").ToHashSet();
        contract.Operations().Where(o => !called.Contains(o)).ShouldBeEmpty("operations of the document that this test never calls");
        // The refusals are checked too, not only the successes.
        answers.Select(a => a.Status).Distinct().Order().ShouldBe([200, 201, 204, 400, 401, 403, 404, 409, 410, 415], ignoreOrder: true);
    }

    private static async Task CallEveryOperationAsync(TestApp app, HttpClient keyed, HttpClient anonymous)
    {
        var unknown = Guid.NewGuid().ToString();
        (await keyed.GetAsync("/api/v1/stats")).Dispose();
        (await anonymous.GetAsync("/api/v1/stats")).Dispose();

        // Project.
        var project = await ReadAsync(await keyed.GetAsync("/api/v1/project"));
        var projectId = project.GetProperty("id").GetString()!;
        (await keyed.PatchJsonAsync("/api/v1/project", """{"name":"Drift","notificationEmail":"ops@example.com"}""")).Dispose();
        (await keyed.PatchJsonAsync("/api/v1/project", """{"name":""}""")).Dispose();
        (await keyed.PostAsync("/api/v1/project/webhook-secret/rotate", null)).Dispose();

        // Destinations and their OAuth routes (a webhook has no OAuth: refused).
        var destinations = $"/api/v1/projects/{projectId}/destinations";
        var destination = await ReadAsync(await keyed.PostAsync(destinations,
            Http.Json("""{"type":"webhook","name":"Hook","config":{"url":"http://127.0.0.1:9/hook"}}""")));
        var destId = destination.GetProperty("id").GetString()!;
        (await keyed.PostAsync(destinations, Http.Json("""{"type":"nope","name":"x"}"""))).Dispose();
        (await keyed.GetAsync(destinations)).Dispose();
        (await keyed.GetAsync($"/api/v1/projects/{unknown}/destinations")).Dispose();
        (await keyed.PatchJsonAsync($"{destinations}/{destId}", """{"name":"Hook 2"}""")).Dispose();
        (await keyed.PatchJsonAsync($"{destinations}/{unknown}", """{"name":"x"}""")).Dispose();
        (await keyed.PostAsync($"{destinations}/{destId}/test", null)).Dispose();
        (await keyed.GetAsync($"{destinations}/{destId}/oauth")).Dispose();
        (await keyed.PostAsync($"{destinations}/{destId}/oauth/start", null)).Dispose();
        (await keyed.GetAsync($"{destinations}/{destId}/oauth/start")).Dispose();
        (await keyed.DeleteAsync($"{destinations}/{destId}/oauth")).Dispose();

        // API keys.
        var keys = $"/api/v1/projects/{projectId}/keys";
        (await keyed.GetAsync(keys)).Dispose();
        var key = await ReadAsync(await keyed.PostAsync(keys, Http.Json("""{"label":"drift"}""")));
        var keyId = key.GetProperty("id").GetString()!;
        (await keyed.PostAsync(keys, Http.Json("""{"label":""}"""))).Dispose();
        (await keyed.PatchJsonAsync($"{keys}/{keyId}", """{"label":"drift 2","allowedIps":["10.0.0.0/8"]}""")).Dispose();
        (await keyed.PutAsync($"/api/v1/keys/{keyId}/destinations", Http.Json($$"""{"destination_ids":["{{destId}}"],"long_polling_enabled":true}"""))).Dispose();
        (await keyed.DeleteAsync($"{keys}/{keyId}")).Dispose();

        // Sessions.
        var session = await ReadAsync(await keyed.PostAsync("/api/v1/upload-sessions",
            Http.Json($$"""{"long_polling":true,"destination_ids":["{{destId}}"],"password":"secret1","tags":["user:1"]}""")));
        var uuid = session.GetProperty("uuid").GetString()!;
        var plain = await ReadAsync(await keyed.PostAsync("/api/v1/sessions", null));
        (await keyed.PostAsync("/api/v1/upload-sessions", Http.Json("""{"max_images":0}"""))).Dispose();
        (await anonymous.GetAsync($"/api/v1/upload/{uuid}/session")).Dispose();
        (await anonymous.GetAsync($"/api/v1/upload/{unknown}/session")).Dispose();
        (await keyed.PatchJsonAsync($"/api/v1/upload-sessions/{uuid}", """{"label":"Drift"}""")).Dispose();
        (await anonymous.PostAsync($"/api/v1/upload/{uuid}/verify-password", Http.Json("""{"password":"wrong"}"""))).Dispose();
        (await keyed.GetAsync("/api/v1/sessions?page=1&pageSize=5")).Dispose();
        (await keyed.GetAsync("/api/v1/sessions?page=0")).Dispose();
        (await keyed.GetAsync("/api/v1/sessions/recent?limit=3")).Dispose();

        // Encryption key and QR codes.
        (await anonymous.GetAsync("/api/v1/encryption/server-key")).Dispose();
        (await anonymous.GetAsync("/api/v1/encryption/key")).Dispose();
        (await anonymous.GetAsync($"/api/v1/upload-sessions/{uuid}/qr")).Dispose();
        (await anonymous.GetAsync($"/api/v1/upload-sessions/{uuid}/qr?format=svg")).Dispose();
        (await anonymous.GetAsync($"/api/v1/upload-sessions/{uuid}/qr?format=jpeg")).Dispose();

        // Uploads: accepted, wrong password, not an image, unknown session.
        var photo = Fixture.Bytes("phone-photo.jpg");
        var image = await ReadAsync(await anonymous.UploadAsync(uuid, photo, password: "secret1"));
        var imageId = image.GetProperty("id").GetString()!;
        (await anonymous.UploadAsync(uuid, photo, password: "wrong")).Dispose();
        (await anonymous.UploadAsync(plain.GetProperty("uuid").GetString()!, "not an image"u8.ToArray())).Dispose();
        (await anonymous.UploadAsync(unknown, photo)).Dispose();
        (await keyed.GetAsync("/api/v1/uploads?pageSize=5")).Dispose();
        (await keyed.GetAsync("/api/v1/uploads/recent")).Dispose();
        (await keyed.GetAsync($"/api/v1/uploads/{imageId}/download")).Dispose();
        (await keyed.GetAsync($"/api/v1/uploads/{unknown}/download")).Dispose();

        // Long polling and delivery status.
        (await keyed.GetAsync($"/api/v1/upload-sessions/{uuid}/poll")).Dispose();
        (await keyed.GetAsync($"/api/v1/upload-sessions/{plain.GetProperty("uuid").GetString()}/poll")).Dispose();
        (await keyed.GetAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}")).Dispose();
        (await keyed.PostAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}/ack", null)).Dispose();
        (await keyed.PostAsync($"/api/v1/upload-sessions/{uuid}/images/{unknown}/ack", null)).Dispose();
        (await keyed.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status")).Dispose();
        (await keyed.GetAsync($"/api/v1/upload-sessions/{uuid}/delivery-status?pollFrom=yesterday")).Dispose();

        // Live events: an unknown session is a JSON 404; a known one starts the stream (its headers are enough here).
        (await anonymous.GetAsync($"/api/v1/upload/{unknown}/events")).Dispose();
        (await anonymous.GetAsync($"/api/v1/sessions/{unknown}/events")).Dispose();
        using (var stream = await anonymous.GetAsync($"/api/v1/upload/{uuid}/events", HttpCompletionOption.ResponseHeadersRead))
        {
            stream.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        }
        using (var stream = await anonymous.GetAsync($"/api/v1/sessions/{uuid}/events", HttpCompletionOption.ResponseHeadersRead))
        {
            stream.Content.Headers.ContentType!.MediaType.ShouldBe("text/event-stream");
        }

        // Image deliveries (the workers are off: the delivery stays pending, so its retry is refused).
        var deliveries = await ReadAsync(await keyed.GetAsync("/api/v1/deliveries"));
        var deliveryId = deliveries.GetProperty("data")[0].GetProperty("id").GetString()!;
        (await keyed.GetAsync($"/api/v1/deliveries/{deliveryId}")).Dispose();
        (await keyed.GetAsync($"/api/v1/deliveries/{unknown}")).Dispose();
        (await keyed.PostAsync($"/api/v1/deliveries/{deliveryId}/retry", null)).Dispose();
        (await keyed.PostAsync("/api/v1/deliveries/retry-failed", Http.Json($$"""{"sessionId":"{{uuid}}"}"""))).Dispose();

        // Event webhooks.
        var webhooks = $"/api/v1/projects/{projectId}/webhooks";
        var webhook = await ReadAsync(await keyed.PostAsync(webhooks, Http.Json("""{"url":"http://127.0.0.1:9/events","topics":["*"]}""")));
        var webhookId = webhook.GetProperty("id").GetString()!;
        (await keyed.PostAsync(webhooks, Http.Json("""{"url":"http://127.0.0.1:9/events","topics":["no.such.topic"]}"""))).Dispose();
        (await keyed.GetAsync(webhooks)).Dispose();
        (await keyed.GetAsync($"{webhooks}/{webhookId}")).Dispose();
        (await keyed.PatchJsonAsync($"{webhooks}/{webhookId}", """{"maxRetries":3}""")).Dispose();
        (await keyed.PostAsync($"{webhooks}/{webhookId}/test", null)).Dispose();
        (await keyed.GetAsync($"{webhooks}/{webhookId}/deliveries?limit=5")).Dispose();
        (await keyed.PostAsync($"{webhooks}/{webhookId}/deliveries/{unknown}/retry", null)).Dispose();
        (await keyed.DeleteAsync($"{webhooks}/{webhookId}")).Dispose();

        // Signed download links: valid, tampered.
        var link = app.Services.GetRequiredService<DownloadLinks>().For(Guid.Parse(imageId));
        (await anonymous.GetAsync(link.PathAndQuery)).Dispose();
        (await anonymous.GetAsync(link.PathAndQuery[..^4] + "0000")).Dispose();

        // Deleting the session erases its images: their bytes are gone (410), and the destination goes last.
        (await keyed.DeleteAsync($"/api/v1/upload-sessions/{uuid}")).Dispose();
        (await keyed.DeleteAsync($"/api/v1/upload-sessions/{unknown}")).Dispose();
        (await keyed.GetAsync($"/api/v1/upload-sessions/{uuid}/images/{imageId}")).Dispose();
        (await keyed.DeleteAsync($"{destinations}/{destId}")).Dispose();
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        using (response)
        {
            var body = await response.ReadJsonAsync();
            ((int)response.StatusCode).ShouldBeLessThan(300, body.ToString());
            return body;
        }
    }
}

/// <summary>Hands a second client's requests to the same recorder (a handler instance serves one client only).</summary>
public sealed class AnswerRecorderRelay(AnswerRecorder recorder) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        await recorder.RecordAsync(request, response, cancellationToken);
        return response;
    }
}
