using Apertur.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// A bad setting stops the start with an <see cref="OptionsValidationException"/> whose message names the key
/// (docs/architecture.md "Settings"): one case per settings class, those bound at start-up and those read before the
/// container is built (database, outbound).
/// </summary>
public sealed class SettingsValidationTests
{
    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "Apertur:PublicBaseUrl", "photos.example.com", "Apertur:PublicBaseUrl must be an absolute http(s) URL" },
        { "Apertur:Bootstrap:ApiKey", "aptr_live_short", "Apertur:Bootstrap:ApiKey must look like aptr_live_" },
        { "Apertur:Sessions:DefaultMaxImages", "0", "Apertur:Sessions:DefaultMaxImages must be 1 to MaxImagesCap (50) (got 0)." },
        { "Apertur:Sessions:DefaultExpiry", "30.00:00:00", "Apertur:Sessions:DefaultExpiry must be positive and at most MaxExpiry" },
        { "Apertur:Uploads:MaxPixels", "0", "Apertur:Uploads:MaxPixels must be positive (got 0)." },
        { "Apertur:RateLimits:Api", "-1", "Apertur:RateLimits:Api must not be negative (got -1)." },
        { "Apertur:Polling:DeliveryStatusRecheck", "00:00:00", "Apertur:Polling:DeliveryStatusRecheck must be positive (got 00:00:00)." },
        { "Apertur:Events:HeartbeatInterval", "-00:00:01", "Apertur:Events:HeartbeatInterval must be positive (got -00:00:01)." },
        { "Apertur:Dashboard:LockoutThreshold", "0", "Apertur:Dashboard:LockoutThreshold must be 1 or more (got 0)." },
        { "Apertur:Delivery:Jitter", "1.5", "Apertur:Delivery:Jitter must be at least 0 and below 1 (got 1.5)." },
        { "Apertur:EventWebhooks:Concurrency", "0", "Apertur:EventWebhooks:Concurrency must be 1-256 (got 0)." },
        { "Apertur:Smtp:Port", "70000", "Apertur:Smtp:Port must be 1 to 65535 (got 70000)." },
        { "Apertur:Smtp:From", "not an address", "Apertur:Smtp:From must be an e-mail address such as apertur@example.com (got 'not an address')." },
        { "Apertur:Smtp:TrustedCertificate", "/nonexistent/smtp.pem", "Apertur:Smtp:TrustedCertificate must be a readable PEM certificate file" },
        { "Apertur:OAuth:Dropbox:ChunkSizeBytes", "0", "Apertur:OAuth:Dropbox:ChunkSizeBytes must be positive and at most 150 MiB." },
        { "Apertur:Outbound:AllowedNetworks:1", "10.0.0.0/99", "Apertur:Outbound:AllowedNetworks:1 must be a CIDR network such as 10.0.0.0/8 or an IP address (got '10.0.0.0/99')." },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Start_WithABadSetting_StopsNamingTheKey(string key, string value, string message)
    {
        var failure = await Should.ThrowAsync<Exception>(() => TestApp.StartAsync(Databases.Sqlite, new Dictionary<string, string?> { [key] = value }));

        ValidationFailure(failure).Message.ShouldContain(message);
    }

    [Fact]
    public async Task Start_PostgresWithoutConnectionString_StopsNamingTheKey()
    {
        var failure = await Should.ThrowAsync<Exception>(() => TestApp.StartAsync(Databases.Sqlite, new Dictionary<string, string?>
        {
            ["Apertur:Database:Provider"] = "Postgres",
            ["Apertur:Database:ConnectionString"] = "",
        }));

        ValidationFailure(failure).Message.ShouldContain("Apertur:Database:ConnectionString is required when Provider is Postgres.");
    }

    [Fact]
    public async Task Start_SeveralBadValues_ListsEach()
    {
        var failure = await Should.ThrowAsync<Exception>(() => TestApp.StartAsync(Databases.Sqlite, new Dictionary<string, string?>
        {
            ["Apertur:Polling:DeliveryStatusHold"] = "-00:00:01",
            ["Apertur:Polling:DeliveryStatusRecheck"] = "00:00:00",
        }));

        var validation = ValidationFailure(failure);
        validation.Failures.ShouldBe([
            "Apertur:Polling:DeliveryStatusHold must not be negative (got -00:00:01).",
            "Apertur:Polling:DeliveryStatusRecheck must be positive (got 00:00:00).",
        ]);
    }

    /// <summary>The validation failure wherever the host put it (thrown as is, or wrapped by the start-up or the test factory).</summary>
    private static OptionsValidationException ValidationFailure(Exception e)
    {
        var pending = new Stack<Exception>([e]);
        while (pending.TryPop(out var current))
        {
            if (current is OptionsValidationException validation)
            {
                return validation;
            }
            if (current is AggregateException aggregate)
            {
                aggregate.InnerExceptions.ToList().ForEach(pending.Push);
            }
            else if (current.InnerException is { } inner)
            {
                pending.Push(inner);
            }
        }
        throw new ShouldAssertException($"not a settings failure: {e}");
    }
}
