using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using System.Text;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.EventWebhooks;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Apertur.Server.Storage;
using Apertur.Tests;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit.Abstractions;

namespace Apertur.IntegrationTests.Uploads;

/// <summary>
/// Uploads while the database is gone: every request is answered (201, or 503 with Retry-After and the JSON error body;
/// never a hang, never a 500), no image answered 201 is lost, and the server works again once the database is back.
/// </summary>
public sealed class DatabaseOutageTests(ITestOutputHelper output)
{
    // A safety net only: a hung upload fails the test instead of blocking it.
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private sealed record Answer(int Status, string? RetryAfter, string Body, Guid? ImageId, int Phase);

    [Fact]
    public async Task PostgresStoppedAndRestarted_UnderAStreamOfUploads_EveryRequestAnswered201Or503AndNoAcceptedImageLost()
    {
        await using var cluster = await PrivatePostgres.StartAsync();
        await using var receiver = await TestReceiver.StartAsync();
        await using var events = await TestReceiver.StartAsync();
        var settings = DeliveryKit.Settings(new Dictionary<string, string?>
        {
            ["Apertur:Sessions:MaxImagesCap"] = "100000",
            ["Apertur:EventWebhooks:PollInterval"] = "00:00:00.050",
        });
        await using var app = await TestApp.StartAsync(Databases.Postgres, settings, postgresAdmin: cluster.AdminConnectionString);
        var destination = await DeliveryKit.WebhookAsync(app, receiver.Url());
        await EventHooks.CreateWebhookAsync(app, $$"""{"url":"{{events.Url()}}","topics":["project.upload.completed"]}""");
        var sessionId = (await app.Client.CreateSessionAsync($$"""{"destination_ids":["{{destination}}"],"max_images":100000}""")).SessionId();

        // Phase 0: database up; 1: stopped; 2: started again. A request belongs to the phase it was sent in.
        var phase = 0;
        var answers = new ConcurrentQueue<Answer>();
        var failures = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var uploaders = Enumerable.Range(0, 3).Select(_ => Task.Run(async () =>
        {
            using var client = app.CreateClient();
            client.Timeout = RequestTimeout;
            var image = Fixture.Bytes("small.jpg");
            while (!stop.IsCancellationRequested)
            {
                var sentIn = Volatile.Read(ref phase);
                try
                {
                    using var response = await client.UploadAsync(sessionId, image, "small.jpg");
                    var body = await response.Content.ReadAsStringAsync();
                    var status = (int)response.StatusCode;
                    Guid? id = status == 201 ? Guid.Parse((await response.ReadJsonAsync()).GetProperty("id").GetString()!) : null;
                    answers.Enqueue(new Answer(status, response.Headers.RetryAfter?.ToString(), body, id, sentIn));
                }
                catch (Exception e)
                {
                    failures.Enqueue($"no answer (phase {sentIn}): {e.GetType().Name}: {e.Message}");
                    return;
                }
            }
        })).ToList();

        // Each step waits for what the previous one must have caused, or stops at the first wrong answer.
        bool Wrong() => !failures.IsEmpty || answers.Any(a => a.Status is not (201 or 503));
        async Task UntilAsync(Func<bool> condition, string what)
        {
            await Wait.UntilAsync(() => Task.FromResult(condition() || Wrong()), TimeSpan.FromMinutes(2), what);
            Wrong().ShouldBeFalse(string.Join(Environment.NewLine, failures.Concat(answers.Where(a => a.Status is not (201 or 503)).Select(a => a.ToString()))
                // What the server logged as a failure: the cause of a 500 is there.
                .Concat(app.Output.Text.Split('\n').Where(l => l.StartsWith("Error ", StringComparison.Ordinal) || l.StartsWith("Critical ", StringComparison.Ordinal)))));
        }
        try
        {
            await UntilAsync(() => answers.Count(a => a.Status == 201) >= 5, "uploads accepted before the stop");
            await cluster.StopServerAsync();
            Volatile.Write(ref phase, 1);
            await UntilAsync(() => answers.Count(a => a.Phase == 1 && a.Status == 503) >= 10, "uploads refused while the database is down");
            await cluster.StartServerAsync();
            Volatile.Write(ref phase, 2);
            await UntilAsync(() => answers.Count(a => a.Phase == 2 && a.Status == 201) >= 5, "uploads accepted after the restart");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(uploaders);
            if (!cluster.IsRunning)
            {
                await cluster.StartServerAsync();
            }
        }

        var all = answers.ToList();
        output.WriteLine(string.Join(", ", all.GroupBy(a => (a.Phase, a.Status)).Select(g => $"phase {g.Key.Phase}: {g.Count()} × {g.Key.Status}")));
        failures.ShouldBeEmpty();
        foreach (var answer in all)
        {
            answer.Status.ShouldBeOneOf([201, 503], answer.Body);
            if (answer.Status == 503)
            {
                answer.RetryAfter.ShouldNotBeNull();
                int.Parse(answer.RetryAfter!, System.Globalization.CultureInfo.InvariantCulture).ShouldBeGreaterThan(0);
                answer.Body.ShouldContain("\"code\":\"DATABASE_UNAVAILABLE\"");
                answer.Body.ShouldContain("\"statusCode\":503");
            }
        }

        // Every image answered 201 has its row and its bytes.
        var accepted = all.Where(a => a.Status == 201).Select(a => a.ImageId!.Value).ToList();
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
            var rows = await db.Images.AsNoTracking().Where(i => i.SessionId == Guid.Parse(sessionId)).Select(i => i.Id).ToListAsync();
            accepted.ShouldBeSubsetOf(rows);
            var store = scope.ServiceProvider.GetRequiredService<IImageStore>();
            foreach (var id in accepted)
            {
                await using var bytes = await store.OpenReadAsync(id, CancellationToken.None);
                bytes.ShouldNotBeNull($"image {id} was answered 201");
            }
        }

        // The workers lived through the outage: an upload after it is delivered and its event sent.
        var after = await DeliveryKit.UploadAsync(app, sessionId);
        await Wait.UntilAsync(async () => (await DeliveryKit.DeliveryOfAsync(app, after)).Status == Server.Deliveries.DeliveryStatus.Sent,
            TimeSpan.FromMinutes(1), "the delivery of an image uploaded after the restart");
        await Wait.UntilAsync(() => Task.FromResult(events.Requests.Any(r => Encoding.UTF8.GetString(r.Body).Contains(after.ToString(), StringComparison.Ordinal))),
            TimeSpan.FromMinutes(1), "the upload.completed event of an image uploaded after the restart");
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task CommitFailsBeforeAnyClaim_EveryQueuedUploadAnswered503AndItsFileRemoved(string database)
    {
        var failing = new FailingTransactions();
        var settings = new Dictionary<string, string?> { ["Apertur:RateLimits:Upload"] = "0", ["Apertur:RateLimits:UploadPerIp"] = "0" };
        await using var app = await TestApp.StartAsync(database, settings,
            services: s => s.ConfigureDbContext<AperturDb>(o => o.AddInterceptors(failing)));
        var sessionId = (await app.Client.CreateSessionAsync("""{"max_images":50}""")).SessionId();
        var image = Fixture.Bytes("small.jpg");

        failing.Armed = true;
        var uploads = Enumerable.Range(0, 8).Select(async _ =>
        {
            using var client = app.CreateClient();
            client.Timeout = RequestTimeout;
            using var response = await client.UploadAsync(sessionId, image, "small.jpg");
            return (Status: response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta, Code: await response.ReadErrorCodeAsync());
        }).ToList();
        var answers = await Task.WhenAll(uploads);
        failing.Armed = false;

        foreach (var answer in answers)
        {
            answer.Status.ShouldBe(HttpStatusCode.ServiceUnavailable);
            answer.RetryAfter.ShouldNotBeNull();
            answer.Code.ShouldBe("DATABASE_UNAVAILABLE");
        }
        var images = Path.Combine(app.DataDirectory, "images");
        (Directory.Exists(images) ? Directory.GetFiles(images, "*", SearchOption.AllDirectories) : []).ShouldBeEmpty("no COMMIT was sent: the files go");

        // The committer survived: the next upload is accepted.
        using var ok = await app.Client.UploadAsync(sessionId, image, "small.jpg");
        ok.StatusCode.ShouldBe(HttpStatusCode.Created);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task CommitFails_S3Store_Answered503AndTheObjectRemovedFromTheBucket(string database)
    {
        using var s3 = new S3Server();
        var bucket = await s3.NewBucketAsync();
        var failing = new FailingTransactions();
        await using var app = await TestApp.StartAsync(database, Storage.S3ImageStoreTests.S3Settings(bucket),
            services: s => s.ConfigureDbContext<AperturDb>(o => o.AddInterceptors(failing)));
        var sessionId = (await app.Client.CreateSessionAsync("""{"max_images":50}""")).SessionId();
        var image = Fixture.Bytes("small.jpg");

        failing.Armed = true;
        using (var failed = await app.Client.UploadAsync(sessionId, image, "small.jpg"))
        {
            failing.Armed = false;
            failed.StatusCode.ShouldBe(HttpStatusCode.ServiceUnavailable);
            (await failed.ReadErrorCodeAsync()).ShouldBe("DATABASE_UNAVAILABLE");
        }
        (await s3.ListAsync(bucket)).ShouldBeEmpty("no COMMIT was sent: the object goes");

        using var ok = await app.Client.UploadAsync(sessionId, image, "small.jpg");
        ok.StatusCode.ShouldBe(HttpStatusCode.Created);
        (await s3.ListAsync(bucket)).Count.ShouldBe(1);
    }

    /// <summary>Fails every transaction start while armed, as a database that went away does; SQLite's "database is locked".</summary>
    private sealed class FailingTransactions : DbTransactionInterceptor
    {
        public volatile bool Armed;

        public override ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(DbConnection connection, TransactionStartingEventData eventData,
            InterceptionResult<DbTransaction> result, CancellationToken cancellationToken = default) =>
            Armed ? throw new SqliteException("database is locked", 6) : ValueTask.FromResult(result);

        public override InterceptionResult<DbTransaction> TransactionStarting(DbConnection connection, TransactionStartingEventData eventData,
            InterceptionResult<DbTransaction> result) =>
            Armed ? throw new SqliteException("database is locked", 6) : result;
    }
}
