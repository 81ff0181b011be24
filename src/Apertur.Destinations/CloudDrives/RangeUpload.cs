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
/// The chunk step Google Drive and OneDrive share, driven by <see cref="ChunkedUpload"/>: <c>PUT</c> each chunk to the
/// session URL with <c>Content-Range: bytes from-to/size</c>, ask the session where it stands after a network failure or
/// an answer <see cref="RangeSession.AskStatus"/> names, start a new session when it is gone.
/// </summary>
internal static class RangeUpload
{
    /// <summary>Uploads the image and answers the provider's final 200/201 (the file), or throws the session's failure.</summary>
    public static Task<ProviderResponse> UploadAsync(ProviderHttp http, Func<ProviderResponse, Throttle?> throttled, DeliveryImage image,
        int chunkSize, RangeSession session, CancellationToken ct) =>
        ChunkedUpload.UploadAsync(image, chunkSize, new Steps(http, throttled, image.SizeBytes, session), ct);

    private sealed class Steps(ProviderHttp http, Func<ProviderResponse, Throttle?> throttled, long size, RangeSession session) : IChunkSession
    {
        private Uri? _url;

        public bool CanResume => _url is not null;

        public async Task StartAsync(CancellationToken ct) => _url = await session.StartAsync(ct).ConfigureAwait(false);

        public async Task<ChunkAnswer> SendAsync(long offset, ReadOnlyMemory<byte> chunk, CancellationToken ct)
        {
            var target = _url!;
            var answer = await http.SendAsync(() =>
            {
                var put = new HttpRequestMessage(HttpMethod.Put, target) { Content = new ReadOnlyMemoryContent(chunk) };
                put.Content.Headers.ContentRange = new ContentRangeHeaderValue(offset, offset + chunk.Length - 1, size);
                return put;
            }, session.ChunkAuth, throttled, ct).ConfigureAwait(false);
            return Classify(answer);
        }

        public async Task<ChunkAnswer> ResumeAsync(long offset, CancellationToken ct) =>
            Classify(await session.StatusAsync(_url!, ct).ConfigureAwait(false));

        public Exception Fail(ProviderResponse answer, long offset) => session.Fail(answer, $"uploading bytes {offset}- of {size}");

        private ChunkAnswer Classify(ProviderResponse answer) =>
            session.AskStatus(answer) ? new(ChunkVerdict.Unsure, answer)
            : session.Confirmed(answer) is { } confirmed ? new(ChunkVerdict.Next, answer, confirmed)
            : answer.Status is 200 or 201 ? new(ChunkVerdict.Done, answer)
            : session.Expired(answer) ? new(ChunkVerdict.Expired, answer)
            : new(ChunkVerdict.Failed, answer);
    }
}
