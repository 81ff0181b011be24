using System.Net.Http.Headers;
using Apertur.Destinations.OAuth;

namespace Apertur.Destinations.CloudDrives;

/// <summary>What differs between two providers' Content-Range upload sessions (Google Drive resumable, OneDrive upload session).</summary>
/// <param name="StartAsync">Opens a session and answers its URL.</param>
/// <param name="ChunkAuth">The bearer sent with each chunk; null when the session URL is itself the credential (OneDrive).</param>
/// <param name="StatusAsync">Asks the session where it stands.</param>
/// <param name="AskStatus">An answer to a chunk after which the session is asked where it stands (a 5xx).</param>
/// <param name="Confirmed">The offset to go on from when the answer says "more", null otherwise.</param>
/// <param name="Expired">The session is gone (it expired or was cancelled): one new session, from the start.</param>
/// <param name="Fail">The end of the attempt for any other answer, in the provider's words.</param>
internal sealed record RangeSession(
    Func<CancellationToken, Task<Uri>> StartAsync,
    AccessSession? ChunkAuth,
    Func<Uri, CancellationToken, Task<ProviderResponse>> StatusAsync,
    Func<ProviderResponse, bool> AskStatus,
    Func<ProviderResponse, long?> Confirmed,
    Func<ProviderResponse, bool> Expired,
    Func<ProviderResponse, string, Exception> Fail);

/// <summary>
/// The chunked upload Google Drive and OneDrive share: <c>PUT</c> each chunk with <c>Content-Range: bytes from-to/size</c>
/// from the offset the provider last confirmed (read from a pooled buffer by <see cref="ImageChunks"/>), ask the session
/// where it stands after a network failure or a 5xx (three failures in a row at most), start one new session if it is gone.
/// </summary>
internal static class RangeUpload
{
    private const int MaxFailures = 3;

    /// <summary>Uploads the image and answers the provider's final 200/201 (the file), or throws the session's failure.</summary>
    public static async Task<ProviderResponse> UploadAsync(ProviderHttp http, Func<ProviderResponse, Throttle?> throttled, DeliveryImage image,
        int chunkSize, RangeSession session, CancellationToken ct)
    {
        var size = image.SizeBytes;
        await using var chunks = new ImageChunks(image, chunkSize);
        var url = await session.StartAsync(ct).ConfigureAwait(false);
        long offset = 0;
        var restarted = false;
        var failures = 0;
        while (true)
        {
            ProviderResponse answer;
            try
            {
                var data = await chunks.ReadAsync(offset, (int)Math.Min(chunkSize, size - offset), ct).ConfigureAwait(false);
                var from = offset;
                var target = url;
                answer = await http.SendAsync(() =>
                {
                    var put = new HttpRequestMessage(HttpMethod.Put, target) { Content = new ReadOnlyMemoryContent(data) };
                    put.Content.Headers.ContentRange = new ContentRangeHeaderValue(from, from + data.Length - 1, size);
                    return put;
                }, session.ChunkAuth, throttled, ct).ConfigureAwait(false);
            }
            catch (ProviderUnreachableException e) when (!e.Permanent && ++failures <= MaxFailures)
            {
                answer = await session.StatusAsync(url, ct).ConfigureAwait(false);
            }
            if (session.AskStatus(answer) && ++failures <= MaxFailures)
            {
                answer = await session.StatusAsync(url, ct).ConfigureAwait(false);
            }
            if (session.Confirmed(answer) is { } confirmed)
            {
                if (confirmed > offset)
                {
                    failures = 0;
                }
                offset = confirmed;
                continue;
            }
            if (answer.Status is 200 or 201)
            {
                return answer;
            }
            if (session.Expired(answer) && !restarted)
            {
                restarted = true;
                url = await session.StartAsync(ct).ConfigureAwait(false);
                offset = 0;
                continue;
            }
            if (answer.Status >= 500 && failures <= MaxFailures)
            {
                continue;
            }
            throw session.Fail(answer, $"uploading bytes {offset}- of {size}");
        }
    }
}
