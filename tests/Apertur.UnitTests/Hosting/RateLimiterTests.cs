using Apertur.Server.Hosting;
using Apertur.Tests;
using Shouldly;

namespace Apertur.UnitTests.Hosting;

public sealed class RateLimiterTests
{
    [Fact]
    public void Acquire_CountsPerWindowAndPartition()
    {
        var clock = new ManualClock();
        var limiter = new RateLimiter(clock);
        limiter.Acquire("a", 2).Allowed.ShouldBeTrue();
        var second = limiter.Acquire("a", 2);
        second.Allowed.ShouldBeTrue();
        second.Remaining.ShouldBe(0);
        limiter.Acquire("a", 2).Allowed.ShouldBeFalse();
        limiter.Acquire("b", 2).Allowed.ShouldBeTrue();

        clock.Advance(TimeSpan.FromMinutes(1));
        limiter.Acquire("a", 2).Allowed.ShouldBeTrue();
    }

    [Fact]
    public void Acquire_ResetIsTheEndOfTheWindow()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 2, 12, 0, 42, TimeSpan.Zero));
        new RateLimiter(clock).Acquire("a", 5).Reset.ShouldBe(new DateTimeOffset(2026, 11, 2, 12, 1, 0, TimeSpan.Zero));
    }
}
