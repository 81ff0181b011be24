using Apertur.Destinations;

namespace Apertur.Server.Deliveries;

/// <summary>What one attempt does to its delivery row, and the attempt-log row it leaves (none when nothing was tried).</summary>
public sealed record DeliveryOutcome(
    string Status,
    int Attempts,
    string? LastError,
    int? LastStatusCode,
    DateTimeOffset NextAttemptAt,
    DateTimeOffset? FirstAttemptAt,
    string? RemoteRef,
    string? AttemptOutcome,
    string? ResponseSnippet)
{
    public const string Sent = "sent";
    public const string Retry = "retry";
    public const string Failed = "failed";
    public const int TextLimit = 1024;

    /// <summary>Whether this outcome adds a row to the attempt log (false for "no adapter installed": nothing was tried).</summary>
    public bool IsAttempt => AttemptOutcome is not null;

    /// <summary>
    /// The delivery's next state after an attempt that started at <paramref name="startedAt"/> and ended at <paramref name="now"/>:
    /// sent on success; failed on a rejection or when the retry window (counted from the first attempt) has no room for
    /// another; otherwise retrying at the time <see cref="RetrySchedule.Next"/> gives.
    /// </summary>
    public static DeliveryOutcome After(DeliveryOptions options, int attemptsBefore, DateTimeOffset? firstAttemptAt, DateTimeOffset startedAt,
        DateTimeOffset now, DeliveryResult result, double random)
    {
        ArgumentNullException.ThrowIfNull(result);
        var attempts = attemptsBefore + 1;
        var first = firstAttemptAt ?? startedAt;
        var snippet = Truncate(result.ResponseSnippet);
        switch (result)
        {
            case DeliveryResult.Delivered sent:
                return new(DeliveryStatus.Sent, attempts, null, sent.StatusCode, now, first, Truncate(sent.RemoteRef), Sent, snippet);
            case DeliveryResult.Rejected rejected:
                return new(DeliveryStatus.Failed, attempts, Truncate(rejected.Reason), rejected.StatusCode, now, first, null, Failed, snippet);
            case DeliveryResult.RetryLater retry:
                var kind = retry.Throttled ? FailureKind.Throttled : FailureKind.Transient;
                var next = RetrySchedule.Next(options, attempts, first, now, kind, retry.RetryAfter, random, retry.MinimumWait);
                return next is { } at
                    ? new(DeliveryStatus.Retrying, attempts, Truncate(retry.Reason), retry.StatusCode, at, first, null, Retry, snippet)
                    : new(DeliveryStatus.Failed, attempts, Truncate($"{retry.Reason} (gave up after {attempts} attempts: the retry window ended)"),
                        retry.StatusCode, now, first, null, Failed, snippet);
            default:
                throw new ArgumentOutOfRangeException(nameof(result), result, "Unknown delivery result.");
        }
    }

    /// <summary>
    /// No adapter for the destination's kind is installed in this version: nothing is tried and nothing is counted. The
    /// delivery stays <c>retrying</c> with an explanation and is looked at again after a long pause, so it is neither lost
    /// (a version that has the adapter delivers it) nor spinning; its retry window has not started.
    /// </summary>
    public static DeliveryOutcome NoAdapter(DeliveryOptions options, int attemptsBefore, DateTimeOffset? firstAttemptAt, string kind, DateTimeOffset now) =>
        new(DeliveryStatus.Retrying, attemptsBefore, $"No adapter for {kind} is installed in this version", null,
            now + options.MissingAdapterRecheck, firstAttemptAt, null, null, null);

    /// <summary>
    /// The image's bytes were deleted (<see cref="Uploads.Image.BytesDeletedAt"/>): nothing is tried or counted, the delivery
    /// ends <c>cancelled</c> with the reason (no failure e-mail: nothing failed).
    /// </summary>
    public static DeliveryOutcome Cancelled(int attemptsBefore, DateTimeOffset? firstAttemptAt, string reason, DateTimeOffset now) =>
        new(DeliveryStatus.Cancelled, attemptsBefore, reason, null, now, firstAttemptAt, null, null, null);

    /// <summary>The <c>last_error</c> of a delivery cancelled because its image's bytes were deleted for <paramref name="bytesDeletedReason"/>.</summary>
    public static string CancelledBecause(string? bytesDeletedReason) => bytesDeletedReason == Uploads.BytesDeleted.Retention
        ? "Cancelled: the image was deleted (retention period ended)"
        : "Cancelled: the image was deleted with its session";

    internal static string? Truncate(string? text) => text is { Length: > TextLimit } ? text[..TextLimit] : text;
}
