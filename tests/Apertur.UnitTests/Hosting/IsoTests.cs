using Apertur.Server.Hosting;
using Shouldly;

namespace Apertur.UnitTests.Hosting;

public sealed class IsoTests
{
    [Fact]
    public void Format_AlwaysUtcWithMillisAndZ() =>
        Iso.Format(new DateTimeOffset(2026, 4, 18, 14, 34, 56, 789, TimeSpan.FromHours(2))).ShouldBe("2026-04-18T12:34:56.789Z");

    [Theory]
    [InlineData("2026-04-18T12:34:56.789Z")]
    [InlineData("2026-04-18T14:34:56.789+02:00")]
    [InlineData("2026-04-18T12:34:56.789")]
    public void TryParse_RoundTripsWhatIsEmitted(string text)
    {
        Iso.TryParse(text, out var value).ShouldBeTrue();
        Iso.Format(value).ShouldBe("2026-04-18T12:34:56.789Z");
    }

    [Fact]
    public void TryParse_Garbage_IsFalse() => Iso.TryParse("tomorrow", out _).ShouldBeFalse();
}
