using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Retention;
using Apertur.Server.Stats;
using Apertur.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;
using Xunit;

namespace Apertur.IntegrationTests.Sessions;

/// <summary>
/// The sessions list's total (GET /api/v1/sessions; migration 0016, docs/performance.md "Sessions that exist") is read from
/// the project's count plus its pending deltas, not counted from the rows: it must equal a recount of the rows after
/// creations, an erasure (the row stays, listed as deleted), the record purge (rows deleted) and a project's deletion
/// (its rows cascade), before and after the usage roll-up, and after 0016 back-fills the rows of the version before it.
/// </summary>
public sealed class SessionCountTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Total_EqualsARecount_AfterCreationsAnErasureAndThePurge_BeforeAndAfterTheRollUp(string database)
    {
        var clock = new ManualClock();
        await using var app = await TestApp.StartAsync(database, clock: clock);
        using var testClient = app.CreateClient(app.TestKey);
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        HttpClient[] projects = [app.Client, other];

        // Both environments of project A count (the list shows both), and project B apart.
        clock.Set(new DateTimeOffset(2026, 11, 1, 10, 0, 0, TimeSpan.Zero));
        var a = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            a.Add((await app.Client.CreateSessionAsync()).SessionId());
        }
        await testClient.CreateSessionAsync();
        await other.CreateSessionAsync();
        await other.CreateSessionAsync();
        (await ShouldMatchRecountAsync(app, projects, "creations")).ShouldBe([4, 2]);

        // Erased on demand: the row stays (the list shows it as deleted), so it still counts.
        (await app.Client.DeleteAsync($"/api/v1/upload-sessions/{a[0]}")).StatusCode.ShouldBe(HttpStatusCode.NoContent);
        (await ShouldMatchRecountAsync(app, projects, "an erasure")).ShouldBe([4, 2]);

        // Past the retention of records (90 days by default): new sessions, then the purge deletes the old ones; both read
        // before the roll-up, then after it.
        clock.Set(new DateTimeOffset(2027, 2, 10, 10, 0, 0, TimeSpan.Zero));
        await app.Client.CreateSessionAsync();
        await other.CreateSessionAsync();
        (await app.Services.GetRequiredService<RecordPurge>().PurgeAsync(CancellationToken.None)).Sessions.ShouldBe(6);
        (await ShouldMatchRecountAsync(app, projects, "the purge")).ShouldBe([1, 1]);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task ProjectDeleted_ItsSessionsCascade_AndItsCountGoesWithThem(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        using var other = app.CreateClient(await KeysForOtherProject.CreateAsync(app));
        var otherId = Guid.Parse(await other.ProjectIdAsync());
        await app.Client.CreateSessionAsync();
        await other.CreateSessionAsync();
        await app.Services.GetRequiredService<UsageRollup>().RollUpAsync(CancellationToken.None);
        await other.CreateSessionAsync();

        // A row delete cascading to its sessions (no code path deletes a project yet: the schema's cascade must still hold).
        (await Manage.DbAsync(app, db => db.Projects.Where(p => p.Id == otherId).ExecuteDeleteAsync())).ShouldBe(1);

        (await Manage.DbAsync(app, async db => (await db.Sessions.CountAsync(s => s.ProjectId == otherId),
            await db.SessionCounts.CountAsync(c => c.ProjectId == otherId), await db.SessionCountDeltas.CountAsync(d => d.ProjectId == otherId))))
            .ShouldBe((0, 0, 0));
        (await ShouldMatchRecountAsync(app, [app.Client], "another project's deletion")).ShouldBe([1]);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Upgrade_RowsOfTheEarlierVersion_BackFilledOnce(string database)
    {
        await using var old = await TestApp.StartAsync(database);
        var otherKey = await KeysForOtherProject.CreateAsync(old);
        using var other = old.CreateClient(otherKey);
        // Counted by 0016, rolled up or pending: dropped with its tables below, so the back-fill must count them from the rows.
        await old.Client.CreateSessionAsync();
        await old.Services.GetRequiredService<UsageRollup>().RollUpAsync(CancellationToken.None);
        await old.Client.CreateSessionAsync();
        await other.CreateSessionAsync();

        // The schema as 0015 left it, and sessions created and deleted by the version before 0016.
        string[] downgrade = database == Databases.Postgres
            ? ["DROP FUNCTION session_counted() CASCADE"]
            : ["DROP TRIGGER session_counted_insert", "DROP TRIGGER session_counted_delete"];
        foreach (var sql in downgrade.Concat(["DROP TABLE session_count_deltas", "DROP TABLE session_counts",
            "DELETE FROM schema_migrations WHERE version = '0016_session_counts'"]))
        {
            await Manage.DbAsync(old, db => db.Database.ExecuteSqlRawAsync(sql));
        }
        await old.Client.CreateSessionAsync();
        var gone = Guid.Parse((await other.CreateSessionAsync()).SessionId());
        await other.CreateSessionAsync();
        (await Manage.DbAsync(old, db => db.Sessions.Where(s => s.Id == gone).ExecuteDeleteAsync())).ShouldBe(1);

        await using var upgraded = await old.StartAnotherAsync();
        using var upgradedOther = upgraded.CreateClient(otherKey);
        (await ShouldMatchRecountAsync(upgraded, [upgraded.Client, upgradedOther], "the back-fill")).ShouldBe([3, 2]);
    }

    // For each project: the API's total equals a recount of its rows before the roll-up and after it (no delta left, the
    // count's row alone); the totals.
    private static async Task<int[]> ShouldMatchRecountAsync(TestApp app, HttpClient[] projects, string after)
    {
        var before = await TotalsShouldMatchAsync(app, projects, $"after {after}, before the roll-up");
        await app.Services.GetRequiredService<UsageRollup>().RollUpAsync(CancellationToken.None);
        (await Manage.DbAsync(app, db => db.SessionCountDeltas.CountAsync())).ShouldBe(0, "the roll-up moves every delta");
        (await TotalsShouldMatchAsync(app, projects, $"after {after}, after the roll-up")).ShouldBe(before);
        return before;
    }

    private static async Task<int[]> TotalsShouldMatchAsync(TestApp app, HttpClient[] projects, string because)
    {
        var totals = new List<int>();
        foreach (var client in projects)
        {
            var projectId = Guid.Parse(await client.ProjectIdAsync());
            var recount = await Manage.DbAsync(app, db => db.Sessions.CountAsync(s => s.ProjectId == projectId));
            var total = await TotalAsync(client);
            total.ShouldBe(recount, $"project {projectId} {because}");
            totals.Add(total);
        }
        return [.. totals];
    }

    // The total of the list's second page of two, and its page count, which follows from it.
    private static async Task<int> TotalAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/api/v1/sessions?page=2&pageSize=2");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var page = await response.ReadJsonAsync();
        var total = page.GetProperty("total").GetInt32();
        page.GetProperty("totalPages").GetInt32().ShouldBe((total + 1) / 2);
        page.GetProperty("data").GetArrayLength().ShouldBe(Math.Clamp(total - 2, 0, 2));
        return total;
    }
}
