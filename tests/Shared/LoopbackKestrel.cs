using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Apertur.Tests;

/// <summary>How the tests' own HTTP servers start (<see cref="TestReceiver"/>, the cloud drive fakes): Kestrel on 127.0.0.1 and a random port, no logging.</summary>
public static class LoopbackKestrel
{
    /// <summary>Builds the app, lets <paramref name="map"/> add its handlers, starts it, and answers it with its base URL (ending in '/').</summary>
    /// <param name="maxRequestBody">Kestrel's request body limit; null for none.</param>
    public static async Task<(WebApplication App, Uri BaseUrl)> StartAsync(Action<WebApplication> map, long? maxRequestBody)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Limits.MaxRequestBodySize = maxRequestBody;
        });
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return (app, new Uri(address.TrimEnd('/') + "/"));
    }
}
