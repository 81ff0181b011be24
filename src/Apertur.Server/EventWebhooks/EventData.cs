using System.Text.Json;
using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Apertur.Server.Uploads;

namespace Apertur.Server.EventWebhooks;

/// <summary>
/// The <c>data</c> object of each topic, snake_case like the rest of the event envelope. Image events use the field
/// names the Odoo plugin reads (id, filename, size_bytes, mime_type, session_id, image_index, tags, metadata).
/// </summary>
public static class EventData
{
    public static object Session(Session s, string status) => new
    {
        id = s.Id.ToString(),
        session_id = s.Id.ToString(),
        status,
        env = s.Env,
        expires_at = Iso.Format(s.ExpiresAt),
        created_at = Iso.Format(s.CreatedAt),
        max_images = s.MaxImages,
        images_count = s.ImageCount,
        tags = s.Tags,
        label = s.Label,
        long_polling = s.LongPolling,
        password_protected = s.PasswordHash is not null,
        metadata = Metadata(s),
    };

    public static object UploadCompleted(Image image, Session s, bool sessionCompleted) => new
    {
        id = image.Id.ToString(),
        image_id = image.Id.ToString(),
        session_id = s.Id.ToString(),
        env = image.Env,
        filename = image.Filename,
        size_bytes = image.SizeBytes,
        mime_type = image.MimeType,
        width = image.Width,
        height = image.Height,
        image_index = image.ImageIndex,
        source = image.Source,
        encrypted = image.IsEncrypted,
        tags = s.Tags,
        metadata = Metadata(s),
        session_completed = sessionCompleted,
        created_at = Iso.Format(image.CreatedAt),
    };

    public static object UploadStarted(Session s, long? contentLength) => new
    {
        session_id = s.Id.ToString(),
        env = s.Env,
        image_index = s.ImageCount,
        content_length = contentLength,
        tags = s.Tags,
    };

    public static object UploadFailed(Session s, int status, string code, string message) => new
    {
        session_id = s.Id.ToString(),
        env = s.Env,
        status,
        code,
        message,
        tags = s.Tags,
    };

    private static JsonElement? Metadata(Session s)
    {
        if (s.Metadata is null)
        {
            return null;
        }
        using var doc = JsonDocument.Parse(s.Metadata);
        return doc.RootElement.Clone();
    }
}
