namespace Apertur.Server.Deliveries;

/// <summary>Why the last attempt failed, as far as the schedule cares.</summary>
public enum FailureKind
{
    /// <summary>Any retryable failure: 5xx, connection refused, a destination's own "try later".</summary>
    Transient,
    /// <summary>A timeout or HTTP 429: wait at least <see cref="DeliveryOptions.MinimumWaitAfterThrottle"/>.</summary>
    Throttled,
    /// <summary>HTTP 410 or a destination's permanent rejection: stop now.</summary>
    Permanent,
}

/// <summary>
/// When to try again, as one pure function: the n-th wait of the schedule (the last repeating), jittered, stretched to
/// a receiver's Retry-After within [wait, 2 × wait], at least the throttle minimum after a timeout or 429, at least a wait
/// the destination requires (a cloud provider's Retry-After or quota reset), and never past the retry window. Null means:
/// give up, the delivery has failed.
/// </summary>
public static class RetrySchedule
{
    /// <param name="failedAttempts">Attempts made so far, all failed (1 after the first attempt).</param>
    /// <param name="firstAttemptAt">When the first attempt was made: the window counts from there.</param>
    /// <param name="random">A number in [0, 1) for the jitter; tests pass a constant.</param>
    /// <param name="minimumWait">A wait the destination requires; unlike <paramref name="retryAfter"/> it is not capped.</param>
    public static DateTimeOffset? Next(DeliveryOptions options, int failedAttempts, DateTimeOffset firstAttemptAt, DateTimeOffset now,
        FailureKind kind, TimeSpan? retryAfter, double random, TimeSpan? minimumWait = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failedAttempts, 1);
        if (kind == FailureKind.Permanent)
        {
            return null;
        }
        var schedule = options.EffectiveSchedule;
        var scheduled = schedule[Math.Min(failedAttempts - 1, schedule.Count - 1)];
        var wait = scheduled * (1 + options.Jitter * (2 * random - 1));
        if (retryAfter is { } asked && asked > wait)
        {
            wait = asked < 2 * scheduled ? asked : 2 * scheduled;
        }
        if (kind == FailureKind.Throttled && wait < options.MinimumWaitAfterThrottle)
        {
            wait = options.MinimumWaitAfterThrottle;
        }
        if (minimumWait is { } required && wait < required)
        {
            wait = required;
        }
        var next = now + wait;
        return next <= firstAttemptAt + options.RetryWindow ? next : null;
    }
}
