using Apertur.Server.Hosting;

namespace Apertur.Server.Images;

/// <summary>
/// Settings section <c>Apertur:Images</c>: the bounds of image processing (docs/operations.md "Image processing"). The
/// largest width, height and pixel count an image may have are the upload limits (<c>Apertur:Uploads</c>), checked again
/// from the header before anything is decoded.
/// </summary>
public sealed class ImageProcessingOptions : ISettings
{
    public const string Section = "Apertur:Images";

    /// <summary>Images decoded at once in this process; the others wait their turn. Default: the number of cores.</summary>
    public int MaxConcurrent { get; set; } = Environment.ProcessorCount;

    /// <summary>The longest one image may take; a slower one fails (its decode still holds its place until it ends). Default 30 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The memory one image may need, estimated from its header (8 bytes a pixel: the decoded image and one copy); a larger
    /// one is refused undecoded. The library's own pixel memory is capped at this times <see cref="MaxConcurrent"/>. Default 1 GiB.
    /// </summary>
    public long MaxMemoryBytes { get; set; } = 1L << 30;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (MaxConcurrent < 1)
        {
            problems.Add($"{Section}:{nameof(MaxConcurrent)} must be 1 or more (got {MaxConcurrent}).");
        }
        if (Timeout <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(Timeout)} must be positive (got {Timeout}).");
        }
        if (MaxMemoryBytes < 1024 * 1024)
        {
            problems.Add($"{Section}:{nameof(MaxMemoryBytes)} must be at least 1 MiB (got {MaxMemoryBytes}).");
        }
        return problems;
    }
}
