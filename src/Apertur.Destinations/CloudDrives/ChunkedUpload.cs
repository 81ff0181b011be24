namespace Apertur.Destinations.CloudDrives;

/// <summary>What a provider made of one chunk, or of the question where its session stands.</summary>
internal enum ChunkVerdict
{
    /// <summary>Go on from <see cref="ChunkAnswer.Offset"/>, the offset the provider holds.</summary>
    Next,

    /// <summary>The upload is complete: the answer is the file.</summary>
    Done,

    /// <summary>The answer says nothing sure about the chunk (a 5xx, a range the provider refused): ask where the session stands.</summary>
    Unsure,

    /// <summary>The session is gone (it expired or was cancelled): one new session, from the start.</summary>
    Expired,

    /// <summary>Anything else: the end of the attempt.</summary>
    Failed,
}

/// <summary>A provider's answer to a chunk, classified; <see cref="Response"/> is null only for a <see cref="ChunkVerdict.Next"/> that sent nothing.</summary>
internal readonly record struct ChunkAnswer(ChunkVerdict Verdict, ProviderResponse? Response, long Offset = 0);

/// <summary>One provider's upload session, as <see cref="ChunkedUpload"/> drives it: the requests and what their answers mean.</summary>
internal interface IChunkSession
{
    /// <summary>Opens a session, at the start and again after <see cref="ChunkVerdict.Expired"/>.</summary>
    Task StartAsync(CancellationToken ct);

    /// <summary>Whether a request lost on the network can be resumed (false while the session does not exist yet).</summary>
    bool CanResume { get; }

    /// <summary>Sends the chunk that begins at <paramref name="offset"/>.</summary>
    Task<ChunkAnswer> SendAsync(long offset, ReadOnlyMemory<byte> chunk, CancellationToken ct);

    /// <summary>After a lost or unsure answer: where to go on from (asking the session, or the same offset again).</summary>
    Task<ChunkAnswer> ResumeAsync(long offset, CancellationToken ct);

    /// <summary>The end of the attempt for <paramref name="answer"/>, in the provider's words.</summary>
    Exception Fail(ProviderResponse answer, long offset);
}

/// <summary>
/// The chunk loop the three drives share: read each chunk of the image from a pooled buffer (<see cref="ImageChunks"/>)
/// at the offset the provider last confirmed, send it through the provider's <see cref="IChunkSession"/>, resume after a
/// network failure or an unsure answer (three failures in a row at most; progress resets the count), start one new
/// session if it is gone. Throttling and the attempt's deadline are <see cref="ProviderHttp"/>'s, inside each request.
/// </summary>
internal static class ChunkedUpload
{
    private const int MaxFailures = 3;

    /// <summary>Uploads the image and answers the provider's final answer (the file), or throws the session's failure.</summary>
    public static async Task<ProviderResponse> UploadAsync(DeliveryImage image, int chunkSize, IChunkSession session, CancellationToken ct)
    {
        var size = image.SizeBytes;
        await using var chunks = new ImageChunks(image, chunkSize);
        await session.StartAsync(ct).ConfigureAwait(false);
        long offset = 0;
        var restarted = false;
        var failures = 0;
        while (true)
        {
            ChunkAnswer answer;
            try
            {
                var data = await chunks.ReadAsync(offset, (int)Math.Min(chunkSize, size - offset), ct).ConfigureAwait(false);
                answer = await session.SendAsync(offset, data, ct).ConfigureAwait(false);
            }
            catch (ProviderUnreachableException e) when (!e.Permanent && session.CanResume && ++failures <= MaxFailures)
            {
                answer = await session.ResumeAsync(offset, ct).ConfigureAwait(false);
            }
            if (answer.Verdict == ChunkVerdict.Unsure && ++failures <= MaxFailures)
            {
                answer = await session.ResumeAsync(offset, ct).ConfigureAwait(false);
            }
            switch (answer.Verdict)
            {
                case ChunkVerdict.Next:
                    if (answer.Offset > offset)
                    {
                        failures = 0;
                    }
                    offset = answer.Offset;
                    continue;
                case ChunkVerdict.Done:
                    return answer.Response!;
                case ChunkVerdict.Expired when !restarted:
                    restarted = true;
                    await session.StartAsync(ct).ConfigureAwait(false);
                    offset = 0;
                    continue;
                case var _ when answer.Response is { Status: >= 500 } && failures <= MaxFailures:
                    // A server error within the budget (the answer to asking where the session stands, too): the chunk again.
                    continue;
                default:
                    throw session.Fail(answer.Response!, offset);
            }
        }
    }
}
