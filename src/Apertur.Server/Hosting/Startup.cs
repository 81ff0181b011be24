using Apertur.Server.Data;
using Apertur.Server.Keys;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>What runs before the server listens: migrate the database, then seed the first project and keys.</summary>
public static partial class Startup
{
    public const string DefaultProjectName = "Default";

    /// <summary>
    /// <see cref="PrepareAsync"/>, except that a database that cannot be used (not running, refusing the connection, no such
    /// database, wrong password) is told in one line on standard error instead of a stack trace; false then, and the server
    /// does not start. Other failures are bugs or other settings and keep their exception.
    /// </summary>
    public static Task<bool> TryPrepareAsync(IServiceProvider services, CancellationToken ct) =>
        TryOnDatabaseAsync(services, () => PrepareAsync(services, ct));

    /// <summary>
    /// Runs <paramref name="work"/> (start-up, or a command such as <c>keys create</c>); a database that cannot be used is
    /// told in one line on standard error and answers false, anything else keeps its exception.
    /// </summary>
    public static async Task<bool> TryOnDatabaseAsync(IServiceProvider services, Func<Task> work)
    {
        try
        {
            await work();
            return true;
        }
        catch (Exception e) when (DatabaseUnavailable.IsDatabaseError(e))
        {
            await Console.Error.WriteLineAsync(DatabaseUnavailable.StartFailure(services.GetRequiredService<DatabaseSettings>(), e));
            return false;
        }
    }

    public static async Task PrepareAsync(IServiceProvider services, CancellationToken ct)
    {
        await MigrateAsync(services, ct);
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var issuer = scope.ServiceProvider.GetRequiredService<KeyIssuer>();
        var options = scope.ServiceProvider.GetRequiredService<IOptions<BootstrapOptions>>().Value;
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Apertur.Bootstrap");

        var firstStart = !await db.Projects.AnyAsync(ct);
        // Later starts seed into the first project whatever it was renamed to, rather than making a new "Default".
        var project = firstStart
            ? await issuer.GetOrCreateProjectAsync(DefaultProjectName, ct)
            : await db.Projects.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).FirstAsync(ct);
        if (firstStart)
        {
            if (!string.IsNullOrWhiteSpace(options.WebhookSecret))
            {
                project.ProtectedWebhookSecret = services.GetRequiredService<WebhookSecretsAtRest>().Protect(options.WebhookSecret.Trim());
            }
            project.NotificationEmail = string.IsNullOrWhiteSpace(options.NotificationEmail) ? null : options.NotificationEmail.Trim();
            await db.SaveChangesAsync(ct);
        }

        var printed = new List<string>();
        foreach (var (configured, env) in new[] { (options.ApiKey, ApiKeyTokens.Live), (options.TestApiKey, ApiKeyTokens.Test) })
        {
            if (!string.IsNullOrEmpty(configured))
            {
                if (!ApiKeyTokens.IsWellFormed(configured) || ApiKeyTokens.EnvOf(configured) != env)
                {
                    throw new InvalidOperationException(
                        $"Apertur:Bootstrap:{(env == ApiKeyTokens.Live ? "ApiKey" : "TestApiKey")} must look like aptr_{env}_ followed by 20-64 letters or digits.");
                }
                if (!await issuer.KeyExistsAsync(configured, ct))
                {
                    await issuer.CreateKeyAsync(project.Id, env, $"Bootstrap {env} key", configured, ct);
                    LogSeeded(logger, env);
                }
            }
            else if (firstStart)
            {
                var (_, plain) = await issuer.CreateKeyAsync(project.Id, env, $"Default {env} key", null, ct);
                printed.Add($"  {env,-4}  {plain}");
            }
        }

        // The first dashboard admin (also after an upgrade to the first version with a dashboard), owner of the first project.
        var accounts = scope.ServiceProvider.GetRequiredService<Dashboard.Accounts.AccountService>();
        var console = services.GetService<StartupConsole>()?.Out ?? Console.Out;
        if (await accounts.EnsureAdminAsync(project, options.AdminUsername, options.AdminPassword, ct) is { GeneratedPassword: { } adminPassword } admin)
        {
            await console.WriteLineAsync($"""

                ==================================================================
                 Apertur: the dashboard ({Dashboard.DashboardRoutes.Root}) has an admin account.
                 The password is shown ONCE and stored only as a hash: copy it now.
                 You choose a new one at the first sign-in.
                  user      {admin.Username}
                  password  {adminPassword}
                ==================================================================

                """.AsMemory(), ct);
        }

        if (printed.Count > 0)
        {
            // Printed straight to the console, once, so it never lands in structured log sinks.
            await console.WriteLineAsync($"""

                ==================================================================
                 Apertur: first start. Project "{DefaultProjectName}" was created with these
                 API keys. They are shown ONCE and stored only as hashes: copy them now.
                {string.Join(Environment.NewLine, printed)}
                 Create more with the same settings (data directory, database):
                   {CommandLine.Self(services.GetRequiredService<IHostEnvironment>().ContentRootPath, "keys create --project <name> [--test]")}
                ==================================================================

                """.AsMemory(), ct);
        }
    }

    /// <summary>
    /// The schema scripts, then what they cannot do without the master key: a wrong master key stops here (rather than Data
    /// Protection silently making new keys), and secrets an earlier version stored in clear are encrypted.
    /// </summary>
    public static async Task MigrateAsync(IServiceProvider services, CancellationToken ct)
    {
        await services.GetRequiredService<MigrationRunner>().MigrateAsync(ct);
        SecretsAtRest.VerifyKeyRing(services);
        await using var scope = services.CreateAsyncScope();
        await services.GetRequiredService<WebhookSecretsAtRest>().ProtectPlaintextAsync(scope.ServiceProvider.GetRequiredService<AperturDb>(), ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Seeded the configured bootstrap {Env} API key")]
    private static partial void LogSeeded(ILogger logger, string env);
}

/// <summary>
/// Where the first start prints what it shows once (generated API keys, the first admin's password): standard output
/// unless this service is registered, never a log sink. Tests register one to read what a start printed.
/// </summary>
public sealed class StartupConsole(TextWriter output)
{
    public TextWriter Out { get; } = output;
}
