using Apertur.Destinations.CloudDrives;
using Apertur.Destinations.Dropbox;
using Apertur.Destinations.GoogleDrive;
using Apertur.Destinations.OAuth;
using Apertur.Destinations.OneDrive;
using Apertur.Server.Hosting;

namespace Apertur.Server.CloudDrives;

/// <summary>
/// Settings section <c>Apertur:OAuth</c>: the OAuth apps the operator registered at Google, Dropbox and Microsoft
/// (docs/cloud-drives.md), every provider URL (so tests and national clouds can point elsewhere), how uploads are cut,
/// and the pacing of the drive adapters. A provider without client id and secret is simply not offered.
/// </summary>
public sealed class OAuthOptions : ISettings
{
    public const string Section = "Apertur:OAuth";

    public GoogleOAuthOptions Google { get; set; } = new();
    public DropboxOAuthOptions Dropbox { get; set; } = new();
    public MicrosoftOAuthOptions Microsoft { get; set; } = new();

    /// <summary>How long a connect link stays usable (default 10 min).</summary>
    public TimeSpan StateLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Access tokens are refreshed when they expire within this margin (default 5 min).</summary>
    public TimeSpan RefreshBefore { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The most one delivery attempt to a drive may take (default 100 s; capped 2 s below Apertur:Delivery:Lease).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>A provider's throttle wait up to this long is waited inside the attempt (default 10 s); longer ones reschedule.</summary>
    public TimeSpan MaxInlineWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Throttle answers in a row one request waits out inside the attempt (default 3).</summary>
    public int InlineRetries { get; set; } = 3;

    /// <summary>First wait of the exponential backoff when a provider throttles without Retry-After (default 1 s).</summary>
    public TimeSpan Backoff { get; set; } = TimeSpan.FromSeconds(1);

    public CloudDriveTuning Tuning => new(AttemptTimeout, RefreshBefore, MaxInlineWait, InlineRetries, Backoff);

    /// <summary>Every problem, in words; empty when the settings are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        void Url(string name, string value)
        {
            if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                problems.Add($"{Section}:{name} must be an absolute http(s) URL (got '{value}').");
            }
        }
        Url("Google:AuthorizeUrl", Google.AuthorizeUrl);
        Url("Google:TokenUrl", Google.TokenUrl);
        Url("Google:ApiBaseUrl", Google.ApiBaseUrl);
        Url("Google:UploadBaseUrl", Google.UploadBaseUrl);
        Url("Dropbox:AuthorizeUrl", Dropbox.AuthorizeUrl);
        Url("Dropbox:TokenUrl", Dropbox.TokenUrl);
        Url("Dropbox:ApiBaseUrl", Dropbox.ApiBaseUrl);
        Url("Dropbox:ContentBaseUrl", Dropbox.ContentBaseUrl);
        Url("Microsoft:AuthorizeUrl", Microsoft.AuthorizeUrl);
        Url("Microsoft:TokenUrl", Microsoft.TokenUrl);
        Url("Microsoft:ApiBaseUrl", Microsoft.ApiBaseUrl);
        if (Google.ChunkSizeBytes <= 0 || Google.ChunkSizeBytes % GoogleDriveSettings.ChunkUnit != 0)
        {
            problems.Add($"{Section}:Google:ChunkSizeBytes must be a positive multiple of 256 KiB ({GoogleDriveSettings.ChunkUnit}).");
        }
        if (Microsoft.ChunkSizeBytes <= 0 || Microsoft.ChunkSizeBytes % OneDriveSettings.ChunkUnit != 0 || Microsoft.ChunkSizeBytes > OneDriveSettings.MaxChunk)
        {
            problems.Add($"{Section}:Microsoft:ChunkSizeBytes must be a positive multiple of 320 KiB ({OneDriveSettings.ChunkUnit}), at most 60 MiB.");
        }
        if (Dropbox.ChunkSizeBytes <= 0 || Dropbox.ChunkSizeBytes > DropboxSettings.RequestLimit)
        {
            problems.Add($"{Section}:Dropbox:ChunkSizeBytes must be positive and at most 150 MiB.");
        }
        if (Google.ChunkThresholdBytes < 0 || Dropbox.ChunkThresholdBytes < 0 || Microsoft.ChunkThresholdBytes < 0)
        {
            problems.Add($"{Section}:*:ChunkThresholdBytes must not be negative.");
        }
        if (Google.DailyLimitWait <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:Google:DailyLimitWait must be positive.");
        }
        if (StateLifetime <= TimeSpan.Zero || AttemptTimeout <= TimeSpan.Zero || RefreshBefore < TimeSpan.Zero || MaxInlineWait < TimeSpan.Zero
            || Backoff <= TimeSpan.Zero || InlineRetries < 0)
        {
            problems.Add($"{Section}: StateLifetime, AttemptTimeout and Backoff must be positive; RefreshBefore, MaxInlineWait and InlineRetries must not be negative.");
        }
        return problems;
    }

    public GoogleDriveSettings GoogleDrive() => new(
        OAuthApp.ForGoogle(Google.ClientId, Google.ClientSecret, new Uri(Google.AuthorizeUrl), new Uri(Google.TokenUrl)),
        new Uri(Google.ApiBaseUrl), new Uri(Google.UploadBaseUrl), Google.ChunkThresholdBytes, Google.ChunkSizeBytes, Google.DailyLimitWait);

    public DropboxSettings DropboxDrive() => new(
        OAuthApp.ForDropbox(Dropbox.ClientId, Dropbox.ClientSecret, new Uri(Dropbox.AuthorizeUrl), new Uri(Dropbox.TokenUrl)),
        new Uri(Dropbox.ApiBaseUrl), new Uri(Dropbox.ContentBaseUrl), Dropbox.ChunkThresholdBytes, Dropbox.ChunkSizeBytes);

    public OneDriveSettings OneDrive() => new(
        OAuthApp.ForMicrosoft(Microsoft.ClientId, Microsoft.ClientSecret, new Uri(Microsoft.AuthorizeUrl), new Uri(Microsoft.TokenUrl)),
        new Uri(Microsoft.ApiBaseUrl), Microsoft.ChunkThresholdBytes, Microsoft.ChunkSizeBytes);
}

/// <summary><c>Apertur:OAuth:Google</c>: a Google Cloud OAuth client of type "Web application".</summary>
public sealed class GoogleOAuthOptions
{
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    public string AuthorizeUrl { get; set; } = "https://accounts.google.com/o/oauth2/v2/auth";
    public string TokenUrl { get; set; } = "https://oauth2.googleapis.com/token";
    public string ApiBaseUrl { get; set; } = "https://www.googleapis.com/drive/v3/";
    public string UploadBaseUrl { get; set; } = "https://www.googleapis.com/upload/drive/v3/";
    /// <summary>Larger images use a resumable session (default 5 MiB, Drive's multipart guidance).</summary>
    public long ChunkThresholdBytes { get; set; } = 5 * 1024 * 1024;
    /// <summary>Resumable chunk size, a multiple of 256 KiB (default 8 MiB).</summary>
    public int ChunkSizeBytes { get; set; } = 8 * 1024 * 1024;
    /// <summary>Wait after Drive's daily limit answer (default 1 h).</summary>
    public TimeSpan DailyLimitWait { get; set; } = TimeSpan.FromHours(1);
}

/// <summary><c>Apertur:OAuth:Dropbox</c>: a Dropbox app (scoped access) with its app key and secret.</summary>
public sealed class DropboxOAuthOptions
{
    /// <summary>The app key.</summary>
    public string? ClientId { get; set; }
    /// <summary>The app secret.</summary>
    public string? ClientSecret { get; set; }
    public string AuthorizeUrl { get; set; } = "https://www.dropbox.com/oauth2/authorize";
    public string TokenUrl { get; set; } = "https://api.dropboxapi.com/oauth2/token";
    public string ApiBaseUrl { get; set; } = "https://api.dropboxapi.com/2/";
    public string ContentBaseUrl { get; set; } = "https://content.dropboxapi.com/2/";
    /// <summary>Larger images use an upload session (default 150 MiB, the /files/upload limit).</summary>
    public long ChunkThresholdBytes { get; set; } = DropboxSettings.RequestLimit;
    /// <summary>Upload-session chunk size (default 8 MiB).</summary>
    public int ChunkSizeBytes { get; set; } = 8 * 1024 * 1024;
}

/// <summary><c>Apertur:OAuth:Microsoft</c>: a Microsoft Entra app registration (personal and work accounts: tenant <c>common</c>).</summary>
public sealed class MicrosoftOAuthOptions
{
    /// <summary>The application (client) id.</summary>
    public string? ClientId { get; set; }
    /// <summary>A client secret's value.</summary>
    public string? ClientSecret { get; set; }
    public string AuthorizeUrl { get; set; } = "https://login.microsoftonline.com/common/oauth2/v2.0/authorize";
    public string TokenUrl { get; set; } = "https://login.microsoftonline.com/common/oauth2/v2.0/token";
    public string ApiBaseUrl { get; set; } = "https://graph.microsoft.com/v1.0/";
    /// <summary>Larger images use an upload session (default 4 MiB).</summary>
    public long ChunkThresholdBytes { get; set; } = 4 * 1024 * 1024;
    /// <summary>Upload-session chunk size, a multiple of 320 KiB (default 10 MiB).</summary>
    public int ChunkSizeBytes { get; set; } = 10 * 1024 * 1024;
}
