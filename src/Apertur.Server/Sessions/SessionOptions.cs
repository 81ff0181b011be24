namespace Apertur.Server.Sessions;

/// <summary>Settings section <c>Apertur:Sessions</c>: defaults and caps for new sessions (contract decision 10).</summary>
public sealed class UploadSessionOptions
{
    public const string Section = "Apertur:Sessions";

    public int DefaultMaxImages { get; set; } = 10;
    public int MaxImagesCap { get; set; } = 50;
    public TimeSpan DefaultExpiry { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan MaxExpiry { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>Settings section <c>Apertur:Uploads</c>.</summary>
public sealed class UploadOptions
{
    public const string Section = "Apertur:Uploads";

    /// <summary>Largest accepted image in bytes (default 20 MB); a session's <c>max_image_size_mb</c> may only lower it.</summary>
    public long MaxImageBytes { get; set; } = 20L * 1024 * 1024;
}
