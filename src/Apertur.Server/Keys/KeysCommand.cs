using Apertur.Server.Data;
using Apertur.Server.Hosting;

namespace Apertur.Server.Keys;

/// <summary>
/// <c>Apertur.Server keys create --project &lt;name&gt; [--test] [--label &lt;text&gt;]</c>: prints a new key and exits,
/// without starting the web server. The project is created if it does not exist.
/// </summary>
public static class KeysCommand
{
    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "keys";

    public static async Task<int> RunAsync(string[] args, IServiceProvider services)
    {
        if (args.Length < 2 || args[1] != "create")
        {
            await Console.Error.WriteLineAsync("usage: keys create --project <name> [--test] [--label <text>]");
            return 2;
        }
        string? project = null;
        string? label = null;
        var env = ApiKeyTokens.Live;
        for (var i = 2; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--project" when i + 1 < args.Length:
                    project = args[++i];
                    break;
                case "--label" when i + 1 < args.Length:
                    label = args[++i];
                    break;
                case "--test":
                    env = ApiKeyTokens.Test;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"unknown or incomplete option '{args[i]}'");
                    await Console.Error.WriteLineAsync("usage: keys create --project <name> [--test] [--label <text>]");
                    return 2;
            }
        }
        if (string.IsNullOrWhiteSpace(project))
        {
            await Console.Error.WriteLineAsync("--project <name> is required");
            return 2;
        }

        await Startup.MigrateAsync(services, CancellationToken.None);
        await using var scope = services.CreateAsyncScope();
        var issuer = scope.ServiceProvider.GetRequiredService<KeyIssuer>();
        var p = await issuer.GetOrCreateProjectAsync(project.Trim(), CancellationToken.None);
        var (_, plain) = await issuer.CreateKeyAsync(p.Id, env, label ?? $"CLI {env} key", null, CancellationToken.None);
        await Console.Out.WriteLineAsync(plain);
        return 0;
    }
}
