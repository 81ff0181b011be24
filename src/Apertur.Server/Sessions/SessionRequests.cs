using System.Text.Json;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;

namespace Apertur.Server.Sessions;

/// <summary>Turns create and PATCH bodies into session settings, applying the tightest of server, key and session limits.</summary>
public static class SessionRequests
{
    public static Session Create(JsonBody body, Caller caller, UploadSessionOptions sessions, UploadOptions uploads, DateTimeOffset now, Guid id)
    {
        var session = new Session
        {
            Id = id,
            ProjectId = caller.ProjectId,
            ApiKeyId = caller.KeyId,
            Env = caller.Env,
            CreatedAt = now,
            LastChangedAt = now,
            ExpiresAt = ResolveExpiry(body, sessions, now) ?? now + sessions.DefaultExpiry,
            MaxImages = Math.Min(ResolveMaxImages(body, sessions) ?? sessions.DefaultMaxImages, caller.Key.MaxImages ?? int.MaxValue),
            AllowedMimeTypes = Intersect(ResolveMimeTypes(body) ?? ImageTypes.All, caller.Key.AllowedMimeTypes),
            MaxImageDimension = Min(ResolveDimension(body), caller.Key.MaxImageDimension),
            MaxImageBytes = ResolveMaxBytes(body, uploads) ?? uploads.MaxImageBytes,
            Tags = ResolveTags(body) ?? [],
            Metadata = ResolveMetadata(body),
            Label = ResolveLabel(body),
            LongPolling = body.Flag("long_polling", "longPolling", "long_polling_enabled") ?? caller.Key.LongPollingEnabled,
        };
        if (ResolvePassword(body, out var password) && password is not null)
        {
            session.PasswordHash = SessionPasswords.Hash(password);
        }
        if (session.AllowedMimeTypes.Length == 0)
        {
            throw ApiException.BadRequest("'allowed_mime_types' leaves no type this API key allows.");
        }
        return session;
    }

    /// <summary>Applies a PATCH body. Absent fields are unchanged; <c>password: null</c> removes the password.</summary>
    public static void Patch(Session session, JsonBody body, Caller caller, UploadSessionOptions sessions, UploadOptions uploads, DateTimeOffset now)
    {
        if (ResolveExpiry(body, sessions, now) is { } expiresAt)
        {
            session.ExpiresAt = expiresAt;
        }
        if (ResolveMaxImages(body, sessions) is { } max)
        {
            var effective = Math.Min(max, caller.Key.MaxImages ?? int.MaxValue);
            if (effective < session.ImageCount)
            {
                throw ApiException.BadRequest($"'max_images' cannot be below the {session.ImageCount} images already uploaded.");
            }
            session.MaxImages = effective;
            if (session.Status == SessionStatus.Completed && session.ImageCount < effective)
            {
                session.Status = SessionStatus.Active;
            }
            else if (session.Status == SessionStatus.Active && session.ImageCount >= effective)
            {
                session.Status = SessionStatus.Completed;
            }
        }
        if (ResolveMimeTypes(body) is { } types)
        {
            session.AllowedMimeTypes = Intersect(types, caller.Key.AllowedMimeTypes);
            if (session.AllowedMimeTypes.Length == 0)
            {
                throw ApiException.BadRequest("'allowed_mime_types' leaves no type this API key allows.");
            }
        }
        if (body.Has("max_image_dimension", "maxImageDimension"))
        {
            session.MaxImageDimension = Min(ResolveDimension(body), caller.Key.MaxImageDimension);
        }
        if (ResolveMaxBytes(body, uploads) is { } bytes)
        {
            session.MaxImageBytes = bytes;
        }
        if (ResolveTags(body) is { } tags)
        {
            session.Tags = tags;
        }
        if (body.Has("label"))
        {
            session.Label = ResolveLabel(body);
        }
        if (body.Has("metadata"))
        {
            session.Metadata = ResolveMetadata(body);
        }
        if (body.Flag("long_polling", "longPolling") is { } longPolling)
        {
            session.LongPolling = longPolling;
        }
        if (ResolvePassword(body, out var password))
        {
            session.PasswordHash = password is null ? null : SessionPasswords.Hash(password);
        }
        session.LastChangedAt = now;
    }

    private static DateTimeOffset? ResolveExpiry(JsonBody body, UploadSessionOptions options, DateTimeOffset now)
    {
        var hours = body.Number("expires_in_hours", "expiresInHours");
        var seconds = body.Number("expires_in", "expiresIn");
        var atText = body.Text("expires_at", "expiresAt");
        var given = (hours.HasValue ? 1 : 0) + (seconds.HasValue ? 1 : 0) + (atText is not null ? 1 : 0);
        if (given > 1)
        {
            throw ApiException.BadRequest("Give only one of 'expires_in_hours', 'expires_in' and 'expires_at'.");
        }
        var maxHours = (long)options.MaxExpiry.TotalHours;
        if (hours is { } h)
        {
            return h < 1 || h > maxHours
                ? throw ApiException.BadRequest($"'expires_in_hours' must be between 1 and {maxHours}.")
                : now.AddHours(h);
        }
        if (seconds is { } s)
        {
            return s < 60 || s > (long)options.MaxExpiry.TotalSeconds
                ? throw ApiException.BadRequest($"'expires_in' must be between 60 and {(long)options.MaxExpiry.TotalSeconds} seconds.")
                : now.AddSeconds(s);
        }
        if (atText is not null)
        {
            if (!Iso.TryParse(atText, out var at))
            {
                throw ApiException.BadRequest("'expires_at' must be an ISO-8601 date-time, e.g. 2026-04-18T13:34:56.000Z.");
            }
            if (at <= now)
            {
                throw ApiException.BadRequest("'expires_at' must be in the future.");
            }
            if (at > now + options.MaxExpiry)
            {
                throw ApiException.BadRequest($"'expires_at' may be at most {maxHours} hours from now.");
            }
            return Iso.Millis(at);
        }
        return null;
    }

    private static int? ResolveMaxImages(JsonBody body, UploadSessionOptions options)
    {
        var max = body.Number("max_images", "maxImages");
        if (max is null)
        {
            return null;
        }
        return max < 1 || max > options.MaxImagesCap
            ? throw ApiException.BadRequest($"'max_images' must be between 1 and {options.MaxImagesCap}.")
            : (int)max;
    }

    private static string[]? ResolveMimeTypes(JsonBody body)
    {
        var types = body.TextArray("allowed_mime_types", "allowedMimeTypes");
        if (types is null)
        {
            return null;
        }
        var normalised = types.Select(t => t.Trim().ToLowerInvariant()).Select(t => t == "image/jpg" ? ImageTypes.Jpeg : t).Distinct().ToArray();
        var unknown = normalised.Where(t => !ImageTypes.All.Contains(t)).ToArray();
        if (unknown.Length > 0 || normalised.Length == 0)
        {
            throw ApiException.BadRequest($"'allowed_mime_types' must be a non-empty subset of {string.Join(", ", ImageTypes.All)}.");
        }
        return normalised;
    }

    private static int? ResolveDimension(JsonBody body)
    {
        var dimension = body.Number("max_image_dimension", "maxImageDimension");
        return dimension is null ? null
            : dimension < 1 || dimension > 100_000 ? throw ApiException.BadRequest("'max_image_dimension' must be a positive number of pixels.")
            : (int)dimension;
    }

    private static long? ResolveMaxBytes(JsonBody body, UploadOptions uploads)
    {
        var mb = body.Number("max_image_size_mb", "maxImageSizeMb");
        if (mb is null)
        {
            return null;
        }
        return mb < 1 ? throw ApiException.BadRequest("'max_image_size_mb' must be at least 1.") : Math.Min(mb.Value * 1024 * 1024, uploads.MaxImageBytes);
    }

    private static string[]? ResolveTags(JsonBody body)
    {
        if (body.Element("tags") is not { } tags)
        {
            return null;
        }
        string[] result = tags.ValueKind switch
        {
            JsonValueKind.Array => tags.EnumerateArray()
                .Select(t => t.ValueKind == JsonValueKind.String ? t.GetString()! : throw ApiException.BadRequest("'tags' must be an array of strings."))
                .ToArray(),
            // The old help page showed tags as an object: store it as "key:value" strings.
            JsonValueKind.Object => tags.EnumerateObject()
                .Select(p => p.Value.ValueKind == JsonValueKind.String ? $"{p.Name}:{p.Value.GetString()}" : $"{p.Name}:{p.Value.GetRawText()}")
                .ToArray(),
            _ => throw ApiException.BadRequest("'tags' must be an array of strings."),
        };
        if (result.Length > 50 || result.Any(t => t.Length > 200))
        {
            throw ApiException.BadRequest("'tags' may hold at most 50 tags of at most 200 characters.");
        }
        return result;
    }

    private static string? ResolveMetadata(JsonBody body)
    {
        if (body.Element("metadata") is not { } metadata)
        {
            return null;
        }
        if (metadata.ValueKind != JsonValueKind.Object)
        {
            throw ApiException.BadRequest("'metadata' must be a JSON object.");
        }
        var raw = metadata.GetRawText();
        return raw.Length > 16 * 1024 ? throw ApiException.BadRequest("'metadata' may be at most 16 KB.") : raw;
    }

    private static string? ResolveLabel(JsonBody body)
    {
        var label = body.Text("label");
        return label is { Length: > 200 } ? throw ApiException.BadRequest("'label' may be at most 200 characters.") : label;
    }

    /// <summary>True when the body says something about the password; <paramref name="password"/> null means "remove".</summary>
    private static bool ResolvePassword(JsonBody body, out string? password)
    {
        password = null;
        if (!body.Has("password"))
        {
            return false;
        }
        password = body.Text("password");
        if (password is not null && (password.Length < 4 || password.Length > 128))
        {
            throw ApiException.BadRequest("'password' must be 4 to 128 characters.");
        }
        return true;
    }

    private static string[] Intersect(string[] requested, string[] keyAllowed) =>
        keyAllowed.Length == 0 ? requested : requested.Where(keyAllowed.Contains).ToArray();

    private static int? Min(int? a, int? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);
}
