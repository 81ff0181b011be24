using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.Webhooks;
using Apertur.IntegrationTests.EventWebhooks;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Secrets;

/// <summary>
/// The project webhook secrets (current and previous) and the event webhook secrets are encrypted in the database: read
/// here with plain SQL, as a copy of the database would be read. Everything on the wire stays the same.
/// </summary>
public sealed class WebhookSecretsAtRestTests
{
    private static async Task<string> ProjectSecretAsync(TestApp app) =>
        (await (await app.Client.GetAsync("/api/v1/project")).ReadJsonAsync()).GetProperty("webhookSecret").GetString()!;

    /// <summary>Every value of the given columns, as stored, by plain SQL on the app's database.</summary>
    private static async Task<List<string?>> StoredAsync(TestApp app, string sql)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var connection = scope.ServiceProvider.GetRequiredService<AperturDb>().Database.GetDbConnection();
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        var values = new List<string?>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                values.Add(reader.IsDBNull(i) ? null : reader.GetString(i));
            }
        }
        return values;
    }

    private static async Task ExecuteAsync(TestApp app, string sql, params (string Name, string Value)[] parameters)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var connection = scope.ServiceProvider.GetRequiredService<AperturDb>().Database.GetDbConnection();
        await connection.OpenAsync();
        await using var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            cmd.Parameters.Add(p);
        }
        await cmd.ExecuteNonQueryAsync();
    }

    private static void ShouldHide(IEnumerable<string?> stored, params string[] secrets)
    {
        foreach (var value in stored)
        {
            value.ShouldNotBeNull();
            foreach (var secret in secrets)
            {
                value.ShouldNotBe(secret);
                value.ShouldNotContain(secret);
                // The random part alone, whatever prefix a secret has.
                value.ShouldNotContain(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
            }
        }
    }

    private static async Task<JsonElement> TestDestinationAsync(TestApp app, string destinationId)
    {
        var projectId = await app.Client.ProjectIdAsync();
        using var response = await app.Client.PostAsync($"/api/v1/projects/{projectId}/destinations/{destinationId}/test", null);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return await response.ReadJsonAsync();
    }

    private static string SdkSignature(string secret, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    private static string StandardSignature(string secret, ReceivedRequest hook) =>
        Signatures.StandardWebhooks(Signatures.StandardWebhooksKey(secret), hook.Header("webhook-id"), long.Parse(hook.Header("webhook-timestamp"),
            System.Globalization.CultureInfo.InvariantCulture), hook.Body);

    [Theory, ClassData(typeof(Databases))]
    public async Task ProjectSecret_CreatedAndRotated_StoredEncryptedBothCurrentAndPrevious(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        var original = await ProjectSecretAsync(app);
        ShouldHide(await StoredAsync(app, "SELECT webhook_secret FROM projects"), original);

        var rotated = (await (await app.Client.PostAsync("/api/v1/project/webhook-secret/rotate", null)).ReadJsonAsync())
            .GetProperty("webhookSecret").GetString()!;

        rotated.ShouldNotBe(original);
        (await ProjectSecretAsync(app)).ShouldBe(rotated);
        var stored = await StoredAsync(app, "SELECT webhook_secret, previous_webhook_secret FROM projects");
        stored.Count.ShouldBe(2);
        ShouldHide(stored, original, rotated);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task EventWebhookSecret_Created_StoredEncrypted(string db)
    {
        await using var app = await EventHooks.StartAsync(db);
        var hmac = await EventHooks.CreateWebhookAsync(app, """{"url":"https://example.com/a","topics":["*"]}""");
        var svix = await EventHooks.CreateWebhookAsync(app, """{"url":"https://example.com/b","topics":["*"],"signatureMethod":"svix"}""");
        var secrets = new[] { hmac.GetProperty("secret").GetString()!, svix.GetProperty("secret").GetString()! };

        var stored = await StoredAsync(app, "SELECT secret FROM event_webhooks");

        stored.Count.ShouldBe(2);
        ShouldHide(stored, secrets);
        // The answers still show the secrets themselves.
        var projectId = await EventHooks.ProjectIdAsync(app);
        var listed = (await (await app.Client.GetAsync(EventHooks.WebhooksPath(projectId))).ReadJsonAsync()).EnumerateArray()
            .Select(w => w.GetProperty("secret").GetString()).ToArray();
        listed.ShouldBe(secrets, ignoreOrder: true);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upgrade_PlaintextRowsOfTheEarlierVersion_EncryptedAtStartAndStillSignWithTheSameSecrets(string db)
    {
        await using var eventReceiver = await TestReceiver.StartAsync();
        await using var hookReceiver = await TestReceiver.StartAsync();
        await using var old = await EventHooks.StartAsync(db);
        var destination = (await old.Client.CreateDestinationAsync($$$"""{"type":"webhook","name":"Receiver","config":{"url":"{{{hookReceiver.Url()}}}"}}"""))
            .GetProperty("id").GetString()!;
        var webhook = (await EventHooks.CreateWebhookAsync(old, $$"""{"url":"{{eventReceiver.Url()}}","topics":["*"]}""")).Id();
        (await old.Client.PostAsync("/api/v1/project/webhook-secret/rotate", null)).EnsureSuccessStatusCode();
        // The rows as the earlier version wrote them: every secret in clear, the encryption's migration not yet applied.
        const string current = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAECAwQFBgc=";
        const string previous = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        const string eventSecret = "4f3c2b1a00112233445566778899aabbccddeeff00112233445566778899aabb";
        await ExecuteAsync(old, "UPDATE projects SET webhook_secret = @c, previous_webhook_secret = @p", ("@c", current), ("@p", previous));
        await ExecuteAsync(old, "UPDATE event_webhooks SET secret = @s", ("@s", eventSecret));
        await ExecuteAsync(old, "DELETE FROM schema_migrations WHERE version = '0006_webhook_secrets'");

        await using var upgraded = await old.StartAnotherAsync();

        var stored = await StoredAsync(upgraded, "SELECT webhook_secret, previous_webhook_secret FROM projects");
        stored.AddRange(await StoredAsync(upgraded, "SELECT secret FROM event_webhooks"));
        ShouldHide(stored, current, previous, eventSecret);
        (await ProjectSecretAsync(upgraded)).ShouldBe(current);

        (await TestDestinationAsync(upgraded, destination)).GetProperty("success").GetBoolean().ShouldBeTrue();
        hookReceiver.Requests.TryDequeue(out var hook).ShouldBeTrue();
        hook!.Header("X-Aptr-Signature").ShouldBe(SdkSignature(current, hook.Body));
        hook.Header("webhook-signature").Split(' ').ShouldBe([StandardSignature(current, hook), StandardSignature(previous, hook)]);

        var path = $"{EventHooks.WebhooksPath(await EventHooks.ProjectIdAsync(upgraded))}/{webhook}";
        (await (await upgraded.Client.GetAsync(path)).ReadJsonAsync()).GetProperty("secret").GetString().ShouldBe(eventSecret);
        (await upgraded.Client.PostAsync($"{path}/test", null)).EnsureSuccessStatusCode();
        var sent = eventReceiver.At("/hook").ShouldHaveSingleItem();
        SdkVerify.Hmac(eventSecret, sent.Header("X-Apertur-Timestamp"), sent.Body, sent.Header("X-Apertur-Signature")).ShouldBeTrue();

        // Encrypted once: a later start leaves the rows as they are.
        await using var restarted = await upgraded.StartAnotherAsync();
        var again = await StoredAsync(restarted, "SELECT webhook_secret, previous_webhook_secret FROM projects");
        again.AddRange(await StoredAsync(restarted, "SELECT secret FROM event_webhooks"));
        again.ShouldBe(stored);
    }
}
