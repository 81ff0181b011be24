using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.CloudDrives;
using Apertur.Destinations.OAuth;

namespace Apertur.Destinations.GoogleDrive;

/// <summary>Where Google's endpoints are and how uploads are cut (settings <c>Apertur:OAuth:Google</c>).</summary>
/// <param name="ChunkThresholdBytes">Images up to this size go in one multipart request; larger ones through a resumable session.</param>
/// <param name="ChunkSizeBytes">Bytes per resumable request: a multiple of 256 KiB, as Drive requires of every chunk but the last.</param>
/// <param name="DailyLimitWait">How long to wait after Drive's daily limit answer before trying again.</param>
public sealed record GoogleDriveSettings(OAuthApp App, Uri ApiBaseUrl, Uri UploadBaseUrl, long ChunkThresholdBytes, int ChunkSizeBytes, TimeSpan DailyLimitWait)
{
    public const int ChunkUnit = 256 * 1024;
}

/// <summary>
/// The <c>google_drive</c> destination (alias <c>gdrive</c>), on the Drive v3 REST API through HttpClient (the Drive
/// client package is not served here; the few calls are documented and small). The grant has the <c>drive.file</c>
/// scope, so Apertur sees only what it created: the target folder is given by id (one Apertur created, or one opened
/// with it) or found-or-created by name under My Drive, then the rendered subfolders are found-or-created below it.
/// Each file carries the image id in <c>appProperties</c>: a delivery repeated after a crash finds the file and does not
/// upload it twice. Small images go in one multipart request; larger ones through a resumable session in chunks that are
/// multiples of 256 KiB, resumed from the offset Drive reports after a 401 renewal, a 5xx or a broken connection.
/// 403 <c>userRateLimitExceeded</c>/<c>rateLimitExceeded</c> and 429 back off exponentially; <c>dailyLimitExceeded</c>
/// waits <see cref="GoogleDriveSettings.DailyLimitWait"/>.
/// </summary>
public sealed class GoogleDriveDestination : CloudDriveDestination, IDescribedDestination
{
    public const string DefaultFolder = "Apertur";
    public const string DefaultSubfolder = "{session_id}";
    private const string FolderType = "application/vnd.google-apps.folder";
    private const string ImageIdProperty = "apertur_image_id";

    private readonly GoogleDriveSettings _settings;
    private readonly Uri _api;
    private readonly Uri _upload;
    private const int MaxCachedFolders = 10_000;
    private readonly ConcurrentDictionary<string, string> _folders = new(StringComparer.Ordinal);
    // Striped: a bounded set of locks however many session folders pass through.
    private readonly SemaphoreSlim[] _folderLocks = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public GoogleDriveDestination(HttpClient http, TimeProvider time, IOAuthGrantStore grants, GoogleDriveSettings settings, CloudDriveTuning tuning)
        : base(http, time, grants, settings.App, tuning, "Google Drive")
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _api = WithSlash(settings.ApiBaseUrl);
        _upload = WithSlash(settings.UploadBaseUrl);
    }

    public override string Kind => DestinationKinds.GoogleDrive;

    /// <summary>The google_drive kind (alias gdrive): its form and validation; its credentials are the OAuth grant, not config.</summary>
    public static DestinationDescriptor Descriptor { get; } = new(DestinationKinds.GoogleDrive, "Google Drive",
        "Uploads each image to a folder of a Google Drive, connected with your Google account.", Validate,
        new([
            new("folder", "Folder", "A folder path in the drive, created when missing.", Placeholder: "Apertur"),
            new("folder_id", "Folder ID", "Or an existing folder's id (from its URL); wins over the path."),
            new("subfolder_template", "Subfolder template", DestinationFormSpec.TemplateHelp, Placeholder: "{session_id}"),
            new("filename_template", "File name template", DestinationFormSpec.TemplateHelp, Placeholder: "{image_index}.{ext}"),
        ]), SecretFields: [])
    {
        Aliases = ["gdrive"],
        OtherSecretNames = ["access_token", "refresh_token", "client_secret", "credentials", "service_account"],
        ConnectionTest = true,
        OAuth = true,
    };

    /// <summary>A Google Drive config: <c>folder_id</c> or <c>folder</c> (a name or path under My Drive), and the two templates.</summary>
    internal sealed record Config(string? FolderId, string Folder, CloudPathTemplates Templates);

    public static IReadOnlyList<string> Validate(JsonElement config)
    {
        Parse(config, out var problems);
        return problems;
    }

    public override IReadOnlyList<string> Check(JsonElement config) => Validate(config);

    private static Config? Parse(JsonElement config, out List<string> problems)
    {
        problems = [];
        if (!ConfigText.IsObject(config, problems))
        {
            return null;
        }
        var folderId = ConfigText.Optional(config, "folder_id", problems);
        if (folderId is not null && !folderId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            problems.Add($"config.folder_id '{folderId}' is not a Drive file id (letters, digits, - and _).");
        }
        var folder = ConfigText.Optional(config, "folder", problems) ?? DefaultFolder;
        var templates = CloudPathTemplates.Read(config, DefaultSubfolder, problems);
        return problems.Count == 0 ? new Config(folderId, folder, templates) : null;
    }

    public override async Task<string?> DescribeAccountAsync(string accessToken, CancellationToken ct)
    {
        var answer = await Http.SendAsync(() => WithToken(Get("about?fields=user(displayName,emailAddress)"), accessToken), null, Throttled, ct).ConfigureAwait(false);
        return answer.IsSuccess ? Account(answer) : null;
    }

    private protected override async Task<DeliveryResult> DeliverCoreAsync(DeliveryRequest request, AccessSession auth, CancellationToken ct)
    {
        var config = Parse(request.Target.Config, out _)!;
        var image = request.Image;
        var path = RenderPath(config.Templates, image, config.Folder);
        var shown = string.Join('/', [config.FolderId ?? config.Folder, .. path]);
        var metadata = new Dictionary<string, object>
        {
            ["name"] = path[^1],
            ["mimeType"] = image.MimeType,
            ["appProperties"] = new Dictionary<string, string> { [ImageIdProperty] = image.Id.ToString(), ["apertur_session_id"] = image.SessionId.ToString() },
        };
        for (var pass = 1; ; pass++)
        {
            var folderId = await ResolveFolderAsync(request.Target.Id, config, path.Take(path.Count - 1), auth, ct).ConfigureAwait(false);
            try
            {
                if (await FindImageAsync(folderId, image.Id, auth, ct).ConfigureAwait(false) is { } existing)
                {
                    return new DeliveryResult.Delivered($"{shown} (id {existing}, already there)", 200);
                }
                metadata["parents"] = new[] { folderId };
                var json = JsonSerializer.Serialize(metadata);
                var done = image.SizeBytes <= _settings.ChunkThresholdBytes
                    ? await UploadMultipartAsync(json, image, auth, ct).ConfigureAwait(false)
                    : await UploadResumableAsync(json, image, auth, ct).ConfigureAwait(false);
                return new DeliveryResult.Delivered($"{shown} (id {Property(done, "id") ?? "?"})", done.Status, done.Snippet);
            }
            catch (DeliveryStop stop) when (pass == 1 && stop.Result is DeliveryResult.Rejected { StatusCode: 404 })
            {
                // A folder found earlier may have been deleted in Drive since: find or create it again, once.
                Forget(request.Target.Id);
            }
        }
    }

    private protected override async Task<ConnectionTestResult> TestCoreAsync(DestinationTarget target, AccessSession auth, CancellationToken ct)
    {
        var config = Parse(target.Config, out _)!;
        var about = await Http.SendAsync(() => Get("about?fields=user(displayName,emailAddress)"), auth, Throttled, ct).ConfigureAwait(false);
        var account = about.IsSuccess ? Account(about) : throw Fail(about, "reading the account");
        string folderId;
        string folderName;
        if (config.FolderId is { } id)
        {
            var folder = await Http.SendAsync(() => Get($"files/{Uri.EscapeDataString(id)}?fields=id,name,mimeType,trashed,capabilities(canAddChildren)"),
                auth, Throttled, ct).ConfigureAwait(false);
            if (!folder.IsSuccess)
            {
                return new ConnectionTestResult(false, folder.Status == 404
                    ? $"Connected as {account}, but folder {id} was not found: with the drive.file scope Apertur only sees folders it created"
                    : $"Connected as {account}, but reading folder {id} failed: {Describe(folder)}", folder.Status);
            }
            using var json = JsonDocument.Parse(folder.Body);
            var root = json.RootElement;
            folderName = root.TryGetProperty("name", out var n) ? n.GetString() ?? id : id;
            if (root.TryGetProperty("mimeType", out var type) && type.GetString() != FolderType)
            {
                return new ConnectionTestResult(false, $"Connected as {account}, but {id} (\"{folderName}\") is a file, not a folder");
            }
            if (root.TryGetProperty("trashed", out var trashed) && trashed.ValueKind == JsonValueKind.True)
            {
                return new ConnectionTestResult(false, $"Connected as {account}, but folder \"{folderName}\" is in the trash");
            }
            if (root.TryGetProperty("capabilities", out var caps) && caps.TryGetProperty("canAddChildren", out var add) && add.ValueKind == JsonValueKind.False)
            {
                return new ConnectionTestResult(false, $"Connected as {account}, but this account may not add files to folder \"{folderName}\"");
            }
            folderId = id;
        }
        else
        {
            folderId = await ResolveFolderAsync(target.Id, config, [], auth, ct).ConfigureAwait(false);
            folderName = config.Folder;
        }
        var probe = ProbeBytes(Time);
        var metadata = JsonSerializer.Serialize(new { name = ProbeName, parents = new[] { folderId }, mimeType = "text/plain" });
        var written = await Http.SendAsync(() => MultipartRequest(metadata, new ByteArrayContent(probe), "text/plain"), auth, Throttled, ct).ConfigureAwait(false);
        if (!written.IsSuccess)
        {
            return new ConnectionTestResult(false, $"Connected as {account}; folder \"{folderName}\" found, but writing a test file failed: {Describe(written)}", written.Status);
        }
        if (Property(written, "id") is { } probeId)
        {
            await Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, new Uri(_api, $"files/{Uri.EscapeDataString(probeId)}")), auth, Throttled, ct)
                .ConfigureAwait(false);
        }
        return new ConnectionTestResult(true,
            $"Connected to Google Drive as {account}; folder \"{folderName}\" ({folderId}) is writable (a test file was written and deleted)", 200);
    }

    /// <summary>The folder the image goes in: the configured one, then each rendered subfolder, found or created.</summary>
    private async Task<string> ResolveFolderAsync(Guid destinationId, Config config, IEnumerable<string> subfolders, AccessSession auth, CancellationToken ct)
    {
        var parent = config.FolderId ?? "root";
        var names = config.FolderId is null ? config.Folder.Split('/', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        foreach (var name in names.Concat(subfolders))
        {
            parent = await EnsureFolderAsync(destinationId, parent, name, auth, ct).ConfigureAwait(false);
        }
        return parent;
    }

    private async Task<string> EnsureFolderAsync(Guid destinationId, string parentId, string name, AccessSession auth, CancellationToken ct)
    {
        var key = $"{destinationId:N}|{parentId}|{name}";
        if (_folders.TryGetValue(key, out var cached))
        {
            return cached;
        }
        // One lookup-or-create per folder in this process, so concurrent deliveries of a session make one folder.
        var gate = _folderLocks[(int)((uint)StringComparer.Ordinal.GetHashCode(key) % (uint)_folderLocks.Length)];
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_folders.TryGetValue(key, out cached))
            {
                return cached;
            }
            var query = $"name = '{Quote(name)}' and '{Quote(parentId)}' in parents and mimeType = '{FolderType}' and trashed = false";
            var found = await Http.SendAsync(() => Get($"files?q={Uri.EscapeDataString(query)}&fields=files(id,name)&pageSize=10&spaces=drive"), auth, Throttled, ct)
                .ConfigureAwait(false);
            var id = found.IsSuccess ? FirstFileId(found) : throw Fail(found, $"looking up folder \"{name}\"");
            if (id is null)
            {
                var body = JsonSerializer.Serialize(new { name, mimeType = FolderType, parents = new[] { parentId } });
                var created = await Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, new Uri(_api, "files?fields=id,name"))
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                }, auth, Throttled, ct).ConfigureAwait(false);
                id = created.IsSuccess ? Property(created, "id") : throw Fail(created, $"creating folder \"{name}\"");
            }
            if (_folders.Count >= MaxCachedFolders)
            {
                // Old sessions' folders are looked up again if ever needed; the cache stays small.
                _folders.Clear();
            }
            return _folders[key] = id ?? throw DeliveryStop.Retry($"Google Drive answered without a folder id for \"{name}\"");
        }
        finally
        {
            gate.Release();
        }
    }

    private void Forget(Guid destinationId)
    {
        var prefix = $"{destinationId:N}|";
        foreach (var key in _folders.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)))
        {
            _folders.TryRemove(key, out _);
        }
    }

    private async Task<string?> FindImageAsync(string folderId, Guid imageId, AccessSession auth, CancellationToken ct)
    {
        var query = $"'{Quote(folderId)}' in parents and appProperties has {{ key='{ImageIdProperty}' and value='{imageId}' }} and trashed = false";
        var found = await Http.SendAsync(() => Get($"files?q={Uri.EscapeDataString(query)}&fields=files(id,name,size)&pageSize=10&spaces=drive"), auth, Throttled, ct)
            .ConfigureAwait(false);
        return found.IsSuccess ? FirstFileId(found) : throw Fail(found, "looking for an earlier copy of the image");
    }

    private async Task<ProviderResponse> UploadMultipartAsync(string metadata, DeliveryImage image, AccessSession auth, CancellationToken ct)
    {
        var answer = await Http.SendAsync(() => MultipartRequest(metadata, new ImageContent(image, image.MimeType), image.MimeType), auth, Throttled, ct)
            .ConfigureAwait(false);
        return answer.IsSuccess ? answer : throw Fail(answer, "uploading the image");
    }

    private HttpRequestMessage MultipartRequest(string metadata, HttpContent media, string mediaType)
    {
        media.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        var body = new MultipartContent("related", "apertur-" + Guid.NewGuid().ToString("N"))
        {
            new StringContent(metadata, Encoding.UTF8, "application/json"),
            media,
        };
        return new HttpRequestMessage(HttpMethod.Post, new Uri(_upload, "files?uploadType=multipart&fields=id,name,size")) { Content = body };
    }

    /// <summary>A resumable session (<see cref="RangeUpload"/>): Drive confirms with 308 and <c>Range</c>; 404 or 410 means it expired.</summary>
    private Task<ProviderResponse> UploadResumableAsync(string metadata, DeliveryImage image, AccessSession auth, CancellationToken ct) =>
        RangeUpload.UploadAsync(Http, Throttled, image, _settings.ChunkSizeBytes, new RangeSession(
            StartAsync: token => StartSessionAsync(metadata, image, auth, token),
            ChunkAuth: auth,
            StatusAsync: (session, token) => QueryAsync(session, image.SizeBytes, auth, token),
            AskStatus: answer => answer.Status >= 500,
            Confirmed: answer => answer.Status == 308 ? ConfirmedBytes(answer.Range) : null,
            // The session expired (they last a week) or was lost.
            Expired: answer => answer.Status is 404 or 410,
            Fail: (answer, doing) => Fail(answer, doing)), ct);

    private async Task<Uri> StartSessionAsync(string metadata, DeliveryImage image, AccessSession auth, CancellationToken ct)
    {
        var started = await Http.SendAsync(() =>
        {
            var post = new HttpRequestMessage(HttpMethod.Post, new Uri(_upload, "files?uploadType=resumable&fields=id,name,size"))
            {
                Content = new StringContent(metadata, Encoding.UTF8, "application/json"),
            };
            post.Headers.TryAddWithoutValidation("X-Upload-Content-Type", image.MimeType);
            post.Headers.TryAddWithoutValidation("X-Upload-Content-Length", image.SizeBytes.ToString(CultureInfo.InvariantCulture));
            return post;
        }, auth, Throttled, ct).ConfigureAwait(false);
        if (!started.IsSuccess)
        {
            throw Fail(started, "starting a resumable upload");
        }
        return started.Location is { IsAbsoluteUri: true } location
            ? location
            : throw DeliveryStop.Retry("Google Drive started a resumable upload without a session URI (no Location header)", started);
    }

    /// <summary>Asks the session how many bytes it holds: <c>Content-Range: bytes */size</c>.</summary>
    private Task<ProviderResponse> QueryAsync(Uri session, long size, AccessSession auth, CancellationToken ct) =>
        Http.SendAsync(() =>
        {
            var put = new HttpRequestMessage(HttpMethod.Put, session) { Content = new ByteArrayContent([]) };
            put.Content.Headers.ContentRange = new ContentRangeHeaderValue(size);
            return put;
        }, auth, Throttled, ct);

    /// <summary>308's <c>Range: bytes=0-N</c> means N + 1 bytes are stored; no Range header means none.</summary>
    private static long ConfirmedBytes(string? range)
    {
        if (range is null)
        {
            return 0;
        }
        var dash = range.LastIndexOf('-');
        return dash > 0 && long.TryParse(range[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            ? last + 1
            : throw DeliveryStop.Retry($"Google Drive answered 308 with an unreadable Range header '{range}'");
    }

    private Throttle? Throttled(ProviderResponse answer) => answer.Status switch
    {
        429 => new Throttle("too many requests", answer.RetryAfter),
        403 => Reason(answer) switch
        {
            "userRateLimitExceeded" or "rateLimitExceeded" => new Throttle("rate limit exceeded", answer.RetryAfter),
            "dailyLimitExceeded" or "quotaExceeded" => new Throttle("daily limit exceeded", LongWait: _settings.DailyLimitWait),
            _ => null,
        },
        _ => null,
    };

    private static DeliveryStop Fail(ProviderResponse answer, string doing)
    {
        var message = $"Google Drive answered {Describe(answer)} while {doing}";
        return answer.Status switch
        {
            401 => DeliveryStop.Retry(message + ": the access token was refused even after a refresh", answer),
            403 when Reason(answer) == "storageQuotaExceeded" => DeliveryStop.Reject(message + ": the Drive is full", answer),
            403 => DeliveryStop.Reject(message + ": this account may not write there", answer),
            404 => DeliveryStop.Reject(message + ": the folder was not found (with the drive.file scope Apertur only sees folders it created)", answer),
            400 or 413 => DeliveryStop.Reject(message, answer),
            _ => DeliveryStop.Retry(message, answer),
        };
    }

    private static string Describe(ProviderResponse answer) => ErrorMessage(answer) is { } detail ? $"{answer.StatusText} ({detail})" : answer.StatusText;

    /// <summary>The first <c>error.errors[].reason</c> of a Drive error answer.</summary>
    private static string? Reason(ProviderResponse answer) => ReadError(answer, e =>
        e.TryGetProperty("errors", out var list) && list.ValueKind == JsonValueKind.Array && list.GetArrayLength() > 0
        && list[0].TryGetProperty("reason", out var reason) ? reason.GetString() : null);

    private static string? ErrorMessage(ProviderResponse answer) => ReadError(answer, e =>
        e.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String ? message.GetString() : null);

    private static string? ReadError(ProviderResponse answer, Func<JsonElement, string?> read)
    {
        try
        {
            using var json = JsonDocument.Parse(answer.Body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object ? read(error) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? FirstFileId(ProviderResponse answer)
    {
        using var json = JsonDocument.Parse(answer.Body);
        return json.RootElement.TryGetProperty("files", out var files) && files.ValueKind == JsonValueKind.Array && files.GetArrayLength() > 0
            ? files[0].GetProperty("id").GetString()
            : null;
    }

    private static string? Property(ProviderResponse answer, string name)
    {
        try
        {
            using var json = JsonDocument.Parse(answer.Body);
            return json.RootElement.TryGetProperty(name, out var value) ? value.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Account(ProviderResponse answer)
    {
        using var json = JsonDocument.Parse(answer.Body);
        if (!json.RootElement.TryGetProperty("user", out var user))
        {
            return null;
        }
        var name = user.TryGetProperty("displayName", out var n) ? n.GetString() : null;
        var email = user.TryGetProperty("emailAddress", out var e) ? e.GetString() : null;
        return (name, email) switch
        {
            ({ Length: > 0 }, { Length: > 0 }) => $"{name} ({email})",
            ({ Length: > 0 }, _) => name,
            _ => email,
        };
    }

    private HttpRequestMessage Get(string relative) => new(HttpMethod.Get, new Uri(_api, relative));

    private static HttpRequestMessage WithToken(HttpRequestMessage request, string token)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    /// <summary>A value inside single quotes of a Drive query: backslash and quote escaped.</summary>
    private static string Quote(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal);

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
