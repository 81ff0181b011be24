using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Keys;
using Shouldly;

namespace Apertur.IntegrationTests.Keys;

/// <summary>Runs the real executable: <c>keys create</c> prints a key and exits without serving.</summary>
public sealed class KeysCommandTests
{
    private static Task<(int Exit, string Out, string Err)> RunAsync(string dataDirectory, params string[] args) =>
        ServerProcess.RunToExitAsync(args, new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Warning" }, dataDirectory);

    [Fact]
    public async Task KeysCreate_PrintsANewWellFormedKeyPerCall()
    {
        var dir = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var (exit, output, error) = await RunAsync(dir, "keys", "create", "--project", "Acme", "--create-project");
            exit.ShouldBe(0, error);
            var key = output.Trim();
            ApiKeyTokens.IsWellFormed(key).ShouldBeTrue(output);
            key.ShouldStartWith("aptr_live_");

            var (exit2, output2, _) = await RunAsync(dir, "keys", "create", "--project", "Acme", "--test");
            exit2.ShouldBe(0);
            output2.Trim().ShouldStartWith("aptr_test_");
            File.Exists(Path.Combine(dir, "apertur.db")).ShouldBeTrue();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task KeysCreate_UnknownProject_IsRefusedWithTheExistingNamesAndCreatesNothing()
    {
        var dir = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        try
        {
            var (created, _, createError) = await RunAsync(dir, "keys", "create", "--project", "Acme", "--create-project");
            created.ShouldBe(0, createError);

            for (var attempt = 0; attempt < 2; attempt++)
            {
                // A typo: refused both times, so the first refusal created no project "Acne".
                var (exit, output, error) = await RunAsync(dir, "keys", "create", "--project", "Acne");
                exit.ShouldBe(1, error);
                output.ShouldBeEmpty();
                var line = error.Trim();
                line.ShouldNotContain('\n');
                line.ShouldContain("\"Acne\"");
                line.ShouldContain("\"Acme\"");
                line.ShouldContain("--create-project");
            }

            var (exit2, output2, error2) = await RunAsync(dir, "keys", "create", "--project", "Acme");
            exit2.ShouldBe(0, error2);
            ApiKeyTokens.IsWellFormed(output2.Trim()).ShouldBeTrue(output2);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task KeysCreate_WithoutProject_FailsWithUsage()
    {
        var dir = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        var (exit, _, error) = await RunAsync(dir, "keys", "create");
        exit.ShouldBe(2);
        error.ShouldContain("--project");
    }
}
