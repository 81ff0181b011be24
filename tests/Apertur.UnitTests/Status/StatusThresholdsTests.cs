using Apertur.Server.Status;
using Shouldly;

namespace Apertur.UnitTests.Status;

public sealed class StatusThresholdsTests
{
    [Theory]
    [InlineData(0, 0, 0, "operational")]
    [InlineData(4, 0, 0, "operational")]      // too few attempts to judge
    [InlineData(10, 9, 0, "operational")]     // 90 %
    [InlineData(10, 8, 0, "degraded")]        // most get through, but not enough
    [InlineData(5, 1, 0, "degraded")]         // most fail, some get through
    [InlineData(20, 1, 0, "down")]            // nearly nothing gets through
    [InlineData(5, 0, 0, "down")]
    [InlineData(0, 0, 5, "operational")]      // 5 min due: still on time
    [InlineData(0, 0, 6, "degraded")]
    [InlineData(0, 0, 31, "down")]
    [InlineData(10, 10, 31, "down")]          // the worse of the two
    public void Of_RateAndLag_TheWorseState(int attempts, int succeeded, int lagMinutes, string expected) =>
        StatusThresholds.Of(attempts, succeeded, TimeSpan.FromMinutes(lagMinutes)).ShouldBe(expected);
}
