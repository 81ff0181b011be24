using Apertur.Server.Data;
using Apertur.Server.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Apertur.Server.Keys;

/// <summary>
/// <c>Apertur.Server keys create --project &lt;name&gt; [--create-project] [--test] [--label &lt;text&gt;]</c>: prints a new key
/// and exits, without starting the web server. An unknown project is refused (a typo must not make a new tenant) unless
/// <c>--create-project</c> asks for it.
/// </summary>
public static class KeysCommand
{
    private const string Usage = "usage: keys create --project <name> [--create-project] [--test] [--label <text>]";
    private const int ProjectsListed = 20;

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == "keys";

    /// <summary>
    /// For <c>keys create</c>: every log line (a master key generated on a first use) goes to standard error, so standard
    /// output carries only the key. Nothing changes when the server is started to serve.
    /// </summary>
    public static WebApplicationBuilder AddKeysCommand(this WebApplicationBuilder builder, string[] args)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (Matches(args))
        {
            builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        }
        return builder;
    }

    public static async Task<int> RunAsync(string[] args, IServiceProvider services)
    {
        if (args.Length < 2 || args[1] != "create")
        {
            await Console.Error.WriteLineAsync(Usage);
            return 2;
        }
        string? project = null;
        string? label = null;
        var createProject = false;
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
                case "--create-project":
                    createProject = true;
                    break;
                default:
                    await Console.Error.WriteLineAsync($"unknown or incomplete option '{args[i]}'");
                    await Console.Error.WriteLineAsync(Usage);
                    return 2;
            }
        }
        if (string.IsNullOrWhiteSpace(project))
        {
            await Console.Error.WriteLineAsync("--project <name> is required");
            return 2;
        }
        var name = project.Trim();

        var exit = 1;
        // A database that cannot be used is told in one line, as at start-up.
        return await Startup.TryOnDatabaseAsync(services, async () => exit = await CreateAsync(services, name, createProject, env, label))
            ? exit
            : 1;
    }

    private static async Task<int> CreateAsync(IServiceProvider services, string name, bool createProject, string env, string? label)
    {
        await Startup.MigrateAsync(services, CancellationToken.None);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var issuer = scope.ServiceProvider.GetRequiredService<KeyIssuer>();
        var p = await db.Projects.FirstOrDefaultAsync(x => x.Name == name, CancellationToken.None);
        if (p is null && !createProject)
        {
            await Console.Error.WriteLineAsync(await UnknownProjectAsync(db, name));
            return 1;
        }
        p ??= await issuer.CreateProjectAsync(name, CancellationToken.None);
        var (_, plain) = await issuer.CreateKeyAsync(p.Id, env, label ?? $"CLI {env} key", null, CancellationToken.None);
        await Console.Out.WriteLineAsync(plain);
        return 0;
    }

    /// <summary>One line: the name refused, the projects there are (the first few), and how to create it on purpose.</summary>
    private static async Task<string> UnknownProjectAsync(AperturDb db, string name)
    {
        var names = await db.Projects.AsNoTracking().OrderBy(x => x.Name).Select(x => x.Name).Take(ProjectsListed + 1).ToListAsync();
        var existing = names.Count == 0 ? "there are none yet (the server's first start creates \"Default\")"
            : "existing projects: " + string.Join(", ", names.Take(ProjectsListed).Select(n => $"\"{n}\"")) + (names.Count > ProjectsListed ? ", …" : "");
        return $"no project named \"{name}\"; {existing}. Add --create-project to create it.";
    }
}
