using ImageMagick;
using ImageMagick.Configuration;

namespace Apertur.Server.Images;

/// <summary>
/// The one place ImageMagick (Magick.NET, docs/architecture.md "Images") is set up, once per process, before any image is
/// read: a security policy that allows only the coders of the accepted types (JPEG, PNG, WebP, HEIC) and no delegates,
/// filters or indirect reads (<c>@file</c>), so no byte sequence can reach SVG, MVG, PostScript, PDF or any other coder
/// even if a reader asked for auto-detection; one thread per image (the process runs images side by side instead);
/// and the process-wide limits (pixel memory, width, height), which the library enforces on its own.
/// </summary>
internal static class ImageLibrary
{
    private const string Policy = """
        <policymap>
          <policy domain="delegate" rights="none" pattern="*"/>
          <policy domain="filter" rights="none" pattern="*"/>
          <policy domain="path" rights="none" pattern="@*"/>
          <policy domain="coder" rights="none" pattern="*"/>
          <policy domain="coder" rights="read|write" pattern="{JPEG,JPG,PNG,WEBP,HEIC,HEIF}"/>
        </policymap>
        """;

    private static readonly Lock Gate = new();
    private static bool _initialized;

    /// <summary>Initialises the library once, then (every time: the last configured server wins in a test process) sets its limits.</summary>
    public static void Configure(long memoryBytes, int maxDimension)
    {
        lock (Gate)
        {
            if (!_initialized)
            {
                var files = ConfigurationFiles.Default;
                files.Policy.Data = Policy;
                MagickNET.Initialize(files);
                _initialized = true;
            }
            ResourceLimits.Thread = 1;
            ResourceLimits.Memory = (ulong)memoryBytes;
            ResourceLimits.Width = (ulong)maxDimension;
            ResourceLimits.Height = (ulong)maxDimension;
        }
    }
}
