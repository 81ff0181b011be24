using System.Text.RegularExpressions;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;

namespace Apertur.Server.Uploads;

/// <summary>The cheap per-request checks, made before a byte of the body is read (docs/api.md "Uploads", "Session states").</summary>
public static partial class UploadChecks
{
    public const string DefaultSource = "camera";

    /// <summary>
    /// Why the session takes no upload (410 expired or deleted, 422 full or completed), or null when it is open. A deleted
    /// session answers as an expired one (same status and code), with its own message.
    /// </summary>
    public static ApiException? Closed(Session session, DateTimeOffset now) => SessionState.StatusOf(session, now) switch
    {
        _ when session.DeletedAt is not null => new ApiException(410, "SESSION_EXPIRED", "This upload session was deleted."),
        SessionStatus.Expired => new ApiException(410, "SESSION_EXPIRED", "This upload session has expired."),
        SessionStatus.Completed => new ApiException(422, "SESSION_FULL", "This upload session is complete and accepts no more images."),
        _ when session.ImageCount >= session.MaxImages => new ApiException(422, "SESSION_FULL", $"This upload session already has its {session.MaxImages} images."),
        _ => null,
    };

    /// <summary>403 when the session has a password and the <c>x-session-password</c> header is missing or wrong.</summary>
    public static void RequirePassword(Session session, string? given)
    {
        if (session.PasswordHash is null)
        {
            return;
        }
        if (string.IsNullOrEmpty(given))
        {
            throw ApiException.Forbidden("This session is password protected: send the password in the x-session-password header.", "SESSION_PASSWORD_REQUIRED");
        }
        if (!SessionPasswords.Verify(given, session.PasswordHash))
        {
            throw ApiException.Forbidden("The session password is wrong.", "SESSION_PASSWORD_INVALID");
        }
    }

    /// <summary>docs/api.md "Uploads": 1–32 characters of <c>[a-z0-9_-]</c>; absent means <c>camera</c>.</summary>
    public static string Source(string? given) =>
        given is null ? DefaultSource
        : SourcePattern().IsMatch(given) ? given
        : throw ApiException.BadRequest("'source' must be 1 to 32 characters of a-z, 0-9, '_' and '-' (for example camera, gallery, sdk).", "INVALID_SOURCE");

    [GeneratedRegex("^[a-z0-9_-]{1,32}\\z")]
    private static partial Regex SourcePattern();
}
