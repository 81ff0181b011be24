using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Apertur.Tests;

/// <summary>
/// One request as the receiver saw it, numbered from 1 in arrival order: method, path, query, headers and the raw body
/// (nothing parsed), when it arrived and, once written, how and when it was answered (receiver clock).
/// </summary>
public sealed record ReceivedRequest(int Number, string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Body,
    TimeSpan ArrivedAt)
{
    public string Header(string name) => Headers.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"no header {name}");

    public bool Has(string name) => Headers.ContainsKey(name);

    /// <summary>The image delivery's id (docs/api.md), the same on every retry.</summary>
    public string DeliveryId => Header("X-APTR-Delivery-ID");

    /// <summary>When the answer was written completely; null while the request is still being handled.</summary>
    public TimeSpan? AnsweredAt { get; set; }

    public int? AnsweredStatus { get; set; }
}

/// <summary>
/// A real Kestrel receiver on 127.0.0.1 and a random port, for everything that sends HTTP out of Apertur (image
/// webhooks, event webhooks, S3-like answers, pages that frame the upload page). It records every request, on any path,
/// then answers with <see cref="Respond"/>, which gets the request as recorded (200 "ok" unless a test says otherwise):
/// status codes, Retry-After, delays and answers that differ per request are the test's to script there.
/// </summary>
public sealed class TestReceiver : IAsyncDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private WebApplication _app = null!;
    private int _count;

    private TestReceiver()
    {
    }

    public int Port { get; private set; }

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public Func<HttpContext, ReceivedRequest, Task> Respond { get; set; } = (context, _) => context.Response.WriteAsync("ok");

    /// <summary>When set, bodies are streamed to this file instead of kept in memory (large-body tests).</summary>
    public string? BodyFile { get; set; }

    /// <summary>The receiver's clock: time since it started.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public Uri Url(string path = "/hook") => new($"http://127.0.0.1:{Port}{path}");

    /// <summary>The requests that arrived at <paramref name="path"/>, in arrival order.</summary>
    public ReceivedRequest[] At(string path) => Requests.Where(r => r.Path == path).ToArray();

    /// <summary>The one request received; fails when there were none or more.</summary>
    public ReceivedRequest Only() => Assert.Single(Requests);

    /// <summary>An answer for <see cref="Respond"/>: <paramref name="status"/>, the headers <paramref name="headers"/> sets (Retry-After, Location…) and <paramref name="body"/>.</summary>
    public static Func<HttpContext, ReceivedRequest, Task> Answer(int status, string body = "", Action<HttpResponse>? headers = null) => (context, _) =>
    {
        context.Response.StatusCode = status;
        headers?.Invoke(context.Response);
        return context.Response.WriteAsync(body);
    };

    public static async Task<TestReceiver> StartAsync()
    {
        var receiver = new TestReceiver();
        (receiver._app, var baseUrl) = await LoopbackKestrel.StartAsync(app => app.Run(receiver.HandleAsync), maxRequestBody: null);
        receiver.Port = baseUrl.Port;
        return receiver;
    }

    /// <summary>Waits (real time) until at least <paramref name="count"/> requests have arrived at <paramref name="path"/>, and answers those.</summary>
    public async Task<ReceivedRequest[]> WaitForAsync(int count, string path = "/hook", TimeSpan? timeout = null)
    {
        await Wait.UntilAsync(() => Task.FromResult(At(path).Length >= count), timeout, $"{count} request(s) at {path} (got {At(path).Length})");
        return At(path);
    }

    private async Task HandleAsync(HttpContext context)
    {
        var arrived = _clock.Elapsed;
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
        var request = new ReceivedRequest(Interlocked.Increment(ref _count), context.Request.Method, context.Request.Path,
            context.Request.QueryString.Value ?? "", headers, body, arrived);
        Requests.Enqueue(request);
        await Respond(context, request);
        await context.Response.CompleteAsync();
        request.AnsweredStatus = context.Response.StatusCode;
        request.AnsweredAt = _clock.Elapsed;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
