using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Apertur.Tests.CloudDrives;

/// <summary>One request as a fake provider saw it, with the clock time and the real elapsed time since the fake started.</summary>
public sealed record FakeCall(string Method, string Path, string Query, string? Authorization, string? ContentRange, string? ApiArg, int BodyLength,
    DateTimeOffset At, TimeSpan Elapsed)
{
    public int Status { get; set; }
}

/// <summary>
/// The common part of the provider fakes: a Kestrel app on 127.0.0.1 and a random port that buffers each request body,
/// logs every call, lets a test inject answers (throttling, failures) and hook in after a call, and plays the provider's
/// OAuth 2.0 server (<see cref="FakeOAuthServer"/>). The adapters talk to it exactly as to the real service.
/// </summary>
public abstract class FakeCloud : IAsyncDisposable
{
    private const int MaxBody = 200 * 1024 * 1024;
    private readonly List<Injected> _injected = [];
    private readonly Stopwatch _started = Stopwatch.StartNew();
    private WebApplication? _app;

    protected FakeCloud(TimeProvider clock, FakeOAuthServer oauth)
    {
        Clock = clock;
        OAuth = oauth;
    }

    public TimeProvider Clock { get; }

    public FakeOAuthServer OAuth { get; }

    public Uri BaseUrl { get; private set; } = null!;

    public ConcurrentQueue<FakeCall> Calls { get; } = new();

    /// <summary>Called after every answered call (with its status set): tests move clocks or revoke tokens mid-upload here.</summary>
    public Action<FakeCall>? AfterCall { get; set; }

    /// <summary>Protects the fake's state: requests run concurrently.</summary>
    protected object Gate { get; } = new();

    public Uri Url(string path) => new(BaseUrl, path);

    /// <summary>The next <paramref name="times"/> calls matching <paramref name="when"/> get <paramref name="answer"/> instead.</summary>
    public void Inject(Func<FakeCall, bool> when, int times, Func<HttpContext, Task> answer)
    {
        lock (_injected)
        {
            _injected.Add(new Injected(when, times, answer));
        }
    }

    protected abstract void Map(WebApplication app);

    protected async Task StartAsync()
    {
        (_app, BaseUrl) = await LoopbackKestrel.StartAsync(app =>
        {
            app.Use(RecordAsync);
            Map(app);
        }, MaxBody);
    }

    private async Task RecordAsync(HttpContext context, RequestDelegate next)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
        var body = buffer.ToArray();
        context.Items[nameof(Body)] = body;
        context.Request.Body = new MemoryStream(body, writable: false);
        var headers = context.Request.Headers;
        var call = new FakeCall(context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "",
            headers.Authorization.Count > 0 ? headers.Authorization.ToString() : null,
            headers.ContentRange.Count > 0 ? headers.ContentRange.ToString() : null,
            headers.TryGetValue("Dropbox-API-Arg", out var arg) ? arg.ToString() : null,
            body.Length, Clock.GetUtcNow(), _started.Elapsed);
        context.Items[nameof(FakeCall)] = call;
        Calls.Enqueue(call);
        Injected? rule = null;
        lock (_injected)
        {
            rule = _injected.FirstOrDefault(r => r.Remaining > 0 && r.When(call));
            if (rule is not null)
            {
                rule.Remaining--;
            }
        }
        if (rule is not null)
        {
            await rule.Answer(context);
        }
        else
        {
            try
            {
                await next(context);
            }
            catch (Exception e) when (!context.Response.HasStarted)
            {
                // A bug in the fake shows in the adapter's error text instead of vanishing into a bare 500.
                await TextAsync(context, 500, "fake crashed: " + e);
            }
        }
        call.Status = context.Response.StatusCode;
        AfterCall?.Invoke(call);
    }

    /// <summary>The request body, read whole by the recording middleware.</summary>
    protected static byte[] Body(HttpContext context) => (byte[])context.Items[nameof(Body)]!;

    protected static Task JsonAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    protected static Task TextAsync(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text);
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }

    private sealed class Injected(Func<FakeCall, bool> when, int times, Func<HttpContext, Task> answer)
    {
        public Func<FakeCall, bool> When { get; } = when;
        public int Remaining { get; set; } = times;
        public Func<HttpContext, Task> Answer { get; } = answer;
    }
}

/// <summary>
/// A provider's OAuth 2.0 authorization server, as RFC 6749 and RFC 7636 and the provider document it: the consent page
/// checks the client, the registered redirect URI, the scopes, PKCE S256 and the provider's required parameters, then
/// "the user consents" and the browser is sent back with a code; the token endpoint checks the client secret, the code
/// (single use, 10 minutes, same redirect URI) and the PKCE verifier, and refreshes. Access tokens expire on the fake's
/// clock; a test can revoke everything (refreshes then answer <c>invalid_grant</c>).
/// </summary>
public sealed class FakeOAuthServer(TimeProvider clock)
{
    public const string ClientId = "apertur-test-client";
    public const string ClientSecret = "apertur-test-secret";

    private readonly Dictionary<string, Code> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Access> _access = new(StringComparer.Ordinal);
    private readonly HashSet<string> _refresh = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    /// <summary>Scopes the consent request must ask for, each.</summary>
    public string[] RequiredScopes { get; init; } = [];

    /// <summary>Query parameters the consent request must carry with exactly these values (access_type=offline…).</summary>
    public Dictionary<string, string> RequiredParameters { get; init; } = [];

    /// <summary>Microsoft: the token requests must name the scopes too.</summary>
    public bool ScopeOnTokenRequests { get; init; }

    /// <summary>Microsoft: every refresh answers a new refresh token.</summary>
    public bool RotatesRefreshTokens { get; init; }

    /// <summary>Dropbox: token answers carry account_id and uid.</summary>
    public bool AnswersAccountId { get; init; }

    /// <summary>Redirect URIs registered for the client; the consent page refuses any other.</summary>
    public HashSet<string> RedirectUris { get; } = new(StringComparer.Ordinal);

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>What the "user" answers on the consent page: null consents, otherwise the error code sent back (access_denied).</summary>
    public string? ConsentError { get; set; }

    public int CodeExchanges { get; private set; }

    public int Refreshes { get; private set; }

    public int RefusedRefreshes { get; private set; }

    public Task AuthorizeAsync(HttpContext context)
    {
        var q = context.Request.Query;
        string? Param(string name) => q[name].Count == 1 ? q[name].ToString() : null;
        if (Param("client_id") != ClientId)
        {
            return Page(context, 400, "invalid_client: unknown client_id");
        }
        var redirect = Param("redirect_uri");
        if (redirect is null || !RedirectUris.Contains(redirect))
        {
            // Never redirect to an unregistered URI: show the error instead (RFC 6749 §4.1.2.1).
            return Page(context, 400, $"redirect_uri_mismatch: {redirect} is not registered");
        }
        var state = Param("state");
        string? problem = null;
        var scopes = (Param("scope") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (Param("response_type") != "code")
        {
            problem = "unsupported_response_type";
        }
        else if (RequiredScopes.FirstOrDefault(s => !scopes.Contains(s)) is { } missing)
        {
            problem = $"invalid_scope: {missing} is required";
        }
        else if (Param("code_challenge_method") != "S256" || Param("code_challenge") is not { Length: 43 })
        {
            problem = "invalid_request: PKCE with S256 is required";
        }
        else if (string.IsNullOrEmpty(state))
        {
            problem = "invalid_request: state is required";
        }
        else if (RequiredParameters.FirstOrDefault(p => Param(p.Key) != p.Value) is { Key: not null } absent)
        {
            problem = $"invalid_request: {absent.Key}={absent.Value} is required";
        }
        if (problem is not null)
        {
            var space = problem.IndexOf(':', StringComparison.Ordinal);
            return Back(context, redirect, state, ("error", space < 0 ? problem : problem[..space]), ("error_description", problem));
        }
        if (ConsentError is { } refused)
        {
            return Back(context, redirect, state, ("error", refused), ("error_description", "The user did not consent"));
        }
        var code = Secret();
        lock (_gate)
        {
            _codes[code] = new Code(Param("code_challenge")!, redirect, clock.GetUtcNow() + TimeSpan.FromMinutes(10));
        }
        return Back(context, redirect, state, ("code", code));
    }

    public async Task TokenAsync(HttpContext context)
    {
        if (!context.Request.HasFormContentType)
        {
            await Error(context, 400, "invalid_request", "the body must be application/x-www-form-urlencoded");
            return;
        }
        var form = await context.Request.ReadFormAsync();
        string? Field(string name) => form[name].Count == 1 ? form[name].ToString() : null;
        if (Field("client_id") != ClientId || Field("client_secret") != ClientSecret)
        {
            await Error(context, 401, "invalid_client", "client authentication failed");
            return;
        }
        if (ScopeOnTokenRequests && RequiredScopes.Any(s => !(Field("scope") ?? "").Split(' ').Contains(s)))
        {
            await Error(context, 400, "invalid_scope", "the token request must name the scopes");
            return;
        }
        switch (Field("grant_type"))
        {
            case "authorization_code":
                Code? code;
                lock (_gate)
                {
                    code = Field("code") is { } c && _codes.Remove(c, out var found) ? found : null;
                }
                if (code is null || code.Expires <= clock.GetUtcNow())
                {
                    await Error(context, 400, "invalid_grant", "the code is unknown, used or expired");
                }
                else if (Field("redirect_uri") != code.RedirectUri)
                {
                    await Error(context, 400, "invalid_grant", "redirect_uri does not match the authorization request");
                }
                else if (Field("code_verifier") is not { } verifier
                    || Convert.ToBase64String(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))).TrimEnd('=').Replace('+', '-').Replace('/', '_') != code.Challenge)
                {
                    await Error(context, 400, "invalid_grant", "code_verifier does not match the code_challenge");
                }
                else
                {
                    CodeExchanges++;
                    await Issue(context, refresh: true);
                }
                return;
            case "refresh_token":
                bool known;
                lock (_gate)
                {
                    known = Field("refresh_token") is { } r && _refresh.Contains(r);
                }
                if (!known)
                {
                    RefusedRefreshes++;
                    await Error(context, 400, "invalid_grant", "Token has been expired or revoked.");
                    return;
                }
                Refreshes++;
                await Issue(context, refresh: RotatesRefreshTokens);
                return;
            default:
                await Error(context, 400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token");
                return;
        }
    }

    /// <summary>A grant made without the browser dance, for adapter tests: (access token, refresh token, lifetime).</summary>
    public (string Access, string Refresh, TimeSpan Lifetime) IssueGrant()
    {
        var access = Secret();
        var refresh = Secret();
        lock (_gate)
        {
            _access[access] = new Access(clock.GetUtcNow() + AccessTokenLifetime);
            _refresh.Add(refresh);
        }
        return (access, refresh, AccessTokenLifetime);
    }

    /// <summary>Whether <c>Authorization: Bearer …</c> carries a live access token.</summary>
    public TokenCheck Check(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.Ordinal))
        {
            return TokenCheck.Missing;
        }
        lock (_gate)
        {
            if (!_access.TryGetValue(header["Bearer ".Length..], out var access))
            {
                return TokenCheck.Invalid;
            }
            return access.Expires > clock.GetUtcNow() ? TokenCheck.Valid : TokenCheck.Expired;
        }
    }

    /// <summary>The user revoked the app: every access and refresh token stops working.</summary>
    public void RevokeAll()
    {
        lock (_gate)
        {
            _access.Clear();
            _refresh.Clear();
        }
    }

    /// <summary>Every access token issued so far expires now (as if its hour had passed), refresh tokens stay valid.</summary>
    public void ExpireAccessTokens()
    {
        lock (_gate)
        {
            foreach (var key in _access.Keys.ToList())
            {
                _access[key] = new Access(clock.GetUtcNow());
            }
        }
    }

    private Task Issue(HttpContext context, bool refresh)
    {
        var access = Secret();
        var answer = new Dictionary<string, object>
        {
            ["access_token"] = access,
            ["token_type"] = "Bearer",
            ["expires_in"] = (int)AccessTokenLifetime.TotalSeconds,
            ["scope"] = string.Join(' ', RequiredScopes),
        };
        lock (_gate)
        {
            _access[access] = new Access(clock.GetUtcNow() + AccessTokenLifetime);
            if (refresh)
            {
                var token = Secret();
                _refresh.Add(token);
                answer["refresh_token"] = token;
            }
        }
        if (AnswersAccountId)
        {
            answer["account_id"] = "dbid:fake-account";
            answer["uid"] = "12345";
        }
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(answer));
    }

    private static Task Error(HttpContext context, int status, string error, string description)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }));
    }

    private static Task Back(HttpContext context, string redirect, string? state, params (string Name, string Value)[] parameters)
    {
        var all = parameters.ToList();
        if (state is not null)
        {
            all.Add(("state", state));
        }
        var query = string.Join('&', all.Select(p => $"{Uri.EscapeDataString(p.Name)}={Uri.EscapeDataString(p.Value)}"));
        context.Response.Redirect(redirect + (redirect.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query);
        return Task.CompletedTask;
    }

    private static Task Page(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain";
        return context.Response.WriteAsync(text);
    }

    private static string Secret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');

    private sealed record Code(string Challenge, string RedirectUri, DateTimeOffset Expires);

    private sealed record Access(DateTimeOffset Expires);
}

public enum TokenCheck
{
    Valid,
    Missing,
    Invalid,
    Expired,
}
