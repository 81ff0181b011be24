using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>One request as the receiver saw it, numbered from 1 in arrival order, with when it arrived and when it was answered.</summary>
public sealed record ReceivedHook(int Number, IReadOnlyDictionary<string, string> Headers, byte[] Body, TimeSpan ArrivedAt)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"no header {name}");
    public string DeliveryId => Header("X-APTR-Delivery-ID");
    /// <summary>When the answer was written completely (receiver clock); null while the request is still being handled.</summary>
    public TimeSpan? AnsweredAt { get; set; }
    public int? AnsweredStatus { get; set; }
}

/// <summary>
/// A real Kestrel webhook receiver on 127.0.0.1 and a random port, for the delivery worker's tests. It records every
/// request and answers with <see cref="Respond"/>, which gets the request's number (200 "ok" unless a test says otherwise).
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private int _count;

    private WebhookReceiver(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public ConcurrentQueue<ReceivedHook> Requests { get; } = new();

    public Func<HttpContext, int, Task> Respond { get; set; } = (context, _) => context.Response.WriteAsync("ok");

    public Uri Url { get; private set; } = null!;

    public TimeSpan Now => _clock.Elapsed;

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.Port = new Uri(address).Port;
        receiver.Url = new Uri($"http://127.0.0.1:{receiver.Port}/hook");
        return receiver;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var arrived = _clock.Elapsed;
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var hook = new ReceivedHook(Interlocked.Increment(ref _count), headers, buffer.ToArray(), arrived);
        Requests.Enqueue(hook);
        await Respond(context, hook.Number);
        await context.Response.CompleteAsync();
        hook.AnsweredStatus = context.Response.StatusCode;
        hook.AnsweredAt = _clock.Elapsed;
    }

    /// <summary>Waits until at least <paramref name="count"/> requests arrived.</summary>
    public Task WaitForAsync(int count, TimeSpan? timeout = null) =>
        Wait.UntilAsync(() => Task.FromResult(Requests.Count >= count), timeout, $"{count} webhook requests (got {Requests.Count})");

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>Polling for a condition with a deadline, for things that happen on background threads.</summary>
public static class Wait
{
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"Timed out after {limit.TotalSeconds} s waiting for {what ?? "a condition"}.");
            }
            await Task.Delay(20);
        }
    }
}
