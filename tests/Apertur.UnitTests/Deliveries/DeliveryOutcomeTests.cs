using Apertur.Destinations;
using Apertur.Server.Deliveries;
using Microsoft.Extensions.Configuration;
using Shouldly;

namespace Apertur.UnitTests.Deliveries;

public sealed class DeliveryOutcomeTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 12, 0, 0, TimeSpan.Zero);
    private static readonly DeliveryOptions Defaults = new() { Jitter = 0 };

    [Fact]
    public void After_Delivered_SentWithTheRemoteRefAndTheWindowStarted()
    {
        var outcome = DeliveryOutcome.After(Defaults, 0, null, T0, T0.AddSeconds(1), new DeliveryResult.Delivered("https://x/y", 201, "ok"), 0.5);

        outcome.Status.ShouldBe(DeliveryStatus.Sent);
        outcome.Attempts.ShouldBe(1);
        outcome.RemoteRef.ShouldBe("https://x/y");
        outcome.LastStatusCode.ShouldBe(201);
        outcome.LastError.ShouldBeNull();
        outcome.FirstAttemptAt.ShouldBe(T0);
        outcome.AttemptOutcome.ShouldBe("sent");
    }

    [Fact]
    public void After_RetryLater_RetryingAtTheScheduledTimeCountedFromTheEnd()
    {
        var end = T0.AddSeconds(2);
        var outcome = DeliveryOutcome.After(Defaults, 1, T0.AddMinutes(-1), T0, end, new DeliveryResult.RetryLater("Receiver answered 502", StatusCode: 502), 0.5);

        outcome.Status.ShouldBe(DeliveryStatus.Retrying);
        outcome.Attempts.ShouldBe(2);
        outcome.NextAttemptAt.ShouldBe(end + TimeSpan.FromMinutes(5));
        outcome.FirstAttemptAt.ShouldBe(T0.AddMinutes(-1));
        outcome.LastError.ShouldBe("Receiver answered 502");
        outcome.AttemptOutcome.ShouldBe("retry");
    }

    [Fact]
    public void After_RetryLaterPastTheWindow_FailedSayingWhy()
    {
        var first = T0.AddDays(-3).AddHours(1);
        var outcome = DeliveryOutcome.After(Defaults, 12, first, T0, T0, new DeliveryResult.RetryLater("Request failed", Throttled: true), 0.5);

        outcome.Status.ShouldBe(DeliveryStatus.Failed);
        outcome.Attempts.ShouldBe(13);
        outcome.LastError.ShouldBe("Request failed (gave up after 13 attempts: the retry window ended)");
        outcome.AttemptOutcome.ShouldBe("failed");
    }

    [Fact]
    public void After_Rejected_FailedAtOnce_TextsBoundedTo1KB()
    {
        var outcome = DeliveryOutcome.After(Defaults, 0, null, T0, T0, new DeliveryResult.Rejected(new string('e', 5000), 410, new string('s', 3000)), 0.5);

        outcome.Status.ShouldBe(DeliveryStatus.Failed);
        outcome.LastError!.Length.ShouldBe(1024);
        outcome.ResponseSnippet!.Length.ShouldBe(1024);
        outcome.LastStatusCode.ShouldBe(410);
    }

    [Fact]
    public void NoAdapter_RetryingLaterWithoutCountingOrStartingTheWindow()
    {
        var outcome = DeliveryOutcome.NoAdapter(Defaults, 0, null, "box", T0);

        outcome.Status.ShouldBe(DeliveryStatus.Retrying);
        outcome.Attempts.ShouldBe(0);
        outcome.FirstAttemptAt.ShouldBeNull();
        outcome.NextAttemptAt.ShouldBe(T0 + TimeSpan.FromHours(1));
        outcome.IsAttempt.ShouldBeFalse();
        outcome.LastError.ShouldBe("No adapter for box is installed in this version");
    }

    [Fact]
    public void Options_BoundFromSettings_FastScheduleRepeatsItsLastStep()
    {
        var options = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Apertur:Delivery:RetrySchedule:0"] = "00:00:01",
            ["Apertur:Delivery:RetrySchedule:1"] = "00:00:02",
            ["Apertur:Delivery:RetryWindow"] = "00:00:10",
            ["Apertur:Delivery:Jitter"] = "0",
        }).Build().GetSection(DeliveryOptions.Section).Get<DeliveryOptions>()!;

        options.Problems().ShouldBeEmpty();
        options.EffectiveSchedule.ShouldBe([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)]);
        RetrySchedule.Next(options, 5, T0, T0.AddSeconds(7), FailureKind.Transient, null, 0.5).ShouldBe(T0.AddSeconds(9));
        RetrySchedule.Next(options, 6, T0, T0.AddSeconds(9), FailureKind.Transient, null, 0.5).ShouldBeNull();
    }

    [Fact]
    public void Options_LeaseNotLongerThanAnAttempt_Invalid()
    {
        new DeliveryOptions().Problems().ShouldBeEmpty();
        new DeliveryOptions { Lease = TimeSpan.FromSeconds(30) }.Problems().ShouldHaveSingleItem().ShouldStartWith("Apertur:Delivery:Lease must be longer than AttemptTimeout");
        new DeliveryOptions { Concurrency = 0 }.Problems().ShouldHaveSingleItem().ShouldBe("Apertur:Delivery:Concurrency must be 1-1024 (got 0).");
    }

    [Fact]
    public void FailureEmail_ListsEachFailureAndHowToRetry()
    {
        var failures = new[]
        {
            new FailedDelivery(Guid.Parse("0192e5c4-0000-7000-8000-000000000001"), Guid.Parse("0192e5c4-0000-7000-8000-0000000000a1"), "a.jpg",
                Guid.Parse("0192e5c4-0000-7000-8000-0000000000b1"), Guid.Parse("0192e5c4-0000-7000-8000-0000000000c1"), "Odoo", "webhook", 16, "Receiver answered 500", T0),
            new FailedDelivery(Guid.Parse("0192e5c4-0000-7000-8000-000000000002"), Guid.Parse("0192e5c4-0000-7000-8000-0000000000a2"), "b.jpg",
                Guid.Parse("0192e5c4-0000-7000-8000-0000000000b1"), Guid.Parse("0192e5c4-0000-7000-8000-0000000000c2"), null, null, 1, "Destination deleted", T0),
        };

        var (subject, body) = FailureEmail.Compose("Acme", failures, "https://photos.example.com", maxListed: 1);

        subject.ShouldBe("[Apertur] 2 image deliveries failed in project \"Acme\"");
        body.ShouldContain("Delivery 0192e5c4-0000-7000-8000-000000000001");
        body.ShouldContain("Destination: Odoo (webhook, 0192e5c4-0000-7000-8000-0000000000c1)");
        body.ShouldContain("Last error:  Receiver answered 500");
        body.ShouldNotContain("b.jpg");
        body.ShouldContain("... and 1 more (GET https://photos.example.com/api/v1/deliveries?status=failed lists them all).");
        body.ShouldContain("POST https://photos.example.com/api/v1/deliveries/retry-failed");
    }
}
