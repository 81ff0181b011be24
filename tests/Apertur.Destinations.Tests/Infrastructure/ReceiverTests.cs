using Apertur.Destinations.Tests.Webhooks;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Infrastructure;

/// <summary>A test class with a live receiver on loopback, a guarded client and a manual clock, fresh for each test.</summary>
public abstract class ReceiverTests : IAsyncLifetime
{
    protected HttpClient Http { get; } = Hooks.GuardedClient();
    protected ManualClock Clock { get; } = new();
    protected TestReceiver Receiver { get; private set; } = null!;

    public async Task InitializeAsync() => Receiver = await TestReceiver.StartAsync();

    public async Task DisposeAsync()
    {
        await Receiver.DisposeAsync();
        Http.Dispose();
    }
}
