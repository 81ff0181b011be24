using Apertur.Server.Hosting;
using Apertur.Server.Keys;
using Apertur.Server.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Polling;

/// <summary>
/// Pull delivery (docs/api.md "Long polling"): list queued images, download one, acknowledge it. Routing and mapping only:
/// <see cref="PolledImages"/> does the work.
/// </summary>
public static class PollingApi
{
    public static IEndpointRouteBuilder MapPollingApi(this IEndpointRouteBuilder app)
    {
        var keyed = app.MapGroup("/api/v1/upload-sessions/{uuid}").RequireApiKey().WithRateLimit(RateLimitPolicies.Api).WithTags("Long polling");
        keyed.MapGet("/poll", PollAsync).WithName("PollImages").WithSummary("Images waiting for acknowledgement, oldest first").Errors(400, 404);
        keyed.MapGet("/images/{imageId}", DownloadAsync).WithName("DownloadPolledImage").WithSummary("A queued image's bytes")
            .Bytes(Sessions.ImageTypes.All).Errors(404, 410);
        keyed.MapPost("/images/{imageId}/ack", AckAsync).WithName("AckImage").WithSummary("Acknowledge an image: it leaves the queue").Errors(404);
        return app;
    }

    private static async Task<Ok<PollList>> PollAsync(string uuid, HttpContext http, PolledImages images, CancellationToken ct) =>
        // Never 204: every SDK needs the "images" array, empty or not.
        TypedResults.Ok(new PollList(await images.WaitingAsync(http.GetCaller().ProjectId, uuid, ct)));

    private static async Task<FileStreamHttpResult> DownloadAsync(string uuid, string imageId, HttpContext http, PolledImages images, CancellationToken ct)
    {
        var (bytes, mimeType) = await images.OpenAsync(http.GetCaller().ProjectId, uuid, imageId, ct);
        // Raw bytes whatever the Accept header says (Ruby sends application/json); never sniffed into something else.
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Stream(bytes, mimeType);
    }

    private static async Task<Ok<AckResult>> AckAsync(string uuid, string imageId, HttpContext http, PolledImages images, CancellationToken ct)
    {
        // The body is never read: none, {}, or an empty application/json body are all the same request; a repeated ack is 200 too.
        await images.AcknowledgeAsync(http.GetCaller().ProjectId, uuid, imageId, ct);
        return TypedResults.Ok(new AckResult("acknowledged"));
    }
}
