using Apertur.Server.Events;
using Shouldly;

namespace Apertur.UnitTests.Events;

public sealed class SseFrameTests
{
    [Fact]
    public void Event_IsEventLineDataLineBlankLine_WithLfOnly() =>
        SseFrame.Event("image:ready", """{"imageId":"x","sizeBytes":3}""")
            .ShouldBe("event: image:ready\ndata: {\"imageId\":\"x\",\"sizeBytes\":3}\n\n");

    [Fact]
    public void Event_MultiLineJson_BecomesOneDataLineWithoutCarriageReturns()
    {
        var frame = SseFrame.Event("session:updated", "{\r\n  \"sessionId\": \"s\",\n  \"note\": \"a\\nb\"\r}");
        frame.ShouldNotContain('\r');
        frame.ShouldBe("event: session:updated\ndata: {    \"sessionId\": \"s\",   \"note\": \"a\\nb\" }\n\n");
        frame.Split('\n').Count(line => line.StartsWith("data: ", StringComparison.Ordinal)).ShouldBe(1);
    }

    [Theory]
    [InlineData("")]
    [InlineData("image:ready\nevent: forged")]
    [InlineData("image:ready\r")]
    public void Event_NameThatIsNotOneLine_IsRefused(string name) =>
        Should.Throw<ArgumentException>(() => SseFrame.Event(name, "{}"));

    [Fact]
    public void Heartbeat_IsACommentTheNodeParserRecognises() =>
        SseFrame.Heartbeat.ShouldBe(": heartbeat\n\n");
}
