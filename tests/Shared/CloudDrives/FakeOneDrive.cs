using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Apertur.Tests.CloudDrives;

/// <summary>
/// The Microsoft identity platform's OAuth endpoints (tenant <c>common</c>; scopes on token requests; rotating refresh
/// tokens) and the Microsoft Graph drive endpoints the onedrive adapter uses, checked as Graph documents them: a live
/// bearer token on API calls (401 <c>InvalidAuthenticationToken</c>); items addressed by path (<c>root:/a/b.jpg:</c>) or
/// by id (<c>items/{id}:/b.jpg:</c>), missing folders created by path-addressed uploads; <c>PUT …/content</c> with
/// <c>@microsoft.graph.conflictBehavior</c> (replace by default; fail answers 409 <c>nameAlreadyExists</c>);
/// <c>createUploadSession</c> answering an <c>uploadUrl</c> that must NOT get an Authorization header (401), fragments in
/// order with <c>Content-Range</c>, each a multiple of 320 KiB but the last and at most 60 MiB, 202 with
/// <c>nextExpectedRanges</c>, 416 for a range already received, 404 once the session expired. Bytes are kept.
/// </summary>
public sealed partial class FakeOneDrive : FakeCloud
{
    public const int ChunkUnit = 320 * 1024;
    public const int MaxFragment = 60 * 1024 * 1024;
    public const string DriveId = "b!fake-drive";
    private readonly Dictionary<string, Item> _byPath = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, UploadSession> _sessions = new(StringComparer.Ordinal);
    private int _ids;

    private FakeOneDrive(TimeProvider clock) : base(clock, new FakeOAuthServer(clock)
    {
        RequiredScopes = ["Files.ReadWrite", "offline_access"],
        ScopeOnTokenRequests = true,
        RotatesRefreshTokens = true,
    })
    {
        _byPath[""] = new Item("root", "root", null, IsFolder: true);
    }

    public static async Task<FakeOneDrive> StartAsync(TimeProvider clock)
    {
        var fake = new FakeOneDrive(clock);
        await fake.StartAsync();
        return fake;
    }

    public string DisplayName { get; set; } = "Katherine Johnson";
    public string DriveType { get; set; } = "business";
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(1);

    public Uri AuthorizeUrl => Url("common/oauth2/v2.0/authorize");
    public Uri TokenUrl => Url("common/oauth2/v2.0/token");
    public Uri ApiBaseUrl => Url("v1.0/");

    /// <summary>Files by path from the drive root ("Apertur/{session}/0.jpg").</summary>
    public IReadOnlyDictionary<string, byte[]> Files()
    {
        lock (Gate)
        {
            return _byPath.Where(p => !p.Value.IsFolder).ToDictionary(p => p.Key, p => p.Value.Bytes!, StringComparer.Ordinal);
        }
    }

    /// <summary>A folder made outside Apertur, addressable by id.</summary>
    public string AddFolder(string path)
    {
        lock (Gate)
        {
            return EnsureFolders(path).Id;
        }
    }

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

    /// <summary>Graph's throttling answer: 429 (or 503) with Retry-After and <c>activityLimitReached</c>.</summary>
    public static Task Throttled(HttpContext context, int retryAfterSeconds, int status = 429)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return GraphError(context, status, "activityLimitReached", "The app or user has been throttled.");
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/common/oauth2/v2.0/authorize", OAuth.AuthorizeAsync);
        app.MapPost("/common/oauth2/v2.0/token", OAuth.TokenAsync);
        app.Map("/v1.0/{**rest}", GraphAsync);
        app.MapPut("/upload/{session}", FragmentAsync);
        app.MapGet("/upload/{session}", SessionStatusAsync);
    }

    [GeneratedRegex(@"^/v1\.0/(?:me/drive|drives/([^/?]+))(?:/(root|items/([^/:?]+))(?::/(.*?):?)?)?(/content|/createUploadSession)?(?:\?.*)?$")]
    private static partial Regex Address();

    private async Task GraphAsync(HttpContext context)
    {
        var check = OAuth.Check(context);
        if (check != TokenCheck.Valid)
        {
            await GraphError(context, 401, "InvalidAuthenticationToken", check == TokenCheck.Expired ? "Access token has expired or is not yet valid." : "IDX14100: JWT is not well formed.");
            return;
        }
        var raw = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var match = Address().Match(raw);
        if (!match.Success)
        {
            await GraphError(context, 400, "invalidRequest", $"The fake does not serve {raw}");
            return;
        }
        if (match.Groups[1].Success && Uri.UnescapeDataString(match.Groups[1].Value) != DriveId)
        {
            await GraphError(context, 404, "itemNotFound", "The drive was not found.");
            return;
        }
        var method = context.Request.Method;
        var action = match.Groups[5].Value;
        if (!match.Groups[2].Success)
        {
            if (method == "GET" && action.Length == 0)
            {
                await JsonAsync(context, 200, new Dictionary<string, object>
                {
                    ["id"] = DriveId,
                    ["driveType"] = DriveType,
                    ["owner"] = new { user = new { displayName = DisplayName, id = "fake-user" } },
                    ["quota"] = new { total = 1L << 40, used = 0, remaining = 1L << 40, state = "normal" },
                });
                return;
            }
            await GraphError(context, 400, "invalidRequest", "Unsupported drive request");
            return;
        }
        // The folder the address starts from, then the path below it.
        string basePath;
        lock (Gate)
        {
            basePath = match.Groups[3].Success ? PathOfId(Uri.UnescapeDataString(match.Groups[3].Value)) ?? "\0" : "";
        }
        if (basePath == "\0")
        {
            await GraphError(context, 404, "itemNotFound", "The resource could not be found.");
            return;
        }
        var below = match.Groups[4].Success ? string.Join('/', match.Groups[4].Value.Split('/').Select(Uri.UnescapeDataString)) : "";
        if (below.Split('/').Any(s => s.Contains(':', StringComparison.Ordinal)))
        {
            await GraphError(context, 400, "invalidRequest", "A name contains a character OneDrive does not allow (:)");
            return;
        }
        var path = string.Join('/', new[] { basePath, below }.Where(p => p.Length > 0));
        switch (method, action)
        {
            case ("GET", ""):
                Item? item;
                lock (Gate)
                {
                    _byPath.TryGetValue(path, out item);
                }
                if (item is null)
                {
                    await GraphError(context, 404, "itemNotFound", "The resource could not be found.");
                    return;
                }
                await JsonAsync(context, 200, View(item, path));
                return;
            case ("DELETE", ""):
                bool removed;
                lock (Gate)
                {
                    removed = path.Length > 0 && _byPath.Remove(path);
                }
                if (!removed)
                {
                    await GraphError(context, 404, "itemNotFound", "The resource could not be found.");
                    return;
                }
                context.Response.StatusCode = 204;
                return;
            case ("PUT", "/content"):
                var conflict = context.Request.Query["@microsoft.graph.conflictBehavior"].ToString();
                await StoreAsync(context, path, Body(context), conflict.Length == 0 ? "replace" : conflict);
                return;
            case ("POST", "/createUploadSession"):
                var behaviour = "replace";
                var body = Body(context);
                if (body.Length > 0)
                {
                    using var json = JsonDocument.Parse(body);
                    if (json.RootElement.TryGetProperty("item", out var spec) && spec.TryGetProperty("@microsoft.graph.conflictBehavior", out var b))
                    {
                        behaviour = b.GetString()!;
                    }
                }
                var id = Guid.NewGuid().ToString("N");
                var session = new UploadSession(path, behaviour) { Expires = Clock.GetUtcNow() + SessionLifetime };
                lock (Gate)
                {
                    _sessions[id] = session;
                }
                await JsonAsync(context, 200, new
                {
                    uploadUrl = Url($"upload/{id}").AbsoluteUri,
                    expirationDateTime = session.Expires.ToString("O", CultureInfo.InvariantCulture),
                    nextExpectedRanges = new[] { "0-" },
                });
                return;
            default:
                await GraphError(context, 405, "invalidRequest", $"{method} {action} is not served by the fake");
                return;
        }
    }

    private async Task FragmentAsync(HttpContext context, string session)
    {
        // Graph: "If you include the Authorization header when issuing the PUT call, it may result in an HTTP 401 Unauthorized response."
        if (context.Request.Headers.Authorization.Count > 0)
        {
            await GraphError(context, 401, "unauthenticated", "The upload URL is pre-authenticated: send no Authorization header.");
            return;
        }
        UploadSession? upload;
        lock (Gate)
        {
            _sessions.TryGetValue(session, out upload);
        }
        if (upload is null || upload.Expires <= Clock.GetUtcNow() || upload.Done)
        {
            await GraphError(context, 404, "itemNotFound", "The upload session was not found or has expired.");
            return;
        }
        var body = Body(context);
        var range = ContentRange().Match(context.Request.Headers.ContentRange.ToString());
        if (!range.Success)
        {
            await GraphError(context, 400, "invalidRange", "Content-Range must be 'bytes a-b/total'.");
            return;
        }
        var from = long.Parse(range.Groups[1].Value, CultureInfo.InvariantCulture);
        var to = long.Parse(range.Groups[2].Value, CultureInfo.InvariantCulture);
        var total = long.Parse(range.Groups[3].Value, CultureInfo.InvariantCulture);
        string? problem = null;
        var status = 400;
        lock (Gate)
        {
            upload.Total ??= total;
            if (total != upload.Total)
            {
                problem = "The total size changed during the session.";
            }
            else if (from < upload.Received.Length)
            {
                status = 416;
                problem = $"Bytes {from}-{to} overlap what was already received ({upload.Received.Length}).";
            }
            else if (from > upload.Received.Length)
            {
                status = 416;
                problem = $"Fragments must be sent in order: expected {upload.Received.Length}, got {from}.";
            }
            else if (to - from + 1 != body.Length)
            {
                problem = $"Content-Range says {to - from + 1} bytes, the body has {body.Length}.";
            }
            else if (body.Length > MaxFragment)
            {
                problem = "A fragment may carry at most 60 MiB.";
            }
            else if (to != total - 1 && body.Length % ChunkUnit != 0)
            {
                problem = $"Fragment of {body.Length} bytes: fragments other than the last must be a multiple of 320 KiB.";
            }
            else
            {
                upload.Received.Write(body);
                upload.Chunks.Add(body.Length);
            }
        }
        if (problem is not null)
        {
            await GraphError(context, status, status == 416 ? "invalidRange" : "invalidRequest", problem);
            return;
        }
        if (upload.Received.Length < total)
        {
            await JsonAsync(context, 202, new
            {
                expirationDateTime = upload.Expires.ToString("O", CultureInfo.InvariantCulture),
                nextExpectedRanges = new[] { $"{upload.Received.Length}-" },
            });
            return;
        }
        upload.Done = true;
        await StoreAsync(context, upload.Path, upload.Received.ToArray(), upload.ConflictBehavior);
    }

    private async Task SessionStatusAsync(HttpContext context, string session)
    {
        UploadSession? upload;
        lock (Gate)
        {
            _sessions.TryGetValue(session, out upload);
        }
        if (upload is null || upload.Expires <= Clock.GetUtcNow() || upload.Done)
        {
            await GraphError(context, 404, "itemNotFound", "The upload session was not found or has expired.");
            return;
        }
        await JsonAsync(context, 200, new
        {
            expirationDateTime = upload.Expires.ToString("O", CultureInfo.InvariantCulture),
            nextExpectedRanges = new[] { $"{upload.Received.Length}-" },
        });
    }

    private async Task StoreAsync(HttpContext context, string path, byte[] bytes, string conflictBehavior)
    {
        Item item;
        var created = true;
        lock (Gate)
        {
            if (_byPath.TryGetValue(path, out var existing))
            {
                if (existing.IsFolder || conflictBehavior == "fail")
                {
                    item = existing;
                    created = false;
                    goto conflict;
                }
                created = false;
            }
            var slash = path.LastIndexOf('/');
            var parent = EnsureFolders(slash < 0 ? "" : path[..slash]);
            item = new Item(existing?.Id ?? $"01FAKE{++_ids:D4}", path[(slash + 1)..], parent.Id, IsFolder: false) { Bytes = bytes };
            _byPath[path] = item;
        }
        await JsonAsync(context, created ? 201 : 200, View(item, path));
        return;
    conflict:
        await GraphError(context, 409, "nameAlreadyExists", "An item with this name already exists.");
    }

    private Item EnsureFolders(string path)
    {
        var current = _byPath[""];
        var walked = "";
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            walked = walked.Length == 0 ? part : walked + "/" + part;
            if (!_byPath.TryGetValue(walked, out var next))
            {
                next = new Item($"01FOLD{++_ids:D4}", part, current.Id, IsFolder: true);
                _byPath[walked] = next;
            }
            current = next;
        }
        return current;
    }

    private string? PathOfId(string id) => _byPath.FirstOrDefault(p => p.Value.Id == id) is { Value: not null } found ? found.Key : null;

    private static Dictionary<string, object?> View(Item item, string path) => new()
    {
        ["id"] = item.Id,
        ["name"] = item.Name,
        ["size"] = item.Bytes?.LongLength ?? 0,
        [item.IsFolder ? "folder" : "file"] = item.IsFolder ? new { childCount = 0 } : new { mimeType = "application/octet-stream" },
        ["parentReference"] = new { driveId = DriveId, path = "/drive/root:/" + path },
    };

    private static Task GraphError(HttpContext context, int status, string code, string message) =>
        JsonAsync(context, status, new { error = new { code, message, innerError = new { date = "2026-11-02T12:00:00", request_id = Guid.NewGuid() } } });

    [GeneratedRegex(@"^bytes (\d+)-(\d+)/(\d+)$")]
    private static partial Regex ContentRange();

    private sealed record Item(string Id, string Name, string? ParentId, bool IsFolder)
    {
        public byte[]? Bytes { get; init; }
    }

    private sealed class UploadSession(string path, string conflictBehavior)
    {
        public string Path { get; } = path;
        public string ConflictBehavior { get; } = conflictBehavior;
        public MemoryStream Received { get; } = new();
        public List<int> Chunks { get; } = [];
        public long? Total { get; set; }
        public DateTimeOffset Expires { get; set; }
        public bool Done { get; set; }
    }
}
