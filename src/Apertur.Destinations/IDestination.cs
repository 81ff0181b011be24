using System.Text.Json;

namespace Apertur.Destinations;

/// <summary>
/// A destination adapter: delivers one image to one configured destination and classifies its own failures (only the
/// adapter knows that a given answer is permanent). Adapters are stateless, thread-safe singletons registered by
/// <see cref="Kind"/>. Deliveries are at-least-once, so an adapter must be idempotent: the same image delivered twice
/// lands as the same remote object (deterministic names, overwrite) or carries the same delivery id.
/// </summary>
public interface IDestination
{
    /// <summary>One of <see cref="DestinationKinds"/>.</summary>
    string Kind { get; }

    Task<DeliveryResult> DeliverAsync(DeliveryRequest request, CancellationToken ct);
}

/// <summary>Optional ability: the "test connection" endpoint (<c>POST …/destinations/{id}/test</c>).</summary>
public interface IConnectionTestable
{
    /// <param name="signing">The project's secrets, for adapters whose test sends a signed request (webhooks).</param>
    Task<ConnectionTestResult> TestAsync(DestinationTarget target, ProjectSigning signing, CancellationToken ct);
}

/// <summary>What to deliver, where, and with which identity.</summary>
public sealed record DeliveryRequest(
    Guid DeliveryId,
    int Attempt,
    DeliveryImage Image,
    DestinationTarget Target,
    ProjectSigning Signing);

/// <summary>The image being delivered. The bytes are opened on demand and streamed; never load them whole.</summary>
public sealed record DeliveryImage(
    Guid Id,
    Guid SessionId,
    int Index,
    string Filename,
    string MimeType,
    long SizeBytes,
    IReadOnlyList<string> Tags,
    string? MetadataJson,
    string? Label,
    DateTimeOffset CreatedAt,
    Func<CancellationToken, Task<Stream>> OpenReadAsync,
    Uri? DownloadUrl);

/// <summary>A configured destination: its id, name and config with secrets already decrypted.</summary>
public sealed record DestinationTarget(Guid Id, string Kind, string Name, JsonElement Config);

/// <summary>
/// The project's webhook secrets: <see cref="Current"/> signs everything; <see cref="Previous"/> (for 24 h after a
/// rotation) is added to the Standard Webhooks signature list so receivers can switch over.
/// </summary>
public sealed record ProjectSigning(string Current, string? Previous);

/// <summary>The outcome of one attempt, with what the delivery log shows.</summary>
public abstract record DeliveryResult(int? StatusCode, string? ResponseSnippet)
{
    /// <summary>Delivered; <paramref name="RemoteRef"/> names what was written (URL, object key, file id).</summary>
    public sealed record Delivered(string RemoteRef, int? StatusCode = null, string? ResponseSnippet = null)
        : DeliveryResult(StatusCode, ResponseSnippet);

    /// <summary>
    /// Failed for now; try again later. <paramref name="Throttled"/> for timeouts and 429s. <paramref name="RetryAfter"/> is
    /// a receiver's hint, honoured within bounds; <paramref name="MinimumWait"/> is a wait the destination requires (a cloud
    /// provider's Retry-After, a daily quota): the next attempt is never sooner, only the retry window limits it.
    /// </summary>
    public sealed record RetryLater(string Reason, TimeSpan? RetryAfter = null, bool Throttled = false, int? StatusCode = null, string? ResponseSnippet = null,
        TimeSpan? MinimumWait = null)
        : DeliveryResult(StatusCode, ResponseSnippet);

    /// <summary>Failed for good (HTTP 410, bad credentials, missing bucket): no more attempts.</summary>
    public sealed record Rejected(string Reason, int? StatusCode = null, string? ResponseSnippet = null)
        : DeliveryResult(StatusCode, ResponseSnippet);
}

/// <summary>The answer of a connection test, in words a person can act on.</summary>
public sealed record ConnectionTestResult(bool Success, string Message, int? StatusCode = null);
