using Apertur.Server.Data;
using Apertur.Server.Events;
using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.Sessions;
using Apertur.Server.Storage;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Polling;

/// <summary>Pull delivery (docs/api.md "Long polling"): list queued images, download one, acknowledge it.</summary>
public static class PollingApi
{
    public static IEndpointRouteBuilder MapPollingApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/upload-sessions/{uuid}").AddEndpointFilter<ApiKeyAuth>().WithRateLimit(RateLimitPolicies.Api);
        keyed.MapGet("/poll", PollAsync);
        keyed.MapGet("/images/{imageId}", DownloadAsync);
        keyed.MapPost("/images/{imageId}/ack", AckAsync);
        return app;
    }

    private static async Task<IResult> PollAsync(string uuid, HttpContext http, AperturDb db, CancellationToken ct)
    {
        var session = await SessionState.FindAsync(db, uuid, ct, http.GetCaller().ProjectId);
        if (!session.LongPolling)
        {
            throw ApiException.BadRequest("Long polling is not enabled for this session.", "LONG_POLLING_DISABLED");
        }
        var images = await db.Images.AsNoTracking()
            .Where(i => i.SessionId == session.Id && i.InPollQueue && i.AcknowledgedAt == null)
            .OrderBy(i => i.ImageIndex)
            .Select(i => new { i.Id, i.Filename, i.SizeBytes, i.MimeType, i.Source, i.CreatedAt })
            .ToListAsync(ct);
        // Never 204: every SDK needs the "images" array, empty or not.
        return TypedResults.Ok(new PollList(images
            .Select(i => new PollImage(i.Id.ToString(), i.Filename, i.SizeBytes, i.MimeType, i.Source, Iso.Format(i.CreatedAt)))
            .ToList()));
    }

    private static async Task<IResult> DownloadAsync(string uuid, string imageId, HttpContext http, AperturDb db, IImageStore store, CancellationToken ct)
    {
        var session = await SessionState.FindAsync(db, uuid, ct, http.GetCaller().ProjectId);
        var id = Ids.ParseOrNotFound(imageId, "Image");
        var mimeType = await db.Images.AsNoTracking()
            .Where(i => i.Id == id && i.SessionId == session.Id)
            .Select(i => i.MimeType)
            .FirstOrDefaultAsync(ct) ?? throw ImageNotFound();
        var bytes = await store.OpenReadAsync(id, ct) ?? throw ImageNotFound();
        // Raw bytes whatever the Accept header says (Ruby sends application/json); never sniffed into something else.
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Stream(bytes, mimeType);
    }

    private static async Task<IResult> AckAsync(string uuid, string imageId, HttpContext http, AperturDb db, TimeProvider time,
        SessionEventHub events, CancellationToken ct)
    {
        // The body is never read: none, {}, or an empty application/json body are all the same request.
        var session = await SessionState.FindAsync(db, uuid, ct, http.GetCaller().ProjectId);
        var id = Ids.ParseOrNotFound(imageId, "Image");
        if (!await db.Images.AnyAsync(i => i.Id == id && i.SessionId == session.Id, ct))
        {
            throw ImageNotFound();
        }
        var now = Iso.Millis(time.GetUtcNow());
        var acknowledged = await db.Images.Where(i => i.Id == id && i.AcknowledgedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AcknowledgedAt, now), ct);
        // A repeated ack changes nothing and still answers 200 (docs/api.md "Long polling").
        if (acknowledged > 0)
        {
            // No transaction needed: lastChanged also reads acknowledged_at, so this bump only makes it cheaper to see.
            await db.Sessions.Where(s => s.Id == session.Id && s.LastChangedAt < now)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastChangedAt, now), ct);
            events.Publish(session.Id, SessionEventNames.SessionUpdated, new { sessionId = session.Id, imageId = id });
        }
        return TypedResults.Ok(new AckResult("acknowledged"));
    }

    private static ApiException ImageNotFound() => ApiException.NotFound("Image not found.", "IMAGE_NOT_FOUND");
}
