using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.ScaleOut;

/// <summary>SQLite serves one process per data directory (docs/scale-out.md): a second server process there is refused.</summary>
public sealed class SqliteOneProcessTests
{
    [Fact]
    public async Task ASecondProcessOnTheSameSqliteDataDirectory_IsRefusedInOneLine_AndARestartAfterTheFirstStopsWorks()
    {
        var shared = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(shared);
        var settings = new Dictionary<string, string> { ["Apertur__DataDirectory"] = shared };
        await using (var first = ServerProcess.Start(["--urls", "http://127.0.0.1:0"], settings))
        {
            await first.ListeningAsync();

            await using var second = ServerProcess.Start(["--urls", "http://127.0.0.1:0"], settings);
            (await second.WaitForExitAsync(TimeSpan.FromSeconds(60))).ShouldBe(1, second.Output);
            var lines = second.Lines.Where(l => l.Trim().Length > 0).ToList();
            lines.Count.ShouldBe(1, second.Output);
            lines[0].ShouldStartWith("Apertur could not start: another Apertur process already serves the data directory");
            lines[0].ShouldContain("apertur.lock");

            (await first.TerminateAsync()).ShouldBe(0, first.Output);
        }

        await using var restarted = ServerProcess.Start(["--urls", "http://127.0.0.1:0"], settings);
        await restarted.ListeningAsync();
    }
}
