namespace Apertur.Server.EventWebhooks;

/// <summary>
/// When a failed event delivery is tried again, per webhook, as one pure function: after the n-th failed attempt wait
/// <c>retryIntervals[min(n-1, len-1)]</c> while n ≤ <c>maxRetries</c>; a receiver's Retry-After stretches the wait
/// within [interval, 2 × interval]. No jitter: the webhook's intervals are the user's own schedule. Null means failed.
/// </summary>
public static class EventRetryPolicy
{
    /// <param name="attempts">Attempts made so far, the last one failed (1 after the first attempt).</param>
    public static DateTimeOffset? Next(int maxRetries, IReadOnlyList<int> retryIntervals, int attempts, bool permanent, TimeSpan? retryAfter,
        DateTimeOffset now)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempts, 1);
        if (permanent || attempts > maxRetries || retryIntervals.Count == 0)
        {
            return null;
        }
        var interval = TimeSpan.FromSeconds(retryIntervals[Math.Min(attempts - 1, retryIntervals.Count - 1)]);
        var wait = retryAfter is { } asked && asked > interval ? (asked < 2 * interval ? asked : 2 * interval) : interval;
        return now + wait;
    }
}
