using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Apertur.Tests.CloudDrives;

/// <summary>A file or folder in the fake Drive.</summary>
public sealed class FakeDriveFile
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string MimeType { get; init; }
    public required string Parent { get; init; }
    public Dictionary<string, string> AppProperties { get; init; } = [];
    public byte[] Bytes { get; set; } = [];
    public bool IsFolder => MimeType == FakeGoogleDrive.FolderType;
}

/// <summary>
/// Google's OAuth endpoints and the Drive v3 endpoints the google_drive adapter uses, checked as Google documents them:
/// a live bearer token on every call (401 <c>authError</c> otherwise); <c>files.list</c> with the query forms the adapter
/// sends (anything else is 400); folder creation under an existing parent; multipart uploads (metadata part then media
/// part, at most 5 MB); resumable sessions (Location answer, <c>Content-Range</c> chunks that start where the last ended
/// and are multiples of 256 KiB except the last, 308 with <c>Range</c>, status queries with <c>bytes */N</c>, sessions
/// that expire after a week). A token sent to a session URI must be live too. Bytes are kept for comparison.
/// </summary>
public sealed partial class FakeGoogleDrive : FakeCloud
{
    public const string FolderType = "application/vnd.google-apps.folder";
    public const int ChunkUnit = 256 * 1024;
    public const int MultipartLimit = 5 * 1024 * 1024;
    private readonly Dictionary<string, FakeDriveFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ResumableSession> _sessions = new(StringComparer.Ordinal);
    private int _ids;

    private FakeGoogleDrive(TimeProvider clock) : base(clock, new FakeOAuthServer(clock)
    {
        RequiredScopes = ["https://www.googleapis.com/auth/drive.file"],
        RequiredParameters = new() { ["access_type"] = "offline" },
    })
    {
    }

    public static async Task<FakeGoogleDrive> StartAsync(TimeProvider clock)
    {
        var fake = new FakeGoogleDrive(clock);
        await fake.StartAsync();
        return fake;
    }

    public string DisplayName { get; set; } = "Ada Lovelace";
    public string Email { get; set; } = "ada@example.com";
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(7);

    public Uri AuthorizeUrl => Url("o/oauth2/v2/auth");
    public Uri TokenUrl => Url("token");
    public Uri ApiBaseUrl => Url("drive/v3/");
    public Uri UploadBaseUrl => Url("upload/drive/v3/");

    /// <summary>Every file (not folder) with its path from My Drive ("Apertur/{session}/0.jpg").</summary>
    public IReadOnlyDictionary<string, FakeDriveFile> FilesByPath()
    {
        lock (Gate)
        {
            return _files.Values.Where(f => !f.IsFolder).ToDictionary(PathOf, f => f, StringComparer.Ordinal);
        }
    }

    public IReadOnlyList<FakeDriveFile> Folders()
    {
        lock (Gate)
        {
            return _files.Values.Where(f => f.IsFolder).ToList();
        }
    }

    /// <summary>Expires every resumable session now (as if its week had passed).</summary>
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

    /// <summary>Drive's 403 rate-limit answer (<c>rateLimitExceeded</c>, <c>userRateLimitExceeded</c>, <c>dailyLimitExceeded</c>).</summary>
    public static Task Forbidden(HttpContext context, string reason) => JsonAsync(context, 403, Error(403, reason, reason switch
    {
        "dailyLimitExceeded" => "Daily Limit Exceeded",
        "userRateLimitExceeded" => "User Rate Limit Exceeded",
        _ => "Rate Limit Exceeded",
    }, "usageLimits"));

    private string PathOf(FakeDriveFile file)
    {
        var parts = new List<string> { file.Name };
        var parent = file.Parent;
        while (parent != "root" && _files.TryGetValue(parent, out var folder))
        {
            parts.Insert(0, folder.Name);
            parent = folder.Parent;
        }
        return string.Join('/', parts);
    }

    protected override void Map(WebApplication app)
    {
        app.MapGet("/o/oauth2/v2/auth", OAuth.AuthorizeAsync);
        app.MapPost("/token", OAuth.TokenAsync);
        app.MapGet("/drive/v3/about", AboutAsync);
        app.MapGet("/drive/v3/files", ListAsync);
        app.MapPost("/drive/v3/files", CreateAsync);
        app.MapGet("/drive/v3/files/{id}", GetAsync);
        app.MapDelete("/drive/v3/files/{id}", DeleteAsync);
        app.MapPost("/upload/drive/v3/files", UploadAsync);
        app.MapPut("/upload/drive/v3/files", ChunkAsync);
    }

    private async Task<bool> AuthorizedAsync(HttpContext context, bool optional = false)
    {
        var check = OAuth.Check(context);
        if (check == TokenCheck.Valid || (optional && check == TokenCheck.Missing))
        {
            return true;
        }
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"";
        await JsonAsync(context, 401, Error(401, "authError", "Invalid Credentials", "global"));
        return false;
    }

    private async Task AboutAsync(HttpContext context)
    {
        if (await AuthorizedAsync(context))
        {
            await JsonAsync(context, 200, new { user = new { displayName = DisplayName, emailAddress = Email, kind = "drive#user" } });
        }
    }

    [GeneratedRegex(@"^name = '((?:[^'\\]|\\.)*)' and '((?:[^'\\]|\\.)*)' in parents and mimeType = 'application/vnd\.google-apps\.folder' and trashed = false$")]
    private static partial Regex FolderQuery();

    [GeneratedRegex(@"^'((?:[^'\\]|\\.)*)' in parents and appProperties has \{ key='([^']*)' and value='([^']*)' \} and trashed = false$")]
    private static partial Regex PropertyQuery();

    private async Task ListAsync(HttpContext context)
    {
        if (!await AuthorizedAsync(context))
        {
            return;
        }
        var q = context.Request.Query["q"].ToString();
        IEnumerable<FakeDriveFile> found;
        if (FolderQuery().Match(q) is { Success: true } folder)
        {
            var name = Unquote(folder.Groups[1].Value);
            var parent = Unquote(folder.Groups[2].Value);
            lock (Gate)
            {
                found = _files.Values.Where(f => f.IsFolder && f.Name == name && f.Parent == parent).ToList();
            }
        }
        else if (PropertyQuery().Match(q) is { Success: true } property)
        {
            var parent = Unquote(property.Groups[1].Value);
            lock (Gate)
            {
                found = _files.Values.Where(f => f.Parent == parent && f.AppProperties.TryGetValue(property.Groups[2].Value, out var v)
                    && v == property.Groups[3].Value).ToList();
            }
        }
        else
        {
            await JsonAsync(context, 400, Error(400, "invalidQuery", $"Invalid Value (the fake does not know the query '{q}')", "global"));
            return;
        }
        await JsonAsync(context, 200, new { files = found.Select(f => new { id = f.Id, name = f.Name, size = f.Bytes.Length.ToString(CultureInfo.InvariantCulture) }) });
    }

    private async Task CreateAsync(HttpContext context)
    {
        if (!await AuthorizedAsync(context))
        {
            return;
        }
        using var json = JsonDocument.Parse(Body(context));
        var created = await CreateFileAsync(context, json.RootElement, []);
        if (created is not null)
        {
            await JsonAsync(context, 200, new { id = created.Id, name = created.Name });
        }
    }

    private async Task<FakeDriveFile?> CreateFileAsync(HttpContext context, JsonElement metadata, byte[] bytes)
    {
        var parent = metadata.TryGetProperty("parents", out var parents) && parents.GetArrayLength() == 1 ? parents[0].GetString()! : "root";
        var name = metadata.GetProperty("name").GetString()!;
        var mime = metadata.TryGetProperty("mimeType", out var m) ? m.GetString()! : "application/octet-stream";
        var properties = metadata.TryGetProperty("appProperties", out var p)
            ? p.EnumerateObject().ToDictionary(x => x.Name, x => x.Value.GetString()!)
            : [];
        lock (Gate)
        {
            if (parent != "root" && (!_files.TryGetValue(parent, out var folder) || !folder.IsFolder))
            {
                parent = "";
            }
            else
            {
                var file = new FakeDriveFile { Id = $"f{++_ids:D4}x", Name = name, MimeType = mime, Parent = parent, AppProperties = properties, Bytes = bytes };
                _files[file.Id] = file;
                return file;
            }
        }
        await JsonAsync(context, 404, Error(404, "notFound", "File not found: parent.", "global"));
        return null;
    }

    private async Task GetAsync(HttpContext context, string id)
    {
        if (!await AuthorizedAsync(context))
        {
            return;
        }
        FakeDriveFile? file;
        lock (Gate)
        {
            _files.TryGetValue(id, out file);
        }
        if (file is null)
        {
            await JsonAsync(context, 404, Error(404, "notFound", $"File not found: {id}.", "global"));
            return;
        }
        await JsonAsync(context, 200, new { id = file.Id, name = file.Name, mimeType = file.MimeType, trashed = false, capabilities = new { canAddChildren = file.IsFolder } });
    }

    private async Task DeleteAsync(HttpContext context, string id)
    {
        if (!await AuthorizedAsync(context))
        {
            return;
        }
        bool removed;
        lock (Gate)
        {
            removed = _files.Remove(id);
        }
        if (removed)
        {
            context.Response.StatusCode = 204;
        }
        else
        {
            await JsonAsync(context, 404, Error(404, "notFound", $"File not found: {id}.", "global"));
        }
    }

    private async Task UploadAsync(HttpContext context)
    {
        if (!await AuthorizedAsync(context))
        {
            return;
        }
        switch (context.Request.Query["uploadType"].ToString())
        {
            case "multipart":
                await MultipartAsync(context);
                return;
            case "resumable":
                await StartSessionAsync(context);
                return;
            default:
                await JsonAsync(context, 400, Error(400, "badRequest", "uploadType must be multipart or resumable", "global"));
                return;
        }
    }

    /// <summary>multipart/related: a JSON metadata part, then the media part with its own Content-Type.</summary>
    private async Task MultipartAsync(HttpContext context)
    {
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var type) || type.MediaType != "multipart/related" || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 } boundary)
        {
            await JsonAsync(context, 400, Error(400, "badContent", "Content-Type must be multipart/related with a boundary", "global"));
            return;
        }
        var reader = new MultipartReader(boundary, new MemoryStream(Body(context)));
        // Each section's body must be read before the next section is asked for.
        var metadataPart = await reader.ReadNextSectionAsync();
        using var metadataBytes = new MemoryStream();
        if (metadataPart is not null)
        {
            await metadataPart.Body.CopyToAsync(metadataBytes);
        }
        var mediaPart = metadataPart is null ? null : await reader.ReadNextSectionAsync();
        using var media = new MemoryStream();
        if (mediaPart is not null)
        {
            await mediaPart.Body.CopyToAsync(media);
        }
        if (metadataPart is null || mediaPart is null || await reader.ReadNextSectionAsync() is not null
            || !(metadataPart.ContentType ?? "").StartsWith("application/json", StringComparison.Ordinal) || string.IsNullOrEmpty(mediaPart.ContentType))
        {
            await JsonAsync(context, 400, Error(400, "badContent", "multipart/related needs exactly a JSON metadata part and a media part with a Content-Type", "global"));
            return;
        }
        using var metadata = JsonDocument.Parse(metadataBytes.ToArray());
        if (media.Length > MultipartLimit)
        {
            await JsonAsync(context, 413, Error(413, "uploadTooLarge", "Multipart uploads are for files of 5 MB or less: use a resumable upload", "global"));
            return;
        }
        var file = await CreateFileAsync(context, metadata.RootElement, media.ToArray());
        if (file is not null)
        {
            await JsonAsync(context, 200, new { id = file.Id, name = file.Name, size = file.Bytes.Length.ToString(CultureInfo.InvariantCulture) });
        }
    }

    private async Task StartSessionAsync(HttpContext context)
    {
        if (!long.TryParse(context.Request.Headers["X-Upload-Content-Length"], out var total) || string.IsNullOrEmpty(context.Request.Headers["X-Upload-Content-Type"]))
        {
            await JsonAsync(context, 400, Error(400, "badRequest", "X-Upload-Content-Length and X-Upload-Content-Type are expected", "global"));
            return;
        }
        using var metadata = JsonDocument.Parse(Body(context));
        var id = Guid.NewGuid().ToString("N");
        lock (Gate)
        {
            _sessions[id] = new ResumableSession(metadata.RootElement.Clone(), total) { Expires = Clock.GetUtcNow() + SessionLifetime };
        }
        context.Response.Headers.Location = Url($"upload/drive/v3/files?uploadType=resumable&upload_id={id}").AbsoluteUri;
        context.Response.StatusCode = 200;
    }

    private async Task ChunkAsync(HttpContext context)
    {
        // A token is not needed on the session URI (the upload_id is the capability), but one that is sent must be live.
        if (!await AuthorizedAsync(context, optional: true))
        {
            return;
        }
        ResumableSession? session;
        lock (Gate)
        {
            _sessions.TryGetValue(context.Request.Query["upload_id"].ToString(), out session);
        }
        if (session is null || session.Expires <= Clock.GetUtcNow())
        {
            await JsonAsync(context, 404, Error(404, "notFound", "The upload session was not found or has expired", "global"));
            return;
        }
        var body = Body(context);
        var range = context.Request.Headers.ContentRange.ToString();
        var status = StatusRange().Match(range);
        var chunk = ChunkRange().Match(range);
        if (status.Success && body.Length == 0 && long.Parse(status.Groups[1].Value, CultureInfo.InvariantCulture) == session.Total)
        {
            await ProgressAsync(context, session);
            return;
        }
        if (!chunk.Success)
        {
            await JsonAsync(context, 400, Error(400, "badRequest", $"Content-Range '{range}' is not 'bytes a-b/total'", "global"));
            return;
        }
        var from = long.Parse(chunk.Groups[1].Value, CultureInfo.InvariantCulture);
        var to = long.Parse(chunk.Groups[2].Value, CultureInfo.InvariantCulture);
        var total = long.Parse(chunk.Groups[3].Value, CultureInfo.InvariantCulture);
        string? problem = null;
        lock (Gate)
        {
            if (total != session.Total)
            {
                problem = $"total {total} differs from X-Upload-Content-Length {session.Total}";
            }
            else if (from != session.Received.Length)
            {
                problem = $"the chunk starts at {from} but {session.Received.Length} bytes were received";
            }
            else if (to - from + 1 != body.Length)
            {
                problem = $"Content-Range says {to - from + 1} bytes, the body has {body.Length}";
            }
            else if (to != total - 1 && body.Length % ChunkUnit != 0)
            {
                problem = $"chunk of {body.Length} bytes: chunks other than the last must be a multiple of 256 KiB";
            }
            else
            {
                session.Received.Write(body);
                session.Chunks.Add(body.Length);
            }
        }
        if (problem is not null)
        {
            await JsonAsync(context, 400, Error(400, "badRequest", problem, "global"));
            return;
        }
        await ProgressAsync(context, session);
    }

    private async Task ProgressAsync(HttpContext context, ResumableSession session)
    {
        long received;
        lock (Gate)
        {
            received = session.Received.Length;
        }
        if (received < session.Total)
        {
            if (received > 0)
            {
                context.Response.Headers["Range"] = $"bytes=0-{received - 1}";
            }
            context.Response.StatusCode = 308;
            return;
        }
        FakeDriveFile? file;
        lock (Gate)
        {
            file = session.File;
        }
        file ??= await CreateFileAsync(context, session.Metadata, session.Received.ToArray());
        if (file is not null)
        {
            lock (Gate)
            {
                session.File = file;
            }
            await JsonAsync(context, 200, new { id = file.Id, name = file.Name, size = file.Bytes.Length.ToString(CultureInfo.InvariantCulture) });
        }
    }

    /// <summary>Chunk sizes received by resumable sessions so far, session by session.</summary>
    public IReadOnlyList<IReadOnlyList<int>> SessionChunks()
    {
        lock (Gate)
        {
            return _sessions.Values.Select(s => (IReadOnlyList<int>)s.Chunks.ToList()).ToList();
        }
    }

    [GeneratedRegex(@"^bytes \*/(\d+)$")]
    private static partial Regex StatusRange();

    [GeneratedRegex(@"^bytes (\d+)-(\d+)/(\d+)$")]
    private static partial Regex ChunkRange();

    private static string Unquote(string value) => value.Replace("\\'", "'", StringComparison.Ordinal).Replace("\\\\", "\\", StringComparison.Ordinal);

    private static object Error(int code, string reason, string message, string domain) => new
    {
        error = new { code, message, errors = new[] { new { domain, reason, message } } },
    };

    private sealed class ResumableSession(JsonElement metadata, long total)
    {
        public JsonElement Metadata { get; } = metadata;
        public long Total { get; } = total;
        public MemoryStream Received { get; } = new();
        public List<int> Chunks { get; } = [];
        public DateTimeOffset Expires { get; set; }
        public FakeDriveFile? File { get; set; }
    }
}
