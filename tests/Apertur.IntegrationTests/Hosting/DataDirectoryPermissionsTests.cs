using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>The data directory is the server's alone: 0700, and the database, its WAL files, images and the master key 0600.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DataDirectoryPermissionsTests
{
    private const UnixFileMode Directory0700 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File0600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public async Task Start_FreshDataDirectory_EverythingWrittenIsOwnerOnly()
    {
        var dir = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"), "data");
        try
        {
            await using (var app = await TestApp.StartAsync(Databases.Sqlite, new Dictionary<string, string?> { ["Apertur:DataDirectory"] = dir }))
            {
                var session = (await app.Client.CreateSessionAsync()).SessionId();
                var image = (await app.CreateClient().UploadOkAsync(session, "small.jpg")).GetProperty("id").GetString()!;
                var name = Guid.Parse(image).ToString("N");

                ModeOf(dir).ShouldBe(Directory0700);
                foreach (var file in new[] { "apertur.db", "apertur.db-wal", "apertur.db-shm", "master.key" })
                {
                    ModeOf(Path.Combine(dir, file)).ShouldBe(File0600, file);
                }
                foreach (var sub in new[] { "images", "tmp", Path.Combine("images", name[^2..]) })
                {
                    ModeOf(Path.Combine(dir, sub)).ShouldBe(Directory0700, sub);
                }
                ModeOf(Path.Combine(dir, "images", name[^2..], name)).ShouldBe(File0600, "the image");
            }
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true);
        }
    }

    [Fact]
    public async Task Start_ReadableDataDirectoryOfAnEarlierVersion_IsTightened()
    {
        await using var first = await TestApp.StartAsync(Databases.Sqlite);
        var dir = first.DataDirectory;
        const UnixFileMode readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        const UnixFileMode listable = Directory0700 | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(dir, listable);
        File.SetUnixFileMode(Path.Combine(dir, "images"), listable);
        File.SetUnixFileMode(Path.Combine(dir, "apertur.db"), readable);
        File.SetUnixFileMode(Path.Combine(dir, "master.key"), readable);

        await using var restarted = await first.StartAnotherAsync();

        ModeOf(dir).ShouldBe(Directory0700);
        ModeOf(Path.Combine(dir, "images")).ShouldBe(Directory0700);
        ModeOf(Path.Combine(dir, "apertur.db")).ShouldBe(File0600);
        ModeOf(Path.Combine(dir, "master.key")).ShouldBe(File0600);
    }

    private static UnixFileMode ModeOf(string path) => File.GetUnixFileMode(path);
}
