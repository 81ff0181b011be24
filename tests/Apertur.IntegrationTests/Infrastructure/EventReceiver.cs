using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>One request as the event receiver saw it: path, raw body bytes and headers, nothing parsed.</summary>
public sealed record EventRequest(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"no header {name}");

    public bool Has(string name) => Headers.ContainsKey(name);
}

/// <summary>
/// A real Kestrel webhook receiver on 127.0.0.1 and a random port, for the event webhook tests, reached through the
/// server's SSRF guard (the tests allow loopback). It records every request per path, then answers with <see cref="Respond"/> (200 "ok" by default).
/// </summary>
public sealed class EventReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EventReceiver(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public ConcurrentQueue<EventRequest> Requests { get; } = new();

    public Func<HttpContext, Task> Respond { get; set; } = context => context.Response.WriteAsync("ok");

    public string Url(string path = "/hook") => $"http://127.0.0.1:{Port}{path}";

    public EventRequest[] At(string path) => Requests.Where(r => r.Path == path).ToArray();

    public static async Task<EventReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new EventReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Port = new Uri(address).Port;
        return receiver;
    }

    /// <summary>Waits (real time) until <paramref name="count"/> requests have arrived at <paramref name="path"/>.</summary>
    public async Task<EventRequest[]> WaitForAsync(int count, string path = "/hook", TimeSpan? timeout = null)
    {
        await Eventually.TrueAsync(() => Task.FromResult(At(path).Length >= count), $"{count} request(s) at {path}", timeout);
        return At(path);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        Requests.Enqueue(new EventRequest(context.Request.Path, headers, buffer.ToArray()));
        await Respond(context);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Polls a condition in real time: background workers run on their own schedule even under a manual clock.</summary>
public static class Eventually
{
    public static async Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)((timeout ?? TimeSpan.FromSeconds(15)).TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (!await condition())
        {
            if (TimeProvider.System.GetTimestamp() > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }
}
