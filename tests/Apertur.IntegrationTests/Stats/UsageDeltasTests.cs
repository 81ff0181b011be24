using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Data;
using Apertur.Server.Keys;
using Apertur.Server.Stats;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Shouldly;
using Xunit;

namespace Apertur.IntegrationTests.Stats;

/// <summary>
/// The usage deltas and their roll-up (migration 0015, Stats/UsageRollup.cs; docs/performance.md "Usage aggregates"): writers
/// that count usage of the same rows in opposite order neither wait on each other nor deadlock, the stats are exact before
/// the roll-up, and roll-ups run at once or again count every delta once.
/// </summary>
public sealed class UsageDeltasTests
{
    private static readonly byte[] Jpeg = [0xFF, 0xD8, 0xFF, 0xD9];

    /// <summary>
    /// Two transactions each insert an image of project A and one of project B, in opposite order, the second after both
    /// inserted the first (a barrier): the shape of two group-commit batches of uploads spanning the same two projects. With
    /// the usage rows upserted by the triggers (migration 0014) the first took the lock of its project's day row and waited
    /// for the other's: "deadlock detected", one upload answered 503. <c>SET CONSTRAINTS ALL IMMEDIATE</c> runs 0014's deferred
    /// triggers at each insert, in the order its commits ran them, so that interleaving happens every time rather than when
    /// two commits meet; on the triggers of 0015 (not deferrable) it changes nothing.
    /// </summary>
    [Fact]
    public async Task TransactionsCountingTwoProjectsInOppositeOrder_DoNotDeadlock_AndTheTotalsAreExact()
    {
        const int rounds = 5;
        await using var app = await TestApp.StartAsync(Databases.Postgres);
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        var sessionA = (await app.Client.CreateSessionAsync()).SessionId();
        var sessionB = (await other.CreateSessionAsync()).SessionId();
        var imageA = await Seed.ImageAsync(app, sessionA, Jpeg);
        var imageB = await Seed.ImageAsync(app, sessionB, Jpeg);
        var (projectA, projectB) = await Manage.DbAsync(app, async db =>
            (await db.Sessions.Where(s => s.Id == Guid.Parse(sessionA)).Select(s => s.ProjectId).SingleAsync(),
             await db.Sessions.Where(s => s.Id == Guid.Parse(sessionB)).Select(s => s.ProjectId).SingleAsync()));
        var connectionString = app.Settings["Apertur:Database:ConnectionString"]!;

        for (var round = 0; round < rounds; round++)
        {
            var firstDone = new[] { NewSignal(), NewSignal() };
            async Task InsertAsync(int me, Guid first, Guid second)
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var tx = await connection.BeginTransactionAsync();
                await ExecuteAsync(connection, "SET CONSTRAINTS ALL IMMEDIATE");
                await ExecuteAsync(connection, "CREATE TEMP TABLE copies ON COMMIT DROP AS SELECT * FROM images WHERE false");
                await CopyImageAsync(connection, first);
                firstDone[me].SetResult();
                await firstDone[1 - me].Task.WaitAsync(TimeSpan.FromSeconds(30));
                await CopyImageAsync(connection, second);
                await tx.CommitAsync();
            }
            var both = Task.WhenAll(InsertAsync(0, imageA, imageB), InsertAsync(1, imageB, imageA));
            var failure = await Record.ExceptionAsync(() => both.WaitAsync(TimeSpan.FromSeconds(60)));
            failure.ShouldBeNull($"round {round}: {failure?.Message}");
        }

        var expected = 1 + 2 * rounds;
        await ShouldUploadAsync(app, projectA, expected, "before the roll-up");
        await ShouldUploadAsync(app, projectB, expected, "before the roll-up");
        await app.Services.GetRequiredService<UsageRollup>().RollUpAsync(CancellationToken.None);
        await ShouldUploadAsync(app, projectA, expected, "after the roll-up");
        await ShouldUploadAsync(app, projectB, expected, "after the roll-up");
    }

    /// <summary>
    /// Roll-ups started together move every delta once (the moved counts add up to the deltas there were), and a roll-up
    /// with nothing to move changes nothing; the stats read the same figures before, between and after.
    /// </summary>
    [Theory, ClassData(typeof(Databases))]
    public async Task RollUps_RunTogetherOrAgain_CountEveryDeltaOnce(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        var session = (await app.Client.CreateSessionAsync()).SessionId();
        for (var i = 0; i < 6; i++)
        {
            await Seed.ImageAsync(app, session, Jpeg);
        }
        var projectId = await Manage.DbAsync(app, db => db.Sessions.Where(s => s.Id == Guid.Parse(session)).Select(s => s.ProjectId).SingleAsync());
        var rollup = app.Services.GetRequiredService<UsageRollup>();
        var deltas = await Manage.DbAsync(app, db => db.UsageDeltas.CountAsync());
        deltas.ShouldBe(7, "one delta per session and per image");
        var before = await TotalsAsync(app, projectId);
        before.SessionsTotal.ShouldBe(1);
        before.ImagesUploaded.ShouldBe(6);

        var moved = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => rollup.RollUpAsync(CancellationToken.None))));
        moved.Sum().ShouldBe(deltas + 1, "each delta moved by exactly one roll-up, the session count's (migration 0016) too");
        (await Manage.DbAsync(app, db => db.UsageDeltas.CountAsync())).ShouldBe(0);
        (await TotalsAsync(app, projectId)).ShouldBe(before);

        (await rollup.RollUpAsync(CancellationToken.None)).ShouldBe(0);
        (await TotalsAsync(app, projectId)).ShouldBe(before);

        // New deltas on top of rolled-up days: read together, then rolled up onto the same day row.
        await Seed.ImageAsync(app, session, Jpeg);
        (await TotalsAsync(app, projectId)).ImagesUploaded.ShouldBe(7);
        (await rollup.RollUpAsync(CancellationToken.None)).ShouldBe(1);
        (await TotalsAsync(app, projectId)).ImagesUploaded.ShouldBe(7);
        (await Manage.DbAsync(app, db => db.DailyUsage.CountAsync(u => u.ProjectId == projectId))).ShouldBe(1);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static async Task ShouldUploadAsync(TestApp app, Guid projectId, int images, string when) =>
        (await TotalsAsync(app, projectId)).ImagesUploaded.ShouldBe(images, $"project {projectId} {when}");

    private static async Task<UsageTotals> TotalsAsync(TestApp app, Guid projectId)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        return await scope.ServiceProvider.GetRequiredService<UsageStats>().TotalsAsync(projectId, ApiKeyTokens.Live, now, CancellationToken.None);
    }

    // A new image like an existing one (same project, session, day): the trigger counts it like an upload.
    private static async Task CopyImageAsync(NpgsqlConnection connection, Guid template)
    {
        await ExecuteAsync(connection, "DELETE FROM copies");
        await using var copy = new NpgsqlCommand(
            "INSERT INTO copies SELECT * FROM images WHERE id = @template; UPDATE copies SET id = gen_random_uuid(); INSERT INTO images SELECT * FROM copies",
            connection);
        copy.Parameters.AddWithValue("template", template);
        await copy.ExecuteNonQueryAsync();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
