using Apertur.Server.Hosting;

namespace Apertur.Server.Uploads;

/// <summary>
/// An image whose bytes were removed from the image store while its row stays (<see cref="Image.BytesDeletedAt"/>): the
/// reasons stored in <c>images.bytes_deleted_reason</c> and the one answer to a download of it (docs/api.md "Errors").
/// </summary>
public static class BytesDeleted
{
    /// <summary>The session was deleted on demand (<c>DELETE /upload-sessions/{uuid}</c> or the dashboard).</summary>
    public const string SessionDeleted = "session_deleted";

    /// <summary>The retention period ran out.</summary>
    public const string Retention = "retention";

    /// <summary>410 <c>IMAGE_DELETED</c>, saying why the bytes are gone.</summary>
    public static ApiException Gone(string? reason) => new(410, "IMAGE_DELETED", reason switch
    {
        Retention => "This image's bytes were deleted: the retention period ended.",
        SessionDeleted => "This image's bytes were deleted: its session was deleted.",
        _ => "This image's bytes were deleted.",
    });

    /// <summary>Throws <see cref="Gone"/> when the image's bytes were deleted.</summary>
    public static void ThrowIfDeleted(DateTimeOffset? deletedAt, string? reason)
    {
        if (deletedAt is not null)
        {
            throw Gone(reason);
        }
    }

    /// <summary>What the dashboard shows in place of the image.</summary>
    public static string Describe(string? reason) => reason == Retention ? "expired" : "deleted";
}
