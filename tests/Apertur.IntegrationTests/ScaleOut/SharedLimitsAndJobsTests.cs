using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Hosting;
using Apertur.Tests;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.ScaleOut;

/// <summary>
/// What replicas on one PostgreSQL database count and run together (docs/scale-out.md): rate limits counted in the
/// database, and periodic jobs whose passes never overlap across replicas.
/// </summary>
public sealed class SharedLimitsAndJobsTests
{
    [Fact]
    public async Task TheUploadLimitOfASession_HoldsAcrossReplicas_WhicheverOneTheRefusedUploadReaches()
    {
        // One frozen clock for all three: the test never straddles two windows.
        var clock = new ManualClock();
        await using var a = await TestApp.StartAsync(Databases.Postgres, new Dictionary<string, string?>
        {
            ["Apertur:RateLimits:Upload"] = "3",
            ["Apertur:RateLimits:UploadPerIp"] = "0",
        }, clock);
        await using var b = await a.StartAnotherAsync();
        await using var c = await a.StartAnotherAsync();
        var uuid = (await a.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        var replicas = new[] { a, b, c };

        for (var i = 0; i < 3; i++)
        {
            using var phone = replicas[i].CreateClient();
            using var ok = await phone.UploadAsync(uuid, Fixture.Bytes("small.jpg"));
            ok.StatusCode.ShouldBe(HttpStatusCode.Created);
            ok.Headers.GetValues("X-RateLimit-Remaining").ShouldBe([(2 - i).ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }
        foreach (var replica in replicas)
        {
            using var phone = replica.CreateClient();
            using var refused = await phone.UploadAsync(uuid, Fixture.Bytes("small.jpg"));
            refused.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
            (await refused.ReadErrorCodeAsync()).ShouldBe("RATE_LIMIT");
            refused.Headers.GetValues("X-RateLimit-Limit").ShouldBe(["3"]);
            refused.Headers.GetValues("X-RateLimit-Remaining").ShouldBe(["0"]);
            refused.Headers.GetValues("X-RateLimit-Reset").ShouldBe([clock.GetUtcNow().AddMinutes(1).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            refused.Headers.RetryAfter!.Delta.ShouldBe(TimeSpan.FromSeconds(60));
        }

        // The next window starts afresh everywhere.
        clock.Advance(TimeSpan.FromMinutes(1));
        using var later = b.CreateClient();
        using var again = await later.UploadAsync(uuid, Fixture.Bytes("small.jpg"));
        again.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Fact]
    public async Task APeriodicJobsPass_RunsOnOneReplicaAtATime()
    {
        await using var a = await TestApp.StartAsync(Databases.Postgres);
        await using var b = await a.StartAnotherAsync();
        var onA = a.Services.GetRequiredService<IJobLock>();
        var onB = b.Services.GetRequiredService<IJobLock>();
        var entered = new TaskCompletionSource();
        var release = new TaskCompletionSource();

        var passOnA = onA.TryRunAsync(Jobs.SessionExpirySweep, async _ =>
        {
            entered.SetResult();
            await release.Task;
        }, CancellationToken.None);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(15));

        var ranOnB = false;
        (await onB.TryRunAsync(Jobs.SessionExpirySweep, _ => { ranOnB = true; return Task.CompletedTask; }, CancellationToken.None)).ShouldBeFalse();
        ranOnB.ShouldBeFalse();
        // Another job is not held up by this one.
        (await onB.TryRunAsync(Jobs.FailureEmails, _ => Task.CompletedTask, CancellationToken.None)).ShouldBeTrue();

        release.SetResult();
        (await passOnA.WaitAsync(TimeSpan.FromSeconds(15))).ShouldBeTrue();
        (await onB.TryRunAsync(Jobs.SessionExpirySweep, _ => { ranOnB = true; return Task.CompletedTask; }, CancellationToken.None)).ShouldBeTrue();
        ranOnB.ShouldBeTrue();
    }
}
