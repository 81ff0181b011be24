using Apertur.Server.Hosting;
using Apertur.Server.Sessions;
using Apertur.Server.Uploads;
using Shouldly;

namespace Apertur.UnitTests.Uploads;

public sealed class UploadRulesTests
{
    [Theory]
    [InlineData(null, "camera")]
    [InlineData("camera", "camera")]
    [InlineData("sdk", "sdk")]
    [InlineData("my-app_2", "my-app_2")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345")]
    public void Source_AcceptsDecision7(string? given, string expected)
    {
        UploadChecks.Source(given).ShouldBe(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Camera")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    [InlineData("camera\n")]
    [InlineData("my app")]
    [InlineData("café")]
    public void Source_RefusesEverythingElse(string given)
    {
        Should.Throw<ApiException>(() => UploadChecks.Source(given)).Code.ShouldBe("INVALID_SOURCE");
    }

    [Theory]
    [InlineData(0, 0, 0, "stored_only")]
    [InlineData(2, 0, 0, "pending")]
    [InlineData(2, 1, 0, "pending")]
    [InlineData(2, 2, 0, "delivered")]
    [InlineData(2, 0, 2, "failed")]
    [InlineData(2, 1, 1, "partial")]
    public void UploadStatus_SummarisesDeliveries(int total, int delivered, int failed, string expected)
    {
        UploadStatus.Of(total, delivered, failed).ShouldBe(expected);
    }

    [Fact]
    public void Limits_AreTheTightestOfServerAndSession()
    {
        var options = new UploadOptions { MaxImageBytes = 20 * 1024 * 1024, MaxImageDimension = 16384, MaxPixels = 100_000_000 };
        var session = new Session { Env = "live", MaxImageBytes = 1024 * 1024, MaxImageDimension = 4000 };
        var limits = UploadLimits.For(session, options);
        limits.ShouldBe(new UploadLimits(1024 * 1024, 4000, 100_000_000));
        limits.MaxEnvelopeBytes.ShouldBeGreaterThan(1024 * 1024 * 4 / 3);
        UploadLimits.For(new Session { Env = "live", MaxImageBytes = long.MaxValue }, options).ShouldBe(new UploadLimits(20 * 1024 * 1024, 16384, 100_000_000));
    }

    [Fact]
    public void Closed_ExpiredFullAndCompletedSessions()
    {
        var now = new DateTimeOffset(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);
        Session Make(string status, int count, DateTimeOffset expires) =>
            new() { Env = "live", Status = status, ImageCount = count, MaxImages = 2, ExpiresAt = expires };
        UploadChecks.Closed(Make("active", 1, now.AddMinutes(1)), now).ShouldBeNull();
        UploadChecks.Closed(Make("active", 1, now), now)!.Status.ShouldBe(410);
        UploadChecks.Closed(Make("active", 2, now.AddMinutes(1)), now)!.Code.ShouldBe("SESSION_FULL");
        UploadChecks.Closed(Make("completed", 1, now.AddMinutes(1)), now)!.Status.ShouldBe(422);
    }
}
