using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.CloudDrives;
using Apertur.Destinations.OAuth;

namespace Apertur.Destinations.OneDrive;

/// <summary>Where Microsoft Graph is and how uploads are cut (settings <c>Apertur:OAuth:Microsoft</c>).</summary>
/// <param name="ApiBaseUrl">Graph, <c>https://graph.microsoft.com/v1.0/</c>.</param>
/// <param name="ChunkThresholdBytes">Images up to this size go in one <c>PUT …/content</c>; larger ones through an upload session.</param>
/// <param name="ChunkSizeBytes">Bytes per upload-session request: a multiple of 320 KiB, at most 60 MiB, as Graph requires.</param>
public sealed record OneDriveSettings(OAuthApp App, Uri ApiBaseUrl, long ChunkThresholdBytes, int ChunkSizeBytes)
{
    public const int ChunkUnit = 320 * 1024;
    public const int MaxChunk = 60 * 1024 * 1024;
}

/// <summary>
/// The <c>onedrive</c> destination (personal and business), on Microsoft Graph through HttpClient: the few calls are
/// documented and small, and the Graph SDK would bring its own HTTP pipeline past the SSRF guard. Images land below the
/// folder given by <c>folder_id</c> or by path (<c>folder</c>, default <c>/Apertur</c>) in the signed-in user's drive or
/// the drive <c>drive_id</c>; Graph creates missing folders on path-addressed uploads. Conflicts are resolved with
/// <c>replace</c>, so a repeated delivery rewrites the same file. Small images go in one PUT; larger ones through an
/// upload session whose <c>uploadUrl</c> is a capability: it gets no Authorization header (Graph documents a 401 for
/// one). Chunks are multiples of 320 KiB, resumed from <c>nextExpectedRanges</c>; 429/503 (<c>activityLimitReached</c>)
/// honour Retry-After.
/// </summary>
public sealed class OneDriveDestination : CloudDriveDestination, IDescribedDestination
{
    public const string DefaultFolder = "/Apertur";
    public const string DefaultSubfolder = "{session_id}";

    private readonly OneDriveSettings _settings;
    private readonly Uri _api;

    public OneDriveDestination(HttpClient http, TimeProvider time, IOAuthGrantStore grants, OneDriveSettings settings, CloudDriveTuning tuning)
        : base(http, time, grants, settings.App, tuning, "OneDrive")
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _api = settings.ApiBaseUrl.AbsoluteUri.EndsWith('/') ? settings.ApiBaseUrl : new Uri(settings.ApiBaseUrl.AbsoluteUri + "/");
    }

    public override string Kind => DestinationKinds.OneDrive;

    /// <summary>The onedrive kind: its form and validation; its credentials are the OAuth grant, not config.</summary>
    public static DestinationDescriptor Descriptor { get; } = new(DestinationKinds.OneDrive, "OneDrive",
        "Uploads each image to OneDrive or SharePoint, connected with your Microsoft account.", Validate,
        new([
            new("folder", "Folder", "A folder path in the drive, created when missing.", Placeholder: "Apertur"),
            new("drive_id", "Drive ID", "Only for a SharePoint or other drive than your own."),
            new("folder_id", "Folder ID", "Or an existing folder's id; wins over the path."),
            new("subfolder_template", "Subfolder template", DestinationFormSpec.TemplateHelp, Placeholder: "{session_id}"),
            new("filename_template", "File name template", DestinationFormSpec.TemplateHelp, Placeholder: "{image_index}.{ext}"),
        ]), SecretFields: [])
    {
        OtherSecretNames = ["access_token", "refresh_token", "client_secret"],
        ConnectionTest = true,
        OAuth = true,
    };

    /// <summary>A OneDrive config: <c>drive_id</c>, <c>folder_id</c> or <c>folder</c> (a path in the drive), and the two templates.</summary>
    internal sealed record Config(string? DriveId, string? FolderId, string Folder, CloudPathTemplates Templates)
    {
        public string Drive => DriveId is null ? "me/drive" : $"drives/{Uri.EscapeDataString(DriveId)}";

        /// <summary>The Graph address of an item below the folder: <c>me/drive/root:/Apertur/a/b.jpg:</c>.</summary>
        public string Item(IEnumerable<string> below)
        {
            var relative = string.Join('/', below.Select(Segment));
            if (FolderId is not null)
            {
                return relative.Length == 0 ? $"{Drive}/items/{Uri.EscapeDataString(FolderId)}" : $"{Drive}/items/{Uri.EscapeDataString(FolderId)}:/{relative}:";
            }
            var folder = string.Join('/', Folder.Split('/', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Segment));
            var path = string.Join('/', new[] { folder, relative }.Where(p => p.Length > 0));
            return path.Length == 0 ? $"{Drive}/root" : $"{Drive}/root:/{path}:";
        }

        public string Shown(IEnumerable<string> below) => string.Join('/', new[] { FolderId ?? Folder.TrimEnd('/') }.Concat(below));
    }

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
        var driveId = ConfigText.Optional(config, "drive_id", problems);
        var folderId = ConfigText.Optional(config, "folder_id", problems);
        var folder = ConfigText.Optional(config, "folder", problems) ?? DefaultFolder;
        if (folder.Replace('\\', '/').Split('/').Any(s => s.Trim() == ".."))
        {
            problems.Add("config.folder must not contain '..'.");
        }
        var templates = CloudPathTemplates.Read(config, DefaultSubfolder, problems);
        return problems.Count == 0 ? new Config(driveId, folderId, folder, templates) : null;
    }

    public override async Task<string?> DescribeAccountAsync(string accessToken, CancellationToken ct)
    {
        var answer = await Http.SendAsync(() =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_api, "me/drive?$select=id,driveType,owner"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            return request;
        }, null, Throttled, ct).ConfigureAwait(false);
        return answer.IsSuccess ? Account(answer) : null;
    }

    private protected override async Task<DeliveryResult> DeliverCoreAsync(DeliveryRequest request, AccessSession auth, CancellationToken ct)
    {
        var config = Parse(request.Target.Config, out _)!;
        var image = request.Image;
        var path = RenderPath(config.Templates, image, config.FolderId ?? config.Folder.Trim('/'));
        var item = config.Item(path);
        var done = image.SizeBytes <= _settings.ChunkThresholdBytes
            ? await PutAsync(item, image, auth, ct).ConfigureAwait(false)
            : await UploadSessionAsync(item, image, auth, ct).ConfigureAwait(false);
        return new DeliveryResult.Delivered($"{config.Shown(path)} (id {done.Field("id") ?? "?"})", done.Status, done.Snippet);
    }

    private protected override async Task<ConnectionTestResult> TestCoreAsync(DestinationTarget target, AccessSession auth, CancellationToken ct)
    {
        var config = Parse(target.Config, out _)!;
        var drive = await Http.SendAsync(() => Get($"{config.Drive}?$select=id,driveType,owner,quota"), auth, Throttled, ct).ConfigureAwait(false);
        var who = drive.IsSuccess ? Account(drive) : throw Fail(drive, "reading the drive");
        var folder = await Http.SendAsync(() => Get($"{config.Item([])}?$select=id,name,folder"), auth, Throttled, ct).ConfigureAwait(false);
        var shown = config.Shown([]);
        string folderState;
        if (folder.IsSuccess)
        {
            using var json = JsonDocument.Parse(folder.Body);
            if (!json.RootElement.TryGetProperty("folder", out _))
            {
                return new ConnectionTestResult(false, $"Connected to OneDrive as {who}, but {shown} is a file, not a folder");
            }
            folderState = "is writable";
        }
        else if (folder.Status == 404 && config.FolderId is null)
        {
            folderState = "did not exist and was created";
        }
        else
        {
            return new ConnectionTestResult(false, $"Connected to OneDrive as {who}, but folder {shown} cannot be used: {Describe(folder)}", folder.Status);
        }
        var probe = ProbeBytes(Time);
        var written = await Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Put,
            new Uri(_api, $"{config.Item([ProbeName])}/content?@microsoft.graph.conflictBehavior=replace")) { Content = new ByteArrayContent(probe) },
            auth, Throttled, ct).ConfigureAwait(false);
        if (!written.IsSuccess)
        {
            return new ConnectionTestResult(false, $"Connected to OneDrive as {who}; writing a test file into {shown} failed: {Describe(written)}", written.Status);
        }
        if (written.Field("id") is { } id)
        {
            await Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, new Uri(_api, $"{config.Drive}/items/{Uri.EscapeDataString(id)}")), auth, Throttled, ct)
                .ConfigureAwait(false);
        }
        return new ConnectionTestResult(true, $"Connected to OneDrive as {who}; folder {shown} {folderState} (a test file was written and deleted)", 200);
    }

    private async Task<ProviderResponse> PutAsync(string item, DeliveryImage image, AccessSession auth, CancellationToken ct)
    {
        var answer = await Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Put, new Uri(_api, $"{item}/content?@microsoft.graph.conflictBehavior=replace"))
        {
            Content = new ImageContent(image, "application/octet-stream"),
        }, auth, Throttled, ct).ConfigureAwait(false);
        return answer.IsSuccess ? answer : throw Fail(answer, "uploading the image");
    }

    /// <summary>
    /// createUploadSession, then ranges from <c>nextExpectedRanges</c> until Graph answers with the item (<see cref="RangeUpload"/>).
    /// No bearer on the chunks: the upload URL is itself the credential.
    /// </summary>
    private Task<ProviderResponse> UploadSessionAsync(string item, DeliveryImage image, AccessSession auth, CancellationToken ct) =>
        RangeUpload.UploadAsync(Http, Throttled, image, _settings.ChunkSizeBytes, new RangeSession(
            StartAsync: token => CreateSessionAsync(item, auth, token),
            ChunkAuth: null,
            StatusAsync: StatusAsync,
            AskStatus: answer => answer.Status == 416 || answer.Status >= 500,
            Confirmed: answer => answer.Status == 202 || (answer.Status is 200 or 201
                && answer.Body.Contains("\"nextExpectedRanges\"", StringComparison.Ordinal) && !answer.Body.Contains("\"id\"", StringComparison.Ordinal))
                ? NextExpected(answer)
                : null,
            // The session expired or was cancelled.
            Expired: answer => answer.Status == 404,
            Fail: (answer, doing) => Fail(answer, doing)), ct);

    private async Task<Uri> CreateSessionAsync(string item, AccessSession auth, CancellationToken ct)
    {
        const string body = """{"item":{"@microsoft.graph.conflictBehavior":"replace"}}""";
        var answer = await Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Post, new Uri(_api, $"{item}/createUploadSession"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        }, auth, Throttled, ct).ConfigureAwait(false);
        if (!answer.IsSuccess)
        {
            throw Fail(answer, "creating an upload session");
        }
        return answer.Field("uploadUrl") is { } url && Uri.TryCreate(url, UriKind.Absolute, out var upload)
            ? upload
            : throw DeliveryStop.Retry("OneDrive created an upload session without an uploadUrl", answer);
    }

    /// <summary>GET on the upload URL: which ranges the session still expects.</summary>
    private Task<ProviderResponse> StatusAsync(Uri upload, CancellationToken ct) =>
        Http.SendAsync(() => new HttpRequestMessage(HttpMethod.Get, upload), null, Throttled, ct);

    /// <summary>The start of the first of <c>nextExpectedRanges</c> (<c>["327680-"]</c>).</summary>
    private static long NextExpected(ProviderResponse answer)
    {
        using var json = JsonDocument.Parse(answer.Body);
        if (json.RootElement.TryGetProperty("nextExpectedRanges", out var ranges) && ranges.ValueKind == JsonValueKind.Array && ranges.GetArrayLength() > 0)
        {
            var first = ranges[0].GetString() ?? "";
            var dash = first.IndexOf('-', StringComparison.Ordinal);
            if (long.TryParse(dash < 0 ? first : first[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var start))
            {
                return start;
            }
        }
        throw DeliveryStop.Retry("OneDrive's upload session answered without nextExpectedRanges", answer);
    }

    private static Throttle? Throttled(ProviderResponse answer) => answer.Status switch
    {
        429 => new Throttle(Code(answer) ?? "too many requests", answer.RetryAfter),
        503 when answer.RetryAfter is not null => new Throttle(Code(answer) ?? "service unavailable", answer.RetryAfter),
        _ => null,
    };

    private static DeliveryStop Fail(ProviderResponse answer, string doing)
    {
        var message = $"OneDrive answered {Describe(answer)} while {doing}";
        return answer.Status switch
        {
            401 => DeliveryStop.Retry(message + ": the access token was refused even after a refresh", answer),
            403 => DeliveryStop.Reject(message + ": this account may not write there", answer),
            404 => DeliveryStop.Reject(message + ": the folder or drive was not found", answer),
            507 => DeliveryStop.Reject(message + ": the drive is full", answer),
            400 or 413 => DeliveryStop.Reject(message, answer),
            _ => DeliveryStop.Retry(message, answer),
        };
    }

    private static string Describe(ProviderResponse answer) => Code(answer) is { } code ? $"{answer.StatusText} ({code})" : answer.StatusText;

    /// <summary>Graph's <c>error.code</c> (<c>activityLimitReached</c>, <c>itemNotFound</c>, <c>quotaLimitReached</c>…).</summary>
    private static string? Code(ProviderResponse answer)
    {
        try
        {
            using var json = JsonDocument.Parse(answer.Body);
            return json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) ? code.GetString() : null;
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
        var name = root.TryGetProperty("owner", out var owner) && owner.TryGetProperty("user", out var user) && user.TryGetProperty("displayName", out var d)
            ? d.GetString()
            : null;
        var type = root.TryGetProperty("driveType", out var t) ? t.GetString() : null;
        return type is null ? name : $"{name ?? "(unnamed)"} (OneDrive {type})";
    }

    private HttpRequestMessage Get(string relative) => new(HttpMethod.Get, new Uri(_api, relative));

    /// <summary>One path segment: no ':' (OneDrive refuses it in names), escaped for the URL.</summary>
    private static string Segment(string name) => Uri.EscapeDataString(name.Replace(':', '_').TrimEnd('.', ' '));
}
