using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.CloudDrives;
using Apertur.Destinations.OAuth;
using Apertur.Destinations.Paths;

namespace Apertur.Destinations.Dropbox;

/// <summary>Where Dropbox's endpoints are and how uploads are cut (settings <c>Apertur:OAuth:Dropbox</c>).</summary>
/// <param name="ApiBaseUrl">RPC endpoints (<c>https://api.dropboxapi.com/2/</c>).</param>
/// <param name="ContentBaseUrl">Content-upload endpoints (<c>https://content.dropboxapi.com/2/</c>).</param>
/// <param name="ChunkThresholdBytes">Images up to this size (and never above 150 MiB) go in one <c>/files/upload</c>; larger ones through an upload session.</param>
/// <param name="ChunkSizeBytes">Bytes per upload-session request (at most 150 MiB).</param>
public sealed record DropboxSettings(OAuthApp App, Uri ApiBaseUrl, Uri ContentBaseUrl, long ChunkThresholdBytes, int ChunkSizeBytes)
{
    /// <summary>The most one request may carry (<c>/files/upload</c> and each session request).</summary>
    public const long RequestLimit = 150L * 1024 * 1024;
}

/// <summary>
/// The <c>dropbox</c> destination, on the Dropbox API v2 through HttpClient (no client package is served here; the
/// protocol is small and documented). Images land at <c>{root}/{subfolder_template}/{filename_template}</c>, by default
/// <c>/Apps/Apertur/{folder}/{session_id}/{image_index}.{ext}</c> (docs/cloud-drives.md); an app with "App folder" access sets
/// <c>root</c> to <c>/</c>. Writes use <c>mode: overwrite</c>, so a delivery repeated after a crash replaces the same
/// file with the same bytes. Images up to the threshold go in one <c>/files/upload</c>; larger ones through an upload
/// session (start / append_v2 / finish), resumed at Dropbox's <c>correct_offset</c> after a lost answer and renewed once
/// after a 401. <c>too_many_requests</c> / <c>too_many_write_operations</c> (429) honour Retry-After.
/// </summary>
public sealed class DropboxDestination : CloudDriveDestination, IDescribedDestination
{
    public const string DefaultRoot = "/Apps/Apertur";
    public const string DefaultSubfolder = "{folder}/{session_id}";

    private readonly DropboxSettings _settings;
    private readonly Uri _api;
    private readonly Uri _content;

    public DropboxDestination(HttpClient http, TimeProvider time, IOAuthGrantStore grants, DropboxSettings settings, CloudDriveTuning tuning)
        : base(http, time, grants, settings.App, tuning, "Dropbox")
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _api = WithSlash(settings.ApiBaseUrl);
        _content = WithSlash(settings.ContentBaseUrl);
    }

    public override string Kind => DestinationKinds.Dropbox;

    /// <summary>The dropbox kind: its form and validation; its credentials are the OAuth grant, not config.</summary>
    public static DestinationDescriptor Descriptor { get; } = new(DestinationKinds.Dropbox, "Dropbox",
        "Uploads each image to your Dropbox, connected with your Dropbox account.", Validate,
        new([
            new("folder", "Folder", "The {folder} part of /Apps/Apertur/{folder}/{session_id}/.", Placeholder: "photos"),
            new("subfolder_template", "Subfolder template", DestinationFormSpec.TemplateHelp, Placeholder: "{folder}/{session_id}"),
            new("filename_template", "File name template", DestinationFormSpec.TemplateHelp, Placeholder: "{image_index}.{ext}"),
        ]), SecretFields: [])
    {
        OtherSecretNames = ["access_token", "refresh_token", "app_secret"],
        ConnectionTest = true,
        OAuth = true,
    };

    /// <summary>A Dropbox config: <c>root</c>, <c>folder</c> (the <c>{folder}</c> value) and the two templates.</summary>
    internal sealed record Config(string Root, string Folder, CloudPathTemplates Templates);

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
        var root = ConfigText.Optional(config, "root", problems) ?? DefaultRoot;
        if (!root.StartsWith('/'))
        {
            problems.Add($"config.root must be an absolute Dropbox path starting with '/' (got '{root}').");
        }
        else if (root.Replace('\\', '/').Split('/').Any(s => s.Trim() == ".."))
        {
            problems.Add("config.root must not contain '..'.");
        }
        var folder = ConfigText.Optional(config, "folder", problems) ?? "";
        var templates = CloudPathTemplates.Read(config, DefaultSubfolder, problems);
        return problems.Count == 0 ? new Config(root, folder, templates) : null;
    }

    public override async Task<string?> DescribeAccountAsync(string accessToken, CancellationToken ct)
    {
        var answer = await Http.SendAsync(() =>
        {
            var request = Rpc("users/get_current_account", "null");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            return request;
        }, null, Throttled, ct).ConfigureAwait(false);
        return answer.IsSuccess ? Account(answer) : null;
    }

    private protected override async Task<DeliveryResult> DeliverCoreAsync(DeliveryRequest request, AccessSession auth, CancellationToken ct)
    {
        var config = Parse(request.Target.Config, out _)!;
        var image = request.Image;
        var path = PathTemplate.Combine(config.Root, string.Join('/', RenderPath(config.Templates, image, config.Folder)));
        var limit = Math.Min(_settings.ChunkThresholdBytes, DropboxSettings.RequestLimit);
        var done = image.SizeBytes <= limit
            ? await UploadAsync(path, image, auth, ct).ConfigureAwait(false)
            : await UploadSessionAsync(path, image, auth, ct).ConfigureAwait(false);
        var written = done.Field("path_display") ?? path;
        return new DeliveryResult.Delivered($"{written} (id {done.Field("id") ?? "?"})", done.Status, done.Snippet);
    }

    private protected override async Task<ConnectionTestResult> TestCoreAsync(DestinationTarget target, AccessSession auth, CancellationToken ct)
    {
        var config = Parse(target.Config, out _)!;
        var account = await Http.SendAsync(() => Rpc("users/get_current_account", "null"), auth, Throttled, ct).ConfigureAwait(false);
        var who = account.IsSuccess ? Account(account) : throw Fail(account, "reading the account");
        var folder = PathTemplate.Combine(config.Root, string.Join('/', config.Folder.Split('/', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));
        var created = await Http.SendAsync(() => Rpc("files/create_folder_v2", Arg(new { path = folder, autorename = false })), auth, Throttled, ct).ConfigureAwait(false);
        if (!created.IsSuccess && !(created.Status == 409 && Summary(created).StartsWith("path/conflict/folder", StringComparison.Ordinal)))
        {
            return new ConnectionTestResult(false, $"Connected to Dropbox as {who}, but folder {folder} cannot be used: {Describe(created)}", created.Status);
        }
        var probePath = folder.TrimEnd('/') + "/" + ProbeName;
        var probe = ProbeBytes(Time);
        var written = await Http.SendAsync(() => Content("files/upload", Commit(probePath), new ByteArrayContent(probe)), auth, Throttled, ct).ConfigureAwait(false);
        if (!written.IsSuccess)
        {
            return new ConnectionTestResult(false, $"Connected to Dropbox as {who}; folder {folder} exists, but writing a test file failed: {Describe(written)}", written.Status);
        }
        await Http.SendAsync(() => Rpc("files/delete_v2", Arg(new { path = probePath })), auth, Throttled, ct).ConfigureAwait(false);
        return new ConnectionTestResult(true, $"Connected to Dropbox as {who}; folder {folder} is writable (a test file was written and deleted)", 200);
    }

    private async Task<ProviderResponse> UploadAsync(string path, DeliveryImage image, AccessSession auth, CancellationToken ct)
    {
        var answer = await Http.SendAsync(() => Content("files/upload", Commit(path), new ImageContent(image, "application/octet-stream")), auth, Throttled, ct)
            .ConfigureAwait(false);
        return answer.IsSuccess ? answer : throw Fail(answer, $"uploading {path}");
    }

    /// <summary>start (first chunk) → append_v2 … → finish (last chunk and the commit), at the offsets Dropbox confirms (<see cref="ChunkedUpload"/>).</summary>
    private Task<ProviderResponse> UploadSessionAsync(string path, DeliveryImage image, AccessSession auth, CancellationToken ct) =>
        ChunkedUpload.UploadAsync(image, (int)Math.Min(_settings.ChunkSizeBytes, DropboxSettings.RequestLimit), new CursorSession(this, path, image.SizeBytes, auth), ct);

    /// <summary>
    /// Dropbox's cursor-based session: the first chunk opens it (<c>upload_session/start</c>), each next one carries the
    /// cursor (session id and offset) in <c>Dropbox-API-Arg</c>, the last one commits the file (<c>finish</c>). A lost or
    /// unsure chunk is sent again at the same offset: Dropbox answers <c>incorrect_offset</c> with the offset it holds.
    /// </summary>
    private sealed class CursorSession(DropboxDestination dropbox, string path, long size, AccessSession auth) : IChunkSession
    {
        private string? _session;

        public bool CanResume => _session is not null;

        public Task StartAsync(CancellationToken ct)
        {
            // The session opens with the first chunk.
            _session = null;
            return Task.CompletedTask;
        }

        public async Task<ChunkAnswer> SendAsync(long offset, ReadOnlyMemory<byte> chunk, CancellationToken ct)
        {
            var last = _session is not null && offset + chunk.Length == size;
            var (endpoint, arg) = _session is null
                ? ("files/upload_session/start", Arg(new { close = false }))
                : last
                    ? ("files/upload_session/finish", Arg(new { cursor = new { session_id = _session, offset }, commit = CommitInfo(path) }))
                    : ("files/upload_session/append_v2", Arg(new { cursor = new { session_id = _session, offset }, close = false }));
            var answer = await dropbox.Http.SendAsync(() => dropbox.Content(endpoint, arg, new ReadOnlyMemoryContent(chunk)), auth, dropbox.Throttled, ct)
                .ConfigureAwait(false);
            if (answer.IsSuccess)
            {
                if (_session is null)
                {
                    _session = answer.Field("session_id") ?? throw DeliveryStop.Retry("Dropbox started an upload session without a session_id", answer);
                }
                else if (last)
                {
                    return new(ChunkVerdict.Done, answer);
                }
                return new(ChunkVerdict.Next, answer, offset + chunk.Length);
            }
            var summary = Summary(answer);
            if (answer.Status == 409 && _session is not null && CorrectOffset(answer) is { } correct)
            {
                return new(ChunkVerdict.Next, answer, correct);
            }
            if (answer.Status == 409 && summary.Contains("not_found", StringComparison.Ordinal) && !summary.StartsWith("path/", StringComparison.Ordinal)
                && _session is not null)
            {
                // The session expired (they last 7 days) or is unknown.
                return new(ChunkVerdict.Expired, answer);
            }
            return new(answer.Status >= 500 ? ChunkVerdict.Unsure : ChunkVerdict.Failed, answer);
        }

        /// <summary>The bytes may or may not have arrived: sending them again is answered with the offset Dropbox holds.</summary>
        public Task<ChunkAnswer> ResumeAsync(long offset, CancellationToken ct) => Task.FromResult(new ChunkAnswer(ChunkVerdict.Next, null, offset));

        public Exception Fail(ProviderResponse answer, long offset) => DropboxDestination.Fail(answer, $"uploading {path} (bytes {offset}- of {size})");
    }

    private Throttle? Throttled(ProviderResponse answer) => answer.Status == 429
        ? new Throttle(Summary(answer) is { Length: > 0 } summary ? summary.TrimEnd('.', '/') : "too_many_requests", answer.RetryAfter ?? RetryAfterInBody(answer))
        : null;

    private static DeliveryStop Fail(ProviderResponse answer, string doing)
    {
        var message = $"Dropbox answered {Describe(answer)} while {doing}";
        var summary = Summary(answer);
        return answer.Status switch
        {
            401 => DeliveryStop.Retry(message + ": the access token was refused even after a refresh", answer),
            409 when summary.Contains("insufficient_space", StringComparison.Ordinal) => DeliveryStop.Reject(message + ": the Dropbox is full", answer),
            409 when summary.Contains("no_write_permission", StringComparison.Ordinal) => DeliveryStop.Reject(message + ": this account may not write there", answer),
            409 when summary.Contains("conflict", StringComparison.Ordinal) => DeliveryStop.Reject(message + ": something that is not the image's file is in the way", answer),
            409 when summary.Contains("disallowed_name", StringComparison.Ordinal) || summary.Contains("malformed_path", StringComparison.Ordinal)
                => DeliveryStop.Reject(message + ": Dropbox does not accept this path; change the templates", answer),
            400 or 403 => DeliveryStop.Reject(message, answer),
            _ => DeliveryStop.Retry(message, answer),
        };
    }

    private static string Describe(ProviderResponse answer) =>
        Summary(answer) is { Length: > 0 } summary ? $"{answer.StatusText} ({summary})" : answer.Body.Length is > 0 and <= 300 ? $"{answer.StatusText} ({answer.Body.Trim()})" : answer.StatusText;

    /// <summary>The <c>error_summary</c> of an error answer (<c>path/insufficient_space/..</c>), or empty.</summary>
    private static string Summary(ProviderResponse answer)
    {
        try
        {
            using var json = JsonDocument.Parse(answer.Body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error_summary", out var summary)
                ? summary.GetString() ?? ""
                : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }

    /// <summary>The <c>correct_offset</c> of an <c>incorrect_offset</c> error, wherever the error nests it.</summary>
    private static long? CorrectOffset(ProviderResponse answer)
    {
        if (!Summary(answer).Contains("incorrect_offset", StringComparison.Ordinal))
        {
            return null;
        }
        using var json = JsonDocument.Parse(answer.Body);
        return Find(json.RootElement);

        static long? Find(JsonElement element)
        {
            if (element.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == "correct_offset" && property.Value.TryGetInt64(out var offset))
                {
                    return offset;
                }
                if (Find(property.Value) is { } nested)
                {
                    return nested;
                }
            }
            return null;
        }
    }

    private static TimeSpan? RetryAfterInBody(ProviderResponse answer)
    {
        try
        {
            using var json = JsonDocument.Parse(answer.Body);
            return json.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("retry_after", out var seconds) && seconds.TryGetInt32(out var s) ? TimeSpan.FromSeconds(s) : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Account(ProviderResponse answer)
    {
        using var json = JsonDocument.Parse(answer.Body);
        var root = json.RootElement;
        var name = root.TryGetProperty("name", out var n) && n.TryGetProperty("display_name", out var d) ? d.GetString() : null;
        var email = root.TryGetProperty("email", out var e) ? e.GetString() : null;
        return (name, email) switch
        {
            ({ Length: > 0 }, { Length: > 0 }) => $"{name} ({email})",
            ({ Length: > 0 }, _) => name,
            _ => email,
        };
    }

    /// <summary>Overwrite, no rename, no notification: the same image always lands as the same file.</summary>
    private static object CommitInfo(string path) => new { path, mode = "overwrite", autorename = false, mute = true, strict_conflict = false };

    private static string Commit(string path) => Arg(CommitInfo(path));

    /// <summary>JSON for the <c>Dropbox-API-Arg</c> header: System.Text.Json escapes every non-ASCII character, as Dropbox requires.</summary>
    private static string Arg(object value) => JsonSerializer.Serialize(value);

    private HttpRequestMessage Rpc(string endpoint, string json) =>
        new(HttpMethod.Post, new Uri(_api, endpoint)) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    private HttpRequestMessage Content(string endpoint, string arg, HttpContent body)
    {
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_content, endpoint)) { Content = body };
        request.Headers.TryAddWithoutValidation("Dropbox-API-Arg", arg);
        return request;
    }

    private static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
