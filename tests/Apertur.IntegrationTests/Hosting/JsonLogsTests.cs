using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Apertur.IntegrationTests.Dashboard;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Hosting;
using Apertur.Tests;
using Shouldly;
using Xunit.Abstractions;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// JSON console logs as docs/operations.md "Logs" tells operators to turn them on: a real server process writes one JSON
/// object per line and nothing else, a request's lines carry its trace and span ids, and the first start's secrets go to an
/// owner-only file in the data directory (never to the output), which is deleted once the admin has chosen a password.
/// On SQLite only: what is tested is the process's output and files, the same whatever the database.
/// </summary>
public sealed partial class JsonLogsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task JsonConsole_OnlyJsonLinesWithTraceIds_SecretsInAnOwnerOnlyFile_DeletedAfterThePasswordChange()
    {
        await using var server = ServerProcess.Start([], new Dictionary<string, string>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Logging__Console__FormatterName"] = "json",
            ["Logging__Console__FormatterOptions__IncludeScopes"] = "true",
            // The request lines, for their trace ids.
            ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
        });
        Uri url;
        try
        {
            url = new Uri((await server.WaitForLineAsync(NowListening())).Groups["url"].Value);
        }
        catch
        {
            output.WriteLine(server.Output);
            throw;
        }
        var secretsFile = Path.Combine(server.DataDirectory, StartupOutput.SecretsFileName);
        var secrets = await File.ReadAllTextAsync(secretsFile);
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(secretsFile).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var password = AdminPassword().Match(secrets).Groups["password"].Value;
        var liveKey = LiveKey().Match(secrets).Groups["key"].Value;
        var testKey = TestKey().Match(secrets).Groups["key"].Value;
        password.ShouldNotBeEmpty(secrets);
        liveKey.ShouldNotBeEmpty(secrets);
        testKey.ShouldNotBeEmpty(secrets);

        // The key from the file calls the API; the request's lines carry the trace id it was sent with.
        var traceId = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        using (var api = new HttpClient { BaseAddress = url })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/stats");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", liveKey);
            request.Headers.Add("traceparent", $"00-{traceId}-00f067aa0ba902b7-01");
            using var stats = await api.SendAsync(request);
            stats.StatusCode.ShouldBe(HttpStatusCode.OK, await stats.Content.ReadAsStringAsync());
        }

        // The password from the file signs in; choosing a new one deletes the file.
        using var browser = new DashboardBrowser(new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = url });
        using (var signIn = await browser.SignInAttemptAsync("admin", password))
        {
            signIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
            signIn.Headers.Location!.OriginalString.ShouldBe("/dashboard/account");
        }
        using (var changed = await browser.PostFormAsync("/dashboard/account",
                   new() { ["current"] = password, ["replacement"] = "my-own-password-1", ["confirm"] = "my-own-password-1" }))
        {
            changed.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        }
        File.Exists(secretsFile).ShouldBeFalse();
        await server.WaitForLineAsync(SecretsDeleted());

        var lines = server.Lines;
        lines.ShouldNotBeEmpty();
        var entries = lines.Select(line =>
        {
            try
            {
                return JsonDocument.Parse(line).RootElement.Clone();
            }
            catch (JsonException)
            {
                throw new ShouldAssertException($"not a JSON object: {line}\n{server.Output}");
            }
        }).ToList();
        entries.ShouldAllBe(e => e.ValueKind == JsonValueKind.Object);
        foreach (var secret in new[] { password, liveKey, testKey })
        {
            server.Output.ShouldNotContain(secret);
        }
        entries.ShouldContain(e => Message(e).Contains(secretsFile, StringComparison.Ordinal), server.Output);
        var requestLines = entries.Where(e => Message(e).Contains("/api/v1/stats", StringComparison.Ordinal)).ToList();
        requestLines.ShouldNotBeEmpty(server.Output);
        foreach (var line in requestLines)
        {
            var trace = line.GetProperty("Scopes").EnumerateArray().Single(s => s.TryGetProperty("TraceId", out _));
            trace.GetProperty("TraceId").GetString().ShouldBe(traceId);
            trace.GetProperty("SpanId").GetString()!.ShouldMatch("^[0-9a-f]{16}$");
        }
    }

    private static string Message(JsonElement entry) => entry.GetProperty("Message").GetString() ?? "";

    [GeneratedRegex("\"Message\":\"Now listening on: (?<url>[^\"]+)\"")]
    private static partial Regex NowListening();

    [GeneratedRegex("Deleted the first start")]
    private static partial Regex SecretsDeleted();

    [GeneratedRegex(@"^\s+password\s+(?<password>\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AdminPassword();

    [GeneratedRegex(@"live\s+(?<key>aptr_live_\S+)")]
    private static partial Regex LiveKey();

    [GeneratedRegex(@"test\s+(?<key>aptr_test_\S+)")]
    private static partial Regex TestKey();
}
