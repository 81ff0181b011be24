using Apertur.Destinations;
using Apertur.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Apertur.UnitTests.Destinations;

/// <summary>The destination kinds exactly as the server registers them (<see cref="OutboundServices.AddOutbound"/>).</summary>
internal static class ServerKinds
{
    public static DestinationKindRegistry Registry { get; } = Build();

    private static DestinationKindRegistry Build()
    {
        var services = new ServiceCollection();
        services.AddOutbound(new ConfigurationBuilder().Build());
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<DestinationKindRegistry>();
    }
}
