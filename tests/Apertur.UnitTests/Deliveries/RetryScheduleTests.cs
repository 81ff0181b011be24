using Apertur.Server.Deliveries;
using Shouldly;

namespace Apertur.UnitTests.Deliveries;

public sealed class RetryScheduleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly DeliveryOptions Defaults = new();

    [Fact]
    public void Next_WithoutJitter_FollowsTheDocumentedScheduleThenEverySixHoursUntilTheWindowEnds()
    {
        var waits = new List<TimeSpan>();
        var now = T0;
        for (var attempt = 1; ; attempt++)
        {
            var next = RetrySchedule.Next(Defaults, attempt, T0, now, FailureKind.Transient, null, random: 0.5);
            if (next is null)
            {
                break;
            }
            waits.Add(next.Value - now);
            now = next.Value;
        }
        waits.Take(6).ShouldBe([TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(6), TimeSpan.FromHours(6)]);
        waits.Skip(4).ShouldAllBe(w => w == TimeSpan.FromHours(6));
        (now - T0).ShouldBeLessThanOrEqualTo(TimeSpan.FromDays(3));
        (now - T0 + TimeSpan.FromHours(6)).ShouldBeGreaterThan(TimeSpan.FromDays(3));
    }

    [Theory]
    [InlineData(0.0, 24)]
    [InlineData(0.999999, 36)]
    public void Next_JitterStaysWithinTwentyPercent(double random, int expectedSeconds)
    {
        var next = RetrySchedule.Next(Defaults, 1, T0, T0, FailureKind.Transient, null, random)!.Value;
        (next - T0).TotalSeconds.ShouldBe(expectedSeconds, tolerance: 0.001);
    }

    [Fact]
    public void Next_RetryAfterIsHonouredWithinOneToTwoTimesTheScheduledWait()
    {
        RetrySchedule.Next(Defaults, 1, T0, T0, FailureKind.Transient, TimeSpan.FromSeconds(45), 0.5).ShouldBe(T0.AddSeconds(45));
        RetrySchedule.Next(Defaults, 1, T0, T0, FailureKind.Transient, TimeSpan.FromHours(1), 0.5).ShouldBe(T0.AddSeconds(60));
        RetrySchedule.Next(Defaults, 1, T0, T0, FailureKind.Transient, TimeSpan.FromSeconds(5), 0.5).ShouldBe(T0.AddSeconds(30));
    }

    [Fact]
    public void Next_AfterTimeoutOr429_WaitsAtLeastSixtySeconds() =>
        RetrySchedule.Next(Defaults, 1, T0, T0, FailureKind.Throttled, null, 0.5).ShouldBe(T0.AddSeconds(60));

    [Fact]
    public void Next_MinimumWaitRequiredByTheDestination_IsNotCappedButStaysInsideTheWindow()
    {
        // A provider's Retry-After of 10 min against a 30 s step: honoured whole (a receiver's hint would stop at 60 s).
        RetrySchedule.Next(Defaults, 1, T0, T0, FailureKind.Throttled, TimeSpan.FromMinutes(10), 0.5, TimeSpan.FromMinutes(10)).ShouldBe(T0.AddMinutes(10));
        // Shorter than the schedule or the throttle minimum: those win.
        RetrySchedule.Next(Defaults, 1, T0, T0, FailureKind.Throttled, TimeSpan.FromSeconds(5), 0.5, TimeSpan.FromSeconds(5)).ShouldBe(T0.AddSeconds(60));
        // A daily quota near the end of the 3-day window: no room left, the delivery fails.
        RetrySchedule.Next(Defaults, 9, T0, T0.AddDays(3).AddMinutes(-30), FailureKind.Throttled, null, 0.5, TimeSpan.FromHours(1)).ShouldBeNull();
    }

    [Fact]
    public void Next_Permanent_StopsAtOnce() =>
        RetrySchedule.Next(Defaults, 1, T0, T0, FailureKind.Permanent, null, 0.5).ShouldBeNull();

    [Fact]
    public void Next_ConfiguredSchedule_LastWaitRepeats()
    {
        var fast = new DeliveryOptions { RetrySchedule = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)], Jitter = 0, RetryWindow = TimeSpan.FromSeconds(1) };
        RetrySchedule.Next(fast, 1, T0, T0, FailureKind.Transient, null, 0).ShouldBe(T0.AddMilliseconds(100));
        RetrySchedule.Next(fast, 5, T0, T0.AddMilliseconds(700), FailureKind.Transient, null, 0).ShouldBe(T0.AddMilliseconds(900));
        RetrySchedule.Next(fast, 6, T0, T0.AddMilliseconds(900), FailureKind.Transient, null, 0).ShouldBeNull();
    }
}
