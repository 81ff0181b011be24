using Apertur.Server.Hosting;

namespace Apertur.Server.Sessions;

/// <summary>Settings section <c>Apertur:Sessions</c>: defaults and caps for new sessions (docs/api.md "Limits").</summary>
public sealed class UploadSessionOptions : ISettings
{
    public const string Section = "Apertur:Sessions";

    public int DefaultMaxImages { get; set; } = 10;
    public int MaxImagesCap { get; set; } = 50;
    public TimeSpan DefaultExpiry { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan MaxExpiry { get; set; } = TimeSpan.FromDays(7);

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (MaxImagesCap < 1)
        {
            problems.Add($"{Section}:{nameof(MaxImagesCap)} must be 1 or more (got {MaxImagesCap}).");
        }
        if (DefaultMaxImages < 1 || DefaultMaxImages > MaxImagesCap)
        {
            problems.Add($"{Section}:{nameof(DefaultMaxImages)} must be 1 to {nameof(MaxImagesCap)} ({MaxImagesCap}) (got {DefaultMaxImages}).");
        }
        if (MaxExpiry <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(MaxExpiry)} must be positive (got {MaxExpiry}).");
        }
        if (DefaultExpiry <= TimeSpan.Zero || DefaultExpiry > MaxExpiry)
        {
            problems.Add($"{Section}:{nameof(DefaultExpiry)} must be positive and at most {nameof(MaxExpiry)} ({MaxExpiry}) (got {DefaultExpiry}).");
        }
        return problems;
    }
}

/// <summary>Settings section <c>Apertur:Uploads</c>.</summary>
public sealed class UploadOptions : ISettings
{
    public const string Section = "Apertur:Uploads";

    /// <summary>Largest accepted image in bytes (default 20 MB); a session's <c>max_image_size_mb</c> may only lower it.</summary>
    public long MaxImageBytes { get; set; } = 20L * 1024 * 1024;

    /// <summary>Largest accepted width or height in pixels (default 16384); a session's <c>max_image_dimension</c> may only lower it.</summary>
    public int MaxImageDimension { get; set; } = 16_384;

    /// <summary>Largest accepted width × height (default 100 megapixels): refuses decompression bombs from the header alone.</summary>
    public long MaxPixels { get; set; } = 100_000_000;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (MaxImageBytes <= 0)
        {
            problems.Add($"{Section}:{nameof(MaxImageBytes)} must be positive (got {MaxImageBytes}).");
        }
        if (MaxImageDimension <= 0)
        {
            problems.Add($"{Section}:{nameof(MaxImageDimension)} must be positive (got {MaxImageDimension}).");
        }
        if (MaxPixels <= 0)
        {
            problems.Add($"{Section}:{nameof(MaxPixels)} must be positive (got {MaxPixels}).");
        }
        return problems;
    }
}
