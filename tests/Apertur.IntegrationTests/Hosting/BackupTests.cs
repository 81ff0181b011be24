using System.Collections.Concurrent;
using System.Text.Json;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Shouldly;
using Xunit.Abstractions;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// docs/operations.md "Backup and restore" as an operator runs it on the default installation (SQLite, local images):
/// <c>backup</c> while a server process takes uploads, the data directory wiped, <c>restore</c>, and a server on the
/// restored directory serves and delivers every image accepted before the backup with its bytes.
/// </summary>
public sealed class BackupTests(ITestOutputHelper output)
{
    private static readonly string[] Fixtures = ["small.jpg", "photo.webp", "phone-photo.jpg"];

    [Fact]
    public async Task BackupWhileUploading_WipeAndRestore_EveryImageAcceptedBeforeIsServedAndDeliveredWithItsBytes()
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = TestReceiver.Answer(503);
        // The in-memory server seeds the storage (keys, destination, session) and stops: a server process serves the data
        // directory alone (SQLite serves one process per data directory).
        await using var owner = await TestApp.StartAsync(Databases.Sqlite, DeliveryKit.Settings(new Dictionary<string, string?>
        {
            ["Apertur:Workers:Enabled"] = "false",
            ["Apertur:Sessions:MaxImagesCap"] = "1000",
            ["Apertur:RateLimits:Api"] = "0",
            // Deliveries answered 503 come again every few seconds: writes while the backup runs, and soon after the restore.
            ["Apertur:Delivery:RetrySchedule:0"] = "00:00:05",
            ["Apertur:Delivery:MinimumWaitAfterThrottle"] = "00:00:05",
            // The backup may hold deliveries in flight at that moment: after the restore they are claimed again once their lease ends.
            ["Apertur:Delivery:Lease"] = "00:00:04",
            ["Apertur:Delivery:AttemptTimeout"] = "00:00:02",
        }));
        var destination = await DeliveryKit.WebhookAsync(owner, receiver.Url());
        var sessionId = (await owner.Client.CreateSessionAsync($$"""{"destination_ids":["{{destination}}"],"max_images":1000}""")).SessionId();
        await owner.StopServerAsync();
        var env = ServerProcess.TakingOver(owner.Settings);

        var backup = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        var accepted = new ConcurrentDictionary<Guid, string>();
        try
        {
            Dictionary<Guid, string> acceptedBefore;
            await using (var server = await StartAsync(env))
            {
                using var client = new HttpClient { BaseAddress = await server.ListeningAsync() };
                using var stop = new CancellationTokenSource();
                var uploads = Task.Run(async () =>
                {
                    for (var i = 0; !stop.IsCancellationRequested && i < 900; i++)
                    {
                        var fixture = Fixtures[i % Fixtures.Length];
                        var answer = await client.UploadOkAsync(sessionId, fixture);
                        accepted[Guid.Parse(answer.GetProperty("id").GetString()!)] = fixture;
                        await Task.Delay(20);
                    }
                });
                await Wait.UntilAsync(() => Task.FromResult(accepted.Count >= 20 || uploads.IsCompleted), TimeSpan.FromSeconds(60), "uploads accepted");
                // The uploads answered 201 before the backup starts: each one must come back. Later ones may or may not.
                acceptedBefore = accepted.ToDictionary();
                var (exit, stdout, stderr) = await ServerProcess.RunToExitAsync(["backup", backup], env, owner.DataDirectory);
                var acceptedDuring = accepted.Count - acceptedBefore.Count;
                await stop.CancelAsync();
                await uploads;
                output.WriteLine($"{acceptedBefore.Count} images accepted before the backup, {acceptedDuring} while it ran, {accepted.Count} in all");
                output.WriteLine(stdout);

                exit.ShouldBe(0, stderr);
                stderr.ShouldBeEmpty();
                var summary = stdout.Trim();
                summary.ShouldNotContain('\n');
                summary.ShouldStartWith($"backup: {backup}:");
                acceptedDuring.ShouldBeGreaterThan(0, "uploads went on while the backup ran");

                // A restore never runs under a serving server.
                var (refused, _, refusal) = await ServerProcess.RunToExitAsync(["restore", backup], env, owner.DataDirectory);
                refused.ShouldBe(1);
                refusal.Trim().ShouldNotContain('\n');
                refusal.ShouldContain("a server is running");
                (await server.TerminateAsync()).ShouldBe(0, server.Output);
            }
            Directory.EnumerateFileSystemEntries(backup).Select(Path.GetFileName).Order()
                .ShouldBe(["apertur-backup.json", "apertur.db", "images", "master.key"]);
            using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(backup, "apertur-backup.json")));
            var backedUp = manifest.RootElement.GetProperty("images").GetInt32();
            backedUp.ShouldBeGreaterThanOrEqualTo(acceptedBefore.Count);
            manifest.RootElement.GetProperty("missing_images").GetArrayLength().ShouldBe(0);

            // Nor over a data directory.
            var (notEmpty, _, notEmptyRefusal) = await ServerProcess.RunToExitAsync(["restore", backup], env, owner.DataDirectory);
            notEmpty.ShouldBe(1);
            notEmptyRefusal.Trim().ShouldNotContain('\n');
            notEmptyRefusal.ShouldContain("is not empty");

            // The disk is lost.
            Directory.Delete(owner.DataDirectory, recursive: true);
            SqliteConnection.ClearAllPools();
            var (restored, restoreOut, restoreErr) = await ServerProcess.RunToExitAsync(["restore", backup], env, owner.DataDirectory);
            restored.ShouldBe(0, restoreErr);
            output.WriteLine(restoreOut);

            // From now on every request is answered 200: what arrives is what the restored server delivers.
            receiver.Respond = TestReceiver.Answer(200);
            receiver.Requests.Clear();
            await using (var server = await StartAsync(env))
            {
                using var client = new HttpClient { BaseAddress = await server.ListeningAsync() };
                client.DefaultRequestHeaders.Authorization = new("Bearer", owner.LiveKey);
                var images = await owner.ReadStorageAsync(db => db.Images.AsNoTracking().Select(i => i.Id).ToListAsync());
                images.ShouldBeSubsetOf(accepted.Keys, "every image row comes from an accepted upload");
                acceptedBefore.Keys.ShouldBeSubsetOf(images, "every image accepted before the backup is restored");
                images.Count.ShouldBe(backedUp, "the restored images are those of the manifest");
                foreach (var id in images)
                {
                    var bytes = await client.GetByteArrayAsync($"/api/v1/uploads/{id}/download");
                    bytes.ShouldBe(Fixture.Bytes(accepted[id]), $"image {id} ({accepted[id]}) is served with its bytes");
                }

                await Wait.UntilAsync(async () => (await owner.ReadStorageAsync(db => db.Deliveries.CountAsync(d => d.Status == DeliveryStatus.Sent))) == images.Count,
                    TimeSpan.FromSeconds(90), "every restored image delivered");
                var deliveries = await owner.ReadStorageAsync(db => db.Deliveries.AsNoTracking().ToDictionaryAsync(d => d.Id, d => d.ImageId));
                var delivered = receiver.Requests.GroupBy(r => deliveries[Guid.Parse(r.DeliveryId)])
                    .ToDictionary(g => g.Key, g => g.First().Body);
                foreach (var id in images)
                {
                    delivered.ShouldContainKey(id);
                    Contains(delivered[id], Fixture.Bytes(accepted[id])).ShouldBeTrue($"image {id} ({accepted[id]}) is delivered with its bytes");
                }
            }
        }
        finally
        {
            if (Directory.Exists(backup))
            {
                Directory.Delete(backup, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Backup_IntoANonEmptyDirectory_OrOnPostgres_IsRefusedInOneLine()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        var target = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(target);
        await File.WriteAllTextAsync(Path.Combine(target, "notes.txt"), "mine");
        try
        {
            var (exit, stdout, stderr) = await ServerProcess.RunToExitAsync(["keys", "create", "--project", "Default", "--create-project"], null, dataDirectory);
            exit.ShouldBe(0, stderr);

            (exit, stdout, stderr) = await ServerProcess.RunToExitAsync(["backup", target], null, dataDirectory);
            exit.ShouldBe(1);
            stdout.ShouldBeEmpty();
            stderr.Trim().ShouldNotContain('\n');
            stderr.ShouldContain("is not empty");
            Directory.EnumerateFileSystemEntries(target).Select(Path.GetFileName).ShouldBe(["notes.txt"]);

            var postgres = new Dictionary<string, string>
            {
                ["Apertur__Database__Provider"] = "Postgres",
                ["Apertur__Database__ConnectionString"] = TestApp.PostgresAdminConnectionString,
            };
            var empty = Path.Combine(target, "new");
            (exit, stdout, stderr) = await ServerProcess.RunToExitAsync(["backup", empty], postgres, dataDirectory);
            exit.ShouldBe(1);
            stdout.ShouldBeEmpty();
            stderr.Trim().ShouldNotContain('\n');
            stderr.ShouldContain("pg_dump");
            stderr.ShouldContain("docs/operations.md");
            Directory.Exists(empty).ShouldBeFalse();
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
            Directory.Delete(target, recursive: true);
        }
    }

    private static bool Contains(byte[] body, byte[] part) => body.AsSpan().IndexOf(part) >= 0;

    private Task<ServerProcess> StartAsync(Dictionary<string, string> env) => ServerProcess.StartListeningAsync([], env, output);
}
