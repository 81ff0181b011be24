using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>A setting still given under its old name stops the start with a message naming the new key, instead of being ignored.</summary>
public sealed class RenamedSettingsTests
{
    [Theory]
    [InlineData("Apertur:EventWebhooks:LeaseDuration", "00:05:00", "Apertur:EventWebhooks:Lease")]
    [InlineData("Apertur:EventWebhooks:BatchSize", "8", "Apertur:EventWebhooks:Concurrency")]
    [InlineData("Apertur:EventWebhooks:Timeout", "00:00:10", "Apertur:EventWebhooks:AttemptTimeout")]
    [InlineData("Apertur:Delivery:WorkerEnabled", "false", "Apertur:Workers:Enabled")]
    public async Task Start_OldName_RefusedWithTheNewKey(string oldKey, string value, string newKey)
    {
        var failure = await Should.ThrowAsync<Exception>(async () =>
        {
            await using var app = await TestApp.StartAsync(Databases.Sqlite, new Dictionary<string, string?> { [oldKey] = value });
        });
        failure.Message.ShouldContain(oldKey);
        failure.Message.ShouldContain(newKey);
    }
}
