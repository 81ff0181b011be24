using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>One request as the receiver saw it: raw body bytes and headers.</summary>
public sealed record CapturedRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"no header {name}");
}

/// <summary>A real Kestrel webhook receiver on 127.0.0.1 and a random port; records requests and answers <see cref="Status"/>.</summary>
public sealed class CaptureReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private CaptureReceiver(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public int Status { get; set; } = 200;

    public ConcurrentQueue<CapturedRequest> Requests { get; } = new();

    public string Url(string path = "/hook") => $"http://127.0.0.1:{Port}{path}";

    public static async Task<CaptureReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new CaptureReceiver(app);
        app.Run(async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            receiver.Requests.Enqueue(new CapturedRequest(context.Request.Path, headers, buffer.ToArray()));
            context.Response.StatusCode = receiver.Status;
            await context.Response.WriteAsync("ok");
        });
        await app.StartAsync();
        receiver.Port = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single()).Port;
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
