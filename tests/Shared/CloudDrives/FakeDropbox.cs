using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Apertur.Tests.CloudDrives;

/// <summary>
/// Dropbox's OAuth endpoints and the API v2 endpoints the dropbox adapter uses, on two prefixes standing for the two hosts
/// (<c>/api/2/…</c> = api.dropboxapi.com, <c>/content/2/…</c> = content.dropboxapi.com; the wrong host answers 400 as
/// Dropbox does). Checked as Dropbox documents them: a live bearer token (401 <c>expired_access_token</c> /
/// <c>invalid_access_token</c>); content calls carry their arguments in <c>Dropbox-API-Arg</c> (JSON, ASCII only) with
/// <c>Content-Type: application/octet-stream</c> and at most 150 MiB; paths are absolute and case-insensitive; write modes
/// <c>add</c> (409 <c>path/conflict/file</c> on a different file) and <c>overwrite</c>; upload sessions check every
/// cursor offset (409 <c>incorrect_offset</c> with <c>correct_offset</c>), expire after 7 days (409 <c>not_found</c>),
/// and commit in <c>finish</c>. Bytes are kept for comparison.
/// </summary>
public sealed class FakeDropbox : FakeCloud
{
    public const long RequestLimit = 150L * 1024 * 1024;
    private readonly Dictionary<string, (string Display, byte[] Bytes, string Id)> _files = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _folders = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);
    private int _ids;

    private FakeDropbox(TimeProvider clock) : base(clock, new FakeOAuthServer(clock)
    {
        RequiredScopes = ["files.content.write"],
        RequiredParameters = new() { ["token_access_type"] = "offline" },
        AnswersAccountId = true,
        AccessTokenLifetime = TimeSpan.FromHours(4),
    })
    {
    }

    public static async Task<FakeDropbox> StartAsync(TimeProvider clock)
    {
        var fake = new FakeDropbox(clock);
        await fake.StartAsync();
        return fake;
    }

    public string DisplayName { get; set; } = "Grace Hopper";
    public string Email { get; set; } = "grace@example.com";
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The next n appends are stored but answered 503, as when the answer is lost on the way back.</summary>
    public int LoseAppendAnswers { get; set; }

    public Uri AuthorizeUrl => Url("oauth2/authorize");
    public Uri TokenUrl => Url("oauth2/token");
    public Uri ApiBaseUrl => Url("api/2/");
    public Uri ContentBaseUrl => Url("content/2/");

    /// <summary>Files by their display path ("/Apps/Apertur/wedding/{session}/0.jpg").</summary>
    public IReadOnlyDictionary<string, byte[]> Files()
    {
        lock (Gate)
        {
            return _files.Values.ToDictionary(f => f.Display, f => f.Bytes, StringComparer.Ordinal);
        }
    }

    /// <summary>Sizes of the chunks each upload session received (start, appends, finish), session by session.</summary>
    public IReadOnlyList<IReadOnlyList<int>> SessionChunks()
    {
        lock (Gate)
        {
            return _sessions.Values.Select(s => (IReadOnlyList<int>)s.Chunks.ToList()).ToList();
        }
    }

    public void ExpireSessions()
    {
        lock (Gate)
        {
            foreach (var session in _sessions.Values)
            {
                session.Expires = Clock.GetUtcNow();
            }
        }
    }

    /// <summary>Dropbox's rate-limit answer: 429 with Retry-After (seconds) and the reason in the body.</summary>
    public static Task TooManyRequests(HttpContext context, int retryAfterSeconds, string reason = "too_many_requests")
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return JsonAsync(context, 429, new Dictionary<string, object>
        {
            ["error_summary"] = $"{reason}/..",
            ["error"] = new Dictionary<string, object> { ["reason"] = new Dictionary<string, string> { [".tag"] = reason }, ["retry_after"] = retryAfterSeconds },
        });
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/oauth2/authorize", OAuth.AuthorizeAsync);
        app.MapPost("/oauth2/token", OAuth.TokenAsync);
        app.MapPost("/api/2/{**endpoint}", context => RpcAsync(context, context.Request.RouteValues["endpoint"]?.ToString() ?? ""));
        app.MapPost("/content/2/{**endpoint}", context => ContentAsync(context, context.Request.RouteValues["endpoint"]?.ToString() ?? ""));
    }

    private async Task<bool> AuthorizedAsync(HttpContext context)
    {
        var check = OAuth.Check(context);
        if (check == TokenCheck.Valid)
        {
            return true;
        }
        var tag = check == TokenCheck.Expired ? "expired_access_token" : "invalid_access_token";
        await JsonAsync(context, 401, new Dictionary<string, object> { ["error_summary"] = $"{tag}/..", ["error"] = new Dictionary<string, string> { [".tag"] = tag } });
        return false;
    }

    private async Task RpcAsync(HttpContext context, string endpoint)
    {
        if (endpoint is "files/upload" or "files/upload_session/start" or "files/upload_session/append_v2" or "files/upload_session/finish")
        {
            await TextAsync(context, 400, $"Error in call to API function \"{endpoint}\": This function requires its argument in the HTTP header, on content.dropboxapi.com.");
            return;
        }
        if (!await AuthorizedAsync(context))
        {
            return;
        }
        var body = Body(context);
        JsonElement arg = default;
        if (body.Length > 0)
        {
            if (!(context.Request.ContentType ?? "").StartsWith("application/json", StringComparison.Ordinal))
            {
                await TextAsync(context, 400, "Error in call to API function: Bad HTTP \"Content-Type\" header. Expecting \"application/json\".");
                return;
            }
            using var json = JsonDocument.Parse(body);
            arg = json.RootElement.Clone();
        }
        switch (endpoint)
        {
            case "users/get_current_account":
                await JsonAsync(context, 200, new Dictionary<string, object>
                {
                    ["account_id"] = "dbid:fake-account",
                    ["name"] = new Dictionary<string, string> { ["display_name"] = DisplayName, ["given_name"] = "Grace", ["surname"] = "Hopper" },
                    ["email"] = Email,
                });
                return;
            case "files/create_folder_v2":
                var folder = arg.GetProperty("path").GetString()!;
                bool exists;
                lock (Gate)
                {
                    exists = _folders.Contains(folder) || _files.ContainsKey(folder);
                    if (!exists)
                    {
                        AddFolders(folder);
                    }
                }
                if (exists)
                {
                    await Conflict(context, "path/conflict/folder/..");
                    return;
                }
                await JsonAsync(context, 200, new { metadata = new Dictionary<string, string> { ["name"] = folder[(folder.LastIndexOf('/') + 1)..], ["path_display"] = folder } });
                return;
            case "files/delete_v2":
                var path = arg.GetProperty("path").GetString()!;
                bool removed;
                lock (Gate)
                {
                    removed = _files.Remove(path) || _folders.Remove(path);
                }
                if (!removed)
                {
                    await Conflict(context, "path_lookup/not_found/..");
                    return;
                }
                await JsonAsync(context, 200, new { metadata = new Dictionary<string, string> { ["path_display"] = path } });
                return;
            default:
                await TextAsync(context, 400, $"Unknown API function: \"{endpoint}\"");
                return;
        }
    }

    private async Task ContentAsync(HttpContext context, string endpoint)
    {
        if (endpoint is not ("files/upload" or "files/upload_session/start" or "files/upload_session/append_v2" or "files/upload_session/finish"))
        {
            await TextAsync(context, 400, $"Unknown API function: \"{endpoint}\" is not served on content.dropboxapi.com");
            return;
        }
        if (!await AuthorizedAsync(context))
        {
            return;
        }
        var header = context.Request.Headers["Dropbox-API-Arg"].ToString();
        if (header.Length == 0 || header.Any(c => c > 0x7E))
        {
            await TextAsync(context, 400, "Error in call to API function: Dropbox-API-Arg is missing or not ASCII (escape non-ASCII characters as \\uXXXX).");
            return;
        }
        if (context.Request.ContentType != "application/octet-stream")
        {
            await TextAsync(context, 400, "Error in call to API function: Bad HTTP \"Content-Type\" header. Expecting \"application/octet-stream\".");
            return;
        }
        var body = Body(context);
        if (body.Length > RequestLimit)
        {
            await TextAsync(context, 400, "Error in call to API function: request body larger than 150 MiB.");
            return;
        }
        using var json = JsonDocument.Parse(header);
        var arg = json.RootElement;
        switch (endpoint)
        {
            case "files/upload":
                await CommitAsync(context, arg, body);
                return;
            case "files/upload_session/start":
                var id = Guid.NewGuid().ToString("N");
                lock (Gate)
                {
                    var session = new UploadSession { Expires = Clock.GetUtcNow() + SessionLifetime };
                    session.Received.Write(body);
                    session.Chunks.Add(body.Length);
                    _sessions[id] = session;
                }
                await JsonAsync(context, 200, new { session_id = id });
                return;
            case "files/upload_session/append_v2":
                if (await AppendAsync(context, arg.GetProperty("cursor"), body, nested: false) is null)
                {
                    return;
                }
                if (LoseAppendAnswers > 0)
                {
                    // The bytes were stored but the answer is lost on the way back.
                    LoseAppendAnswers--;
                    await TextAsync(context, 503, "upstream connect error or disconnect/reset before headers");
                    return;
                }
                await JsonAsync(context, 200, (object?)null!);
                return;
            case "files/upload_session/finish":
                if (await AppendAsync(context, arg.GetProperty("cursor"), body, nested: true) is not { } finished)
                {
                    return;
                }
                byte[] bytes;
                lock (Gate)
                {
                    finished.Closed = true;
                    bytes = finished.Received.ToArray();
                }
                await CommitAsync(context, arg.GetProperty("commit"), bytes);
                return;
        }
    }

    /// <summary>Checks the cursor and appends; answers the error itself and returns null when the offset or session is wrong.</summary>
    private async Task<UploadSession?> AppendAsync(HttpContext context, JsonElement cursor, byte[] body, bool nested)
    {
        var id = cursor.GetProperty("session_id").GetString()!;
        var offset = cursor.GetProperty("offset").GetInt64();
        UploadSession? session;
        long received = 0;
        string? error = null;
        lock (Gate)
        {
            _sessions.TryGetValue(id, out session);
            if (session is null || session.Expires <= Clock.GetUtcNow())
            {
                error = "not_found";
            }
            else if (session.Closed)
            {
                error = "closed";
            }
            else if (offset != session.Received.Length)
            {
                error = "incorrect_offset";
                received = session.Received.Length;
            }
            else
            {
                session.Received.Write(body);
                session.Chunks.Add(body.Length);
            }
        }
        if (error is null)
        {
            return session;
        }
        var detail = new Dictionary<string, object> { [".tag"] = error };
        if (error == "incorrect_offset")
        {
            detail["correct_offset"] = received;
        }
        object errorBody = nested ? new Dictionary<string, object> { [".tag"] = "lookup_failed", ["lookup_failed"] = detail } : detail;
        await JsonAsync(context, 409, new Dictionary<string, object> { ["error_summary"] = (nested ? "lookup_failed/" : "") + error + "/..", ["error"] = errorBody });
        return null;
    }

    private async Task CommitAsync(HttpContext context, JsonElement commit, byte[] bytes)
    {
        var path = commit.GetProperty("path").GetString()!;
        var mode = commit.TryGetProperty("mode", out var m) ? (m.ValueKind == JsonValueKind.String ? m.GetString() : m.GetProperty(".tag").GetString()) : "add";
        if (!path.StartsWith('/') || path.EndsWith('/') || path.Contains("//", StringComparison.Ordinal))
        {
            await Conflict(context, "path/malformed_path/..");
            return;
        }
        string? conflict = null;
        (string Display, byte[] Bytes, string Id) stored = ("", [], "");
        lock (Gate)
        {
            if (_folders.Contains(path))
            {
                conflict = "path/conflict/folder/..";
            }
            else if (_files.TryGetValue(path, out var existing) && mode != "overwrite" && !existing.Bytes.AsSpan().SequenceEqual(bytes))
            {
                conflict = "path/conflict/file/..";
            }
            else
            {
                AddFolders(path[..path.LastIndexOf('/')]);
                var id = _files.TryGetValue(path, out var before) ? before.Id : $"id:fake{++_ids:D4}";
                stored = _files[path] = (path, bytes, id);
            }
        }
        if (conflict is not null)
        {
            await Conflict(context, conflict);
            return;
        }
        await JsonAsync(context, 200, new Dictionary<string, object>
        {
            [".tag"] = "file",
            ["name"] = path[(path.LastIndexOf('/') + 1)..],
            ["id"] = stored.Id,
            ["path_display"] = stored.Display,
            ["path_lower"] = stored.Display.ToLowerInvariant(),
            ["size"] = bytes.Length,
        });
    }

    private void AddFolders(string folder)
    {
        var parts = folder.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 1; i <= parts.Length; i++)
        {
            _folders.Add("/" + string.Join('/', parts.Take(i)));
        }
    }

    private static Task Conflict(HttpContext context, string summary)
    {
        var tags = summary.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(t => t != "..").ToArray();
        object error = new Dictionary<string, string> { [".tag"] = tags[^1] };
        for (var i = tags.Length - 2; i >= 0; i--)
        {
            error = new Dictionary<string, object> { [".tag"] = tags[i], [tags[i]] = error };
        }
        return JsonAsync(context, 409, new Dictionary<string, object> { ["error_summary"] = summary, ["error"] = error });
    }

    private sealed class UploadSession
    {
        public MemoryStream Received { get; } = new();
        public List<int> Chunks { get; } = [];
        public DateTimeOffset Expires { get; set; }
        public bool Closed { get; set; }
    }
}
