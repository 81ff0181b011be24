using Apertur.Destinations.Paths;

namespace Apertur.Destinations.Storage;

/// <summary>
/// The object a storage connection test writes, then deletes: it proves the credentials, the bucket or container and the
/// permission to write, which is what delivering needs (a write-only key cannot list). It goes beside the images, under the
/// template's fixed leading folders, so a policy that only allows writes under <c>uploads/</c> lets it through.
/// </summary>
public static class StorageProbe
{
    public const string Name = ".apertur-connection-test";

    /// <summary>The probe's path for a template: <c>uploads/{session_id}/…</c> → <c>uploads/.apertur-connection-test</c>.</summary>
    public static string PathFor(string template)
    {
        ArgumentNullException.ThrowIfNull(template);
        var fixedPart = template.Split('{')[0];
        var folder = fixedPart.LastIndexOf('/') is var slash and >= 0 ? fixedPart[..slash] : "";
        return PathTemplate.Combine(folder.TrimStart('/'), Name).TrimStart('/');
    }

    /// <summary>The probe's text: who wrote it and when, and that it may go.</summary>
    public static string Text(Guid destinationId, DateTimeOffset now) =>
        $"Apertur connection test of destination {destinationId} at {now.ToString("O", System.Globalization.CultureInfo.InvariantCulture)}. Safe to delete.";
}
