using Apertur.Server.Data;
using Apertur.Server.Keys;
using Apertur.Server.Storage;
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
    /// does not start. The image store is checked first (<see cref="StorageServices.CheckImageStoreAsync"/>): an S3 bucket
    /// that cannot be used is told in one line too. Other failures are bugs or other settings and keep their exception.
    /// </summary>
    public static async Task<bool> TryPrepareAsync(IServiceProvider services, CancellationToken ct)
    {
        // SQLite: one serving process per data directory; a second one is refused in one line (docs/scale-out.md).
        if (services.GetRequiredService<DatabaseSettings>().Provider == DatabaseProvider.Sqlite)
        {
            if (!DataDirectoryLock.TryAcquire(AperturOptions.ResolveDataDirectory(services.GetRequiredService<IConfiguration>()), out var release, out var refusal))
            {
                await Console.Error.WriteLineAsync(refusal);
                return false;
            }
            services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(release!.Dispose);
        }
        try
        {
            await StorageServices.CheckImageStoreAsync(services, ct);
        }
        catch (ImageStoreUnavailableException e)
        {
            await Console.Error.WriteLineAsync(e.StartFailure());
            return false;
        }
        return await TryOnDatabaseAsync(services, () => PrepareAsync(services, ct));
    }

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

    /// <summary>
    /// Checks every setting now, before anything is written (a first start would otherwise create the first project and
    /// print its keys, then stop on a bad value). A bad one throws <see cref="OptionsValidationException"/>, which
    /// <see cref="ReportBadSettingsInOneLine"/> turns into one line on standard error and exit status 1.
    /// </summary>
    public static void ValidateSettings(IServiceProvider services) => services.GetService<IStartupValidator>()?.Validate();

    /// <summary>
    /// A bad setting ends the process with one line on standard error and exit status 1 instead of a stack trace, whether
    /// it was found before the container existed (the database, outbound networks: read where they are registered) or by
    /// <see cref="ValidateSettings"/>. (Under the tests' WebApplicationFactory the exception reaches the test instead.)
    /// </summary>
    public static void ReportBadSettingsInOneLine() => AppDomain.CurrentDomain.UnhandledException += (_, e) =>
    {
        if (e.ExceptionObject is Exception exception && SettingsProblems(exception) is { Count: > 0 } problems)
        {
            Console.Error.WriteLine(SettingsFailure(problems));
            Environment.Exit(1);
        }
    };

    private static string SettingsFailure(IEnumerable<string> problems) =>
        $"Apertur could not start: {string.Join(" ", problems)} Fix the setting (appsettings.json, an Apertur__… environment variable or --Apertur:…) and start again.";

    private static List<string> SettingsProblems(Exception e) => e switch
    {
        OptionsValidationException o => o.Failures.ToList(),
        AggregateException a when a.InnerExceptions.All(i => SettingsProblems(i).Count > 0) => a.InnerExceptions.SelectMany(SettingsProblems).ToList(),
        // The configuration binder's own refusal: a value that is not of the setting's type (a word for a number, an unknown choice).
        InvalidOperationException { InnerException: FormatException or ArgumentException } i
            when i.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) =>
            [$"{i.Message} {i.InnerException!.Message}"],
        _ => [],
    };

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
            // A malformed key never gets here: BootstrapOptions.Problems stops the start, naming the setting.
            if (!string.IsNullOrEmpty(configured))
            {
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
        var banners = new List<string>();
        if (await accounts.EnsureAdminAsync(project, options.AdminUsername, options.AdminPassword, ct) is { GeneratedPassword: { } adminPassword } admin)
        {
            banners.Add($"""

                ==================================================================
                 Apertur: the dashboard ({Dashboard.DashboardRoutes.Root}) has an admin account.
                 The password is shown ONCE and stored only as a hash: copy it now.
                 You choose a new one at the first sign-in.
                  user      {admin.Username}
                  password  {adminPassword}
                ==================================================================

                """);
        }

        if (printed.Count > 0)
        {
            banners.Add($"""

                ==================================================================
                 Apertur: first start. Project "{DefaultProjectName}" was created with these
                 API keys. They are shown ONCE and stored only as hashes: copy them now.
                {string.Join(Environment.NewLine, printed)}
                 Create more with the same settings (data directory, database):
                   {CommandLine.Self(services.GetRequiredService<IHostEnvironment>().ContentRootPath, "keys create --project <name> [--test]")}
                ==================================================================

                """);
        }
        // On the console, or with JSON console logs in an owner-only file of the data directory (docs/operations.md "Logs").
        await services.GetRequiredService<StartupOutput>().ShowSecretsAsync(banners, ct);
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
/// Where the first start prints what it shows once (generated API keys, the first admin's password; <see cref="StartupOutput"/>):
/// standard output unless this service is registered, never a log sink. Tests register one to read what a start printed.
/// </summary>
public sealed class StartupConsole(TextWriter output)
{
    public TextWriter Out { get; } = output;
}
