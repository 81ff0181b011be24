namespace Apertur.Server.Sessions;

/// <summary>Settings section <c>Apertur:Sessions</c>: defaults and caps for new sessions (docs/api.md "Limits").</summary>
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

    /// <summary>Largest accepted width or height in pixels (default 16384); a session's <c>max_image_dimension</c> may only lower it.</summary>
    public int MaxImageDimension { get; set; } = 16_384;

    /// <summary>Largest accepted width × height (default 100 megapixels): refuses decompression bombs from the header alone.</summary>
    public long MaxPixels { get; set; } = 100_000_000;
}
