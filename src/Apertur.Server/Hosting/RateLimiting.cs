using System.Collections.Concurrent;
using System.Globalization;
using Apertur.Server.Keys;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>The named limits (docs/api.md "Rate limits"). Numbers are settings (<c>Apertur:RateLimits:&lt;Name&gt;</c>, per minute).</summary>
public static class RateLimitPolicies
{
    /// <summary>POST /upload-sessions: 60/min per key.</summary>
    public const string SessionCreate = nameof(SessionCreate);
    /// <summary>Session reads and listings: 120/min per key.</summary>
    public const string SessionRead = nameof(SessionRead);
    /// <summary>Every other keyed call: 200/min per key.</summary>
    public const string Api = nameof(Api);
    /// <summary>Uploads: 30/min per session, and per client IP.</summary>
    public const string Upload = nameof(Upload);
    /// <summary>Public session reads, QR, SSE: per client IP.</summary>
    public const string PublicSession = nameof(PublicSession);
    /// <summary>The upload page <c>/u/{uuid}</c>: per client IP.</summary>
    public const string UploadPage = nameof(UploadPage);
    /// <summary>verify-password: per session and client IP, low, against guessing.</summary>
    public const string PasswordCheck = nameof(PasswordCheck);
}

/// <summary>Settings section <c>Apertur:RateLimits</c>: permits per minute for each policy; 0 turns a policy off.</summary>
public sealed class RateLimitOptions : ISettings
{
    public const string Section = "Apertur:RateLimits";

    public int SessionCreate { get; set; } = 60;
    public int SessionRead { get; set; } = 120;
    public int Api { get; set; } = 200;
    public int Upload { get; set; } = 30;
    public int UploadPerIp { get; set; } = 120;
    public int PublicSession { get; set; } = 600;
    public int UploadPage { get; set; } = 300;
    public int PasswordCheck { get; set; } = 10;

    /// <summary>Each limit is requests per minute; 0 turns it off, a negative number is a mistake.</summary>
    public IReadOnlyList<string> Problems() =>
        new (string Name, int Value)[]
        {
            (nameof(SessionCreate), SessionCreate), (nameof(SessionRead), SessionRead), (nameof(Api), Api), (nameof(Upload), Upload),
            (nameof(UploadPerIp), UploadPerIp), (nameof(PublicSession), PublicSession), (nameof(UploadPage), UploadPage),
            (nameof(PasswordCheck), PasswordCheck),
        }
        .Where(limit => limit.Value < 0)
        .Select(limit => $"{Section}:{limit.Name} must not be negative (got {limit.Value}).").ToList();

    public int PermitsFor(string policy) => policy switch
    {
        RateLimitPolicies.SessionCreate => SessionCreate,
        RateLimitPolicies.SessionRead => SessionRead,
        RateLimitPolicies.Api => Api,
        RateLimitPolicies.Upload => Upload,
        RateLimitPolicies.PublicSession => PublicSession,
        RateLimitPolicies.UploadPage => UploadPage,
        RateLimitPolicies.PasswordCheck => PasswordCheck,
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown rate-limit policy."),
    };
}

/// <summary>
/// Counts one request in its one-minute window and decides. In memory for one process (<see cref="RateLimiter"/>, SQLite);
/// in the database when replicas share PostgreSQL (Data/PostgresRateCounter.cs); chosen in Data/DataServices.cs.
/// </summary>
public interface IRateCounter
{
    ValueTask<RateLimiter.Decision> AcquireAsync(string partition, int limit, CancellationToken ct);
}

/// <summary>
/// Fixed one-minute windows counted in memory. Chosen over ASP.NET's limiter because every limited answer must carry
/// <c>X-RateLimit-Limit/Remaining/Reset</c>, and a 429 needs <c>Retry-After</c> and a JSON body (the built-in answers 503).
/// </summary>
public sealed class RateLimiter(TimeProvider time) : IRateCounter
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);
    private long _calls;

    private sealed class Counter(long windowStart)
    {
        public long WindowStart = windowStart;
        public int Count;
    }

    public readonly record struct Decision(bool Allowed, int Limit, int Remaining, DateTimeOffset Reset);

    public ValueTask<Decision> AcquireAsync(string partition, int limit, CancellationToken ct) => ValueTask.FromResult(Acquire(partition, limit));

    /// <summary>The start of the one-minute window holding <paramref name="now"/>, in Unix milliseconds.</summary>
    public static long WindowStart(DateTimeOffset now) =>
        now.ToUnixTimeMilliseconds() / (long)Window.TotalMilliseconds * (long)Window.TotalMilliseconds;

    /// <summary>The decision for the <paramref name="count"/>-th request of the window starting at <paramref name="windowStart"/>.</summary>
    public static Decision Decide(long windowStart, int count, int limit)
    {
        var reset = DateTimeOffset.FromUnixTimeMilliseconds(windowStart) + Window;
        return new Decision(count <= limit, limit, Math.Max(0, limit - count), reset);
    }

    public Decision Acquire(string partition, int limit)
    {
        var windowStart = WindowStart(time.GetUtcNow());
        var counter = _counters.GetOrAdd(partition, _ => new Counter(windowStart));
        int count;
        lock (counter)
        {
            if (counter.WindowStart != windowStart)
            {
                counter.WindowStart = windowStart;
                counter.Count = 0;
            }
            count = ++counter.Count;
        }
        if (Interlocked.Increment(ref _calls) % 4096 == 0)
        {
            Sweep(windowStart);
        }
        return Decide(windowStart, count, limit);
    }

    private void Sweep(long currentWindow)
    {
        foreach (var (key, counter) in _counters)
        {
            if (counter.WindowStart < currentWindow)
            {
                _counters.TryRemove(new KeyValuePair<string, Counter>(key, counter));
            }
        }
    }
}

/// <summary>Applies one policy to an endpoint; keyed policies partition by API key, public ones by session and client IP.</summary>
public sealed class RateLimitFilter(string policy) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (await CheckAsync(http, policy) is { Allowed: false } refused)
        {
            var retryAfter = RetryAfterSeconds(http, refused);
            // Written here rather than thrown: the exception handler would clear the X-RateLimit-* headers.
            await ApiException.WriteAsync(http, 429, "RATE_LIMIT", $"Rate limit exceeded: {refused.Limit} requests per minute. Retry in {retryAfter} s.", retryAfter);
            return Results.Empty;
        }
        return await next(context);
    }

    /// <summary>
    /// Counts the request against <paramref name="policy"/> and writes <c>X-RateLimit-Limit/Remaining/Reset</c>; null when
    /// the policy is off. A refused caller is answered by the caller of this method (JSON for the API, a page for pages).
    /// </summary>
    public static async ValueTask<RateLimiter.Decision?> CheckAsync(HttpContext http, string policy)
    {
        var options = http.RequestServices.GetRequiredService<IOptionsMonitor<RateLimitOptions>>().CurrentValue;
        var limiter = http.RequestServices.GetRequiredService<IRateCounter>();
        var permits = options.PermitsFor(policy);
        if (permits <= 0)
        {
            return null;
        }
        var ip = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var session = http.Request.RouteValues.TryGetValue("uuid", out var uuid) ? uuid?.ToString() : null;
        var checks = new List<(string Partition, int Limit)>();
        if (http.Features.Get<Caller>() is { } caller)
        {
            checks.Add(($"{policy}|key|{caller.KeyId}", permits));
        }
        else if (policy == RateLimitPolicies.Upload)
        {
            checks.Add(($"{policy}|session|{session}", permits));
            if (options.UploadPerIp > 0)
            {
                checks.Add(($"{policy}|ip|{ip}", options.UploadPerIp));
            }
        }
        else if (policy == RateLimitPolicies.PasswordCheck)
        {
            checks.Add(($"{policy}|{session}|{ip}", permits));
        }
        else
        {
            checks.Add(($"{policy}|ip|{ip}", permits));
        }

        RateLimiter.Decision? tightest = null;
        foreach (var (partition, limit) in checks)
        {
            var decision = await limiter.AcquireAsync(partition, limit, http.RequestAborted);
            if (tightest is null || !decision.Allowed || decision.Remaining < tightest.Value.Remaining)
            {
                tightest = decision;
            }
            if (!decision.Allowed)
            {
                break;
            }
        }
        var d = tightest!.Value;
        if (!d.Allowed)
        {
            http.RequestServices.GetRequiredService<Telemetry.AperturMetrics>().RateLimitRefused(policy);
        }
        var headers = http.Response.Headers;
        headers["X-RateLimit-Limit"] = d.Limit.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = d.Remaining.ToString(CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = d.Reset.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return d;
    }

    /// <summary>Whole seconds until the refused window ends, at least 1: the <c>Retry-After</c> of a 429.</summary>
    public static int RetryAfterSeconds(HttpContext http, RateLimiter.Decision refused)
    {
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        return Math.Max(1, (int)Math.Ceiling((refused.Reset - now).TotalSeconds));
    }
}

public static class RateLimitExtensions
{
    public static TBuilder WithRateLimit<TBuilder>(this TBuilder builder, string policy) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(new RateLimitFilter(policy));
}
