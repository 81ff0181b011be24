using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Sessions;
using Apertur.Server.Uploads;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.UploadPage;

/// <summary>What the page shows first. <c>Open</c> may still ask for the session password before the camera buttons.</summary>
public enum UploadPageState
{
    Open,
    Full,
    Expired,
    NotFound,
    /// <summary>The client address opened pages faster than <c>Apertur:RateLimits:UploadPage</c> allows (429, no script).</summary>
    Busy,
}

/// <summary>
/// <c>GET /u/{uuid}</c>: the session read once, rendered as one of its states (open, full, expired, not found) in the
/// visitor's language and colour scheme, with the limits the script enforces before sending a byte.
/// </summary>
public sealed class UploadModel(AperturDb db, TimeProvider time, IOptions<UploadOptions> uploads, UploadPageAssets assets) : PageModel
{
    // Accented text stays as is; <, >, & and quotes are still escaped, so the JSON cannot close its <script> element.
    private static readonly JsonSerializerOptions ConfigJsonOptions = new(JsonSerializerDefaults.Web)
    {
        Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
    };

    public UploadPageAssets Assets => assets;
    public UploadPageState State { get; private set; }
    public string Language { get; private set; } = UploadPageText.English;
    /// <summary><c>light</c> or <c>dark</c> when <c>?colorScheme=</c> asks for one; otherwise (null, rendered <c>auto</c>) the device's preference applies.</summary>
    public string? Theme { get; private set; }
    public bool PasswordProtected { get; private set; }
    public string RemainingText { get; private set; } = "";
    public string AcceptedText { get; private set; } = "";
    /// <summary>The gallery picker's <c>accept</c>: the session's types only (iOS then converts HEIC to JPEG when HEIC is not allowed).</summary>
    public string AcceptAttribute { get; private set; } = "image/*";
    public string ConfigJson { get; private set; } = "{}";

    private IReadOnlyDictionary<string, string> _text = UploadPageText.For(UploadPageText.English);

    public string T(string key) => _text[key];

    public string StateName => State switch
    {
        UploadPageState.Open => PasswordProtected ? "password" : "open",
        UploadPageState.Full => "full",
        UploadPageState.Expired => "expired",
        UploadPageState.Busy => "busy",
        _ => "notFound",
    };

    public async Task<IActionResult> OnGetAsync(string uuid, string? lang, string? colorScheme, CancellationToken ct)
    {
        Language = UploadPageText.Choose(lang, Request.GetTypedHeaders().AcceptLanguage);
        _text = UploadPageText.For(Language);
        Theme = colorScheme?.ToLowerInvariant() switch
        {
            "dark" => "dark",
            "light" => "light",
            _ => null,
        };
        UploadPageHeaders.Apply(Response);
        // Limited per client address before the database is read; the refusal is a page in the visitor's language.
        if (await RateLimitFilter.CheckAsync(HttpContext, RateLimitPolicies.UploadPage) is { Allowed: false } refused)
        {
            State = UploadPageState.Busy;
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = RateLimitFilter.RetryAfterSeconds(HttpContext, refused).ToString(CultureInfo.InvariantCulture);
            return Page();
        }

        var session = Guid.TryParse(uuid, out var id)
            ? await db.Sessions.AsNoTracking().FirstOrDefaultAsync(s => s.Id == id, ct)
            : null;
        if (session is not null && await AllowedDomainsFilter.ForSessionAsync(db, session.Id, ct) is { Length: > 0 } domains)
        {
            UploadPageHeaders.Apply(Response, domains);
        }
        var now = time.GetUtcNow();
        State = session is null ? UploadPageState.NotFound
            : SessionState.StatusOf(session, now) == SessionStatus.Expired ? UploadPageState.Expired
            : SessionState.StatusOf(session, now) == SessionStatus.Completed || session.ImageCount >= session.MaxImages ? UploadPageState.Full
            : UploadPageState.Open;

        PageConfig config;
        if (session is null)
        {
            config = new PageConfig("", "notFound", ApiBase(), Language, _text);
        }
        else
        {
            var limits = UploadLimits.For(session, uploads.Value);
            var remaining = Math.Max(0, session.MaxImages - session.ImageCount);
            PasswordProtected = session.PasswordHash is not null;
            RemainingText = RemainingPhrase(_text, remaining);
            AcceptedText = _text["accepted"]
                .Replace("{types}", string.Join(", ", session.AllowedMimeTypes.Select(TypeLabel)), StringComparison.Ordinal)
                .Replace("{size}", FormatSize(limits.MaxBytes, Language), StringComparison.Ordinal);
            // Browsers that do not know image/heic as a type still recognise the extensions.
            AcceptAttribute = string.Join(",", session.AllowedMimeTypes.Contains(ImageTypes.Heic)
                ? [.. session.AllowedMimeTypes, ".heic", ".heif"]
                : session.AllowedMimeTypes);
            config = new PageConfig(session.Id.ToString(), StateName, ApiBase(), Language, _text)
            {
                PasswordProtected = PasswordProtected,
                MaxImages = session.MaxImages,
                ImagesCount = session.ImageCount,
                AllowedTypes = session.AllowedMimeTypes,
                MaxDimension = limits.MaxDimension,
                MaxPixels = limits.MaxPixels,
                MaxBytes = limits.MaxBytes,
                ExpiresInMs = Math.Max(0, (long)(session.ExpiresAt - now).TotalMilliseconds),
            };
        }
        ConfigJson = JsonSerializer.Serialize(config, ConfigJsonOptions);

        // Not found and expired are real HTTP errors (a crawler or a proxy must not take them for pages); full is a normal state.
        Response.StatusCode = State switch
        {
            UploadPageState.NotFound => StatusCodes.Status404NotFound,
            UploadPageState.Expired => StatusCodes.Status410Gone,
            _ => StatusCodes.Status200OK,
        };
        return Page();
    }

    private string ApiBase() => Request.PathBase + "/api/v1";

    internal static string RemainingPhrase(IReadOnlyDictionary<string, string> text, int remaining) => remaining switch
    {
        0 => text["remainingNone"],
        1 => text["remainingOne"],
        _ => text["remainingMany"].Replace("{n}", remaining.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal),
    };

    internal static string TypeLabel(string mimeType) => mimeType switch
    {
        ImageTypes.Jpeg => "JPEG",
        ImageTypes.Png => "PNG",
        ImageTypes.Webp => "WebP",
        ImageTypes.Heic => "HEIC",
        _ => mimeType,
    };

    /// <summary>Megabytes with at most one decimal, the decimal mark and unit of the page's language (<c>20 MB</c>, <c>1,5 Mo</c>).</summary>
    internal static string FormatSize(long bytes, string language)
    {
        var french = language == "fr";
        var (value, unit) = bytes >= 1024 * 1024 ? (bytes / (1024.0 * 1024), french ? "Mo" : "MB")
            : bytes >= 1024 ? (bytes / 1024.0, french ? "Ko" : "KB")
            : (bytes, french ? "o" : "B");
        var number = Math.Round(value, 1).ToString("0.#", CultureInfo.InvariantCulture);
        return (language == UploadPageText.English ? number : number.Replace('.', ',')) + "\u00a0" + unit;
    }

    /// <summary>What the script needs; the page's state as the server saw it when rendering.</summary>
    public sealed record PageConfig(
        string SessionId,
        string State,
        string ApiBase,
        string Language,
        IReadOnlyDictionary<string, string> Text)
    {
        public bool PasswordProtected { get; init; }
        public int MaxImages { get; init; }
        public int ImagesCount { get; init; }
        public IReadOnlyList<string> AllowedTypes { get; init; } = [];
        public int MaxDimension { get; init; }
        public long MaxPixels { get; init; }
        public long MaxBytes { get; init; }

        /// <summary>Time left measured on the server's clock, so a phone with a wrong clock still closes the page on time.</summary>
        public long ExpiresInMs { get; init; }
    }
}
