using Apertur.Server.Polling;
using Shouldly;

namespace Apertur.UnitTests.Polling;

public sealed class DeliveryStatusRulesTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void LastChangedOf_NothingHappened_IsTheCreationTime() =>
        DeliveryStatusReader.LastChangedOf(Created, Created, null, []).ShouldBe(Created);

    [Fact]
    public void LastChangedOf_SessionChangedAtBeforeCreation_NeverGoesBelowCreation() =>
        DeliveryStatusReader.LastChangedOf(Created, Created.AddHours(-1), null, []).ShouldBe(Created);

    [Fact]
    public void LastChangedOf_TakesTheLatestOfEveryMoment()
    {
        var latest = Created.AddMinutes(7);
        DeliveryStatusReader.LastChangedOf(Created, Created.AddMinutes(1), null, [Created.AddMinutes(3), latest, Created.AddMinutes(5)])
            .ShouldBe(latest);
    }

    [Fact]
    public void LastChangedOf_ExpiredSession_CountsTheExpiryAsAChange()
    {
        var expiredAt = Created.AddHours(1);
        DeliveryStatusReader.LastChangedOf(Created, Created.AddMinutes(1), expiredAt, [Created.AddMinutes(2)]).ShouldBe(expiredAt);
    }

    [Fact]
    public void LastChangedOf_TruncatesToWholeMilliseconds() =>
        DeliveryStatusReader.LastChangedOf(Created, Created.AddTicks(12_345), null, []).ShouldBe(Created.AddMilliseconds(1));

    [Theory]
    [InlineData("2026-11-02T12:00:00.000Z")]
    [InlineData("2026-11-02T14:00:00.000+02:00")]
    [InlineData("2026-11-02T14:00:00.000 02:00")] // a + that arrived unencoded and was decoded to a space
    [InlineData("2026-11-02T07:00:00-05:00")]
    [InlineData("2026-11-02T12:00:00.0004Z")] // sub-millisecond digits are dropped
    [InlineData(" 2026-11-02T12:00:00Z ")]
    public void TryParsePollFrom_EveryFormOfTheSameInstant_ParsesToIt(string text)
    {
        DeliveryStatusPoll.TryParsePollFrom(text, out var value).ShouldBeTrue();
        value.ShouldBe(Created);
        value.Offset.ShouldBe(TimeSpan.Zero);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("2026-13-45T00:00:00Z")]
    [InlineData("12345")]
    [InlineData("2026-11-02T12:00:00Z trailing")]
    public void TryParsePollFrom_NotAnInstant_Fails(string text) =>
        DeliveryStatusPoll.TryParsePollFrom(text, out _).ShouldBeFalse();

    [Fact]
    public void HoldFor_ActiveSessionExpiringSoon_StopsJustAfterTheExpiry() =>
        DeliveryStatusPoll.HoldFor(TimeSpan.FromSeconds(25), Created.AddSeconds(10), "active", Created)
            .ShouldBe(TimeSpan.FromSeconds(10) + TimeSpan.FromMilliseconds(1));

    [Theory]
    [InlineData("active", 3600)]
    [InlineData("completed", 10)]
    [InlineData("expired", -10)]
    public void HoldFor_OtherwiseIsTheConfiguredLimit(string status, int expiresInSeconds) =>
        DeliveryStatusPoll.HoldFor(TimeSpan.FromSeconds(25), Created.AddSeconds(expiresInSeconds), status, Created).ShouldBe(TimeSpan.FromSeconds(25));
}
