using Apertur.Server.EventWebhooks;
using Shouldly;

namespace Apertur.UnitTests.EventWebhooks;

public sealed class EventTopicsTests
{
    [Theory]
    [InlineData("project.upload.completed", "project.upload.completed", true)]
    [InlineData("project.upload.completed", "project.upload.started", false)]
    [InlineData("project.upload.*", "project.upload.started", true)]
    [InlineData("project.upload.*", "project.upload.failed", true)]
    [InlineData("project.upload.*", "project.session.created", false)]
    [InlineData("project.*", "project.session.expired", true)]
    [InlineData("project.*.created", "project.session.created", true)]
    [InlineData("project.*.created", "project.upload.completed", false)]
    [InlineData("*", "project.billing.plan_changed", true)]
    [InlineData("*.expired", "project.session.expired", true)]
    [InlineData("image.uploaded", "project.upload.completed", true)]
    [InlineData("upload.completed", "project.upload.completed", true)]
    [InlineData("image.delivered", "project.upload.completed", true)]
    [InlineData("session.completed", "project.upload.completed", true)]
    [InlineData("project.upload.image.uploaded", "project.upload.completed", true)]
    [InlineData("project.upload.image.delivered", "project.upload.completed", true)]
    [InlineData("image.uploaded", "project.upload.started", false)]
    [InlineData("session.completed", "project.session.expired", false)]
    [InlineData("Project.Upload.Completed", "project.upload.completed", false)]
    public void Matches_ExactAliasAndWildcard(string subscription, string topic, bool expected) =>
        EventTopics.Matches(subscription, topic).ShouldBe(expected);

    [Theory]
    [InlineData("project.session.created", true)]
    [InlineData("project.billing.plan_changed", true)]
    [InlineData("image.delivered", true)]
    [InlineData("project.upload.*", true)]
    [InlineData("*", true)]
    [InlineData("**", true)]
    [InlineData("image.*", false)]
    [InlineData("project.upload", false)]
    [InlineData("webhook.test", false)]
    [InlineData("", false)]
    [InlineData("foo.bar", false)]
    public void IsValidSubscription_CanonicalAliasesAndPatternsThatMatchSomething(string name, bool expected) =>
        EventTopics.IsValidSubscription(name).ShouldBe(expected);

    [Fact]
    public void EveryAlias_MapsOntoACanonicalTopic() =>
        EventTopics.Aliases.Values.ShouldAllBe(t => EventTopics.Canonical.Contains(t));

    [Fact]
    public void Matches_AnyOfSeveral() =>
        EventTopics.Matches(["project.session.created", "image.uploaded"], "project.upload.completed").ShouldBeTrue();
}
