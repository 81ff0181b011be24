using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Apertur.Destinations.Tests.Infrastructure;

/// <summary>One request as the receiver saw it: raw body bytes and headers, nothing parsed.</summary>
public sealed record CapturedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, string Query = "")
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"no header {name}");
}

/// <summary>
/// A real Kestrel webhook receiver on 127.0.0.1 and a random port. It records every request, then answers with
/// <see cref="Respond"/> (200 "ok" unless a test says otherwise).
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Receiver(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public ConcurrentQueue<CapturedRequest> Requests { get; } = new();

    public Func<HttpContext, Task> Respond { get; set; } = context => context.Response.WriteAsync("ok");

    /// <summary>When set, bodies are streamed to this file instead of kept in memory (large-body tests).</summary>
    public string? BodyFile { get; set; }

    public Uri Url(string path = "/hook") => new($"http://127.0.0.1:{Port}{path}");

    public CapturedRequest Only()
    {
        Requests.Count.ShouldBe(1);
        Requests.TryPeek(out var request).ShouldBeTrue();
        return request!;
    }

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Port = new Uri(address).Port;
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        byte[] body;
        if (BodyFile is { } file)
        {
            await using (var output = File.Create(file))
            {
                await context.Request.Body.CopyToAsync(output, context.RequestAborted);
            }
            body = [];
        }
        else
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            body = buffer.ToArray();
        }
        Requests.Enqueue(new CapturedRequest(context.Request.Method, context.Request.Path, headers, body, context.Request.QueryString.Value ?? ""));
        await Respond(context);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
