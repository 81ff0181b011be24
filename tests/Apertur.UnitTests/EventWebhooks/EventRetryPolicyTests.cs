using Apertur.Server.EventWebhooks;
using Shouldly;

namespace Apertur.UnitTests.EventWebhooks;

public sealed class EventRetryPolicyTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly int[] Defaults = [30, 300, 1800, 7200, 21600];

    [Theory]
    [InlineData(1, 30)]
    [InlineData(2, 300)]
    [InlineData(3, 1800)]
    [InlineData(4, 7200)]
    [InlineData(5, 21600)]
    public void Next_DefaultSchedule_WaitsTheNthInterval(int attempts, int seconds) =>
        EventRetryPolicy.Next(5, Defaults, attempts, false, null, Now).ShouldBe(Now.AddSeconds(seconds));

    [Fact]
    public void Next_AfterMaxRetries_IsFailed() => EventRetryPolicy.Next(5, Defaults, 6, false, null, Now).ShouldBeNull();

    [Fact]
    public void Next_ZeroRetries_FailsAfterTheFirstAttempt() => EventRetryPolicy.Next(0, Defaults, 1, false, null, Now).ShouldBeNull();

    [Fact]
    public void Next_MoreRetriesThanIntervals_RepeatsTheLast() =>
        EventRetryPolicy.Next(10, [5, 10], 7, false, null, Now).ShouldBe(Now.AddSeconds(10));

    [Fact]
    public void Next_Permanent_IsFailed() => EventRetryPolicy.Next(5, Defaults, 1, true, null, Now).ShouldBeNull();

    [Theory]
    [InlineData(10, 30)]
    [InlineData(45, 45)]
    [InlineData(60, 60)]
    [InlineData(600, 60)]
    public void Next_RetryAfter_HonouredWithinIntervalAndTwiceIt(int retryAfter, int expected) =>
        EventRetryPolicy.Next(5, Defaults, 1, false, TimeSpan.FromSeconds(retryAfter), Now).ShouldBe(Now.AddSeconds(expected));
}
