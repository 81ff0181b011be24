using Apertur.Server.EventWebhooks;
using Shouldly;

namespace Apertur.UnitTests.EventWebhooks;

public sealed class EventPayloadTests
{
    [Fact]
    public void Serialize_EnvelopeHasEventAndTopic_CompactInFixedOrder()
    {
        var project = Guid.Parse("01990a3c-1111-7222-8333-444455556666");
        var json = EventPayload.Serialize("project.session.created", project, new { id = "s1", tags = new[] { "a:b" } },
            new DateTimeOffset(2026, 11, 2, 12, 0, 0, 123, TimeSpan.Zero));

        json.ShouldBe("""{"event":"project.session.created","topic":"project.session.created","project_id":"01990a3c-1111-7222-8333-444455556666","data":{"id":"s1","tags":["a:b"]},"timestamp":"2026-11-02T12:00:00.123Z"}""");
    }

    [Fact]
    public void NewSecret_Is64LowercaseHex_AndRandom()
    {
        var a = EventWebhookRequests.NewSecret();
        a.ShouldMatch("^[0-9a-f]{64}$");
        EventWebhookRequests.NewSecret().ShouldNotBe(a);
        Convert.FromHexString(a).Length.ShouldBe(32);
    }
}
