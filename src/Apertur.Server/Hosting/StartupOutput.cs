using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>
/// What the start shows outside the logs (docs/operations.md "Logs"): the first start's secrets (the generated admin password
/// and API keys, shown once) and the network address of <c>--lan</c>. On the console as banners, unless the console logs
/// are JSON (<c>Logging:Console:FormatterName=json</c>): then standard output carries JSON objects only, so the secrets go
/// to <see cref="SecretsFileName"/> in the data directory, owner-only (0600), one log line says where (never what), and the
/// file is deleted when an admin changes their password (<see cref="Dashboard.Accounts.AccountService"/>), as Jenkins does
/// with its initial admin password.
/// </summary>
public sealed partial class StartupOutput(IConfiguration configuration, IOptionsMonitor<ConsoleLoggerOptions> consoleLogs, ILogger<StartupOutput> logger,
    StartupConsole? startupConsole = null)
{
    public const string SecretsFileName = "initial-secrets.txt";

    /// <summary>Where the first start's secrets are written when the console logs are JSON.</summary>
    public string SecretsFile => Path.Combine(AperturOptions.ResolveDataDirectory(configuration), SecretsFileName);

    /// <summary>True when the console logger writes JSON: then nothing else may be written to standard output.</summary>
    public bool JsonConsole => string.Equals(consoleLogs.CurrentValue.FormatterName, ConsoleFormatterNames.Json, StringComparison.OrdinalIgnoreCase);

    private TextWriter Console => startupConsole?.Out ?? System.Console.Out;

    /// <summary>Shows the first start's secrets, each a banner: on the console, or with JSON logs in the owner-only file.</summary>
    public async Task ShowSecretsAsync(IReadOnlyList<string> banners, CancellationToken ct)
    {
        if (banners.Count == 0)
        {
            return;
        }
        if (!JsonConsole)
        {
            foreach (var banner in banners)
            {
                // Printed straight to the console, once, so it never lands in structured log sinks.
                await Console.WriteLineAsync(banner.AsMemory(), ct);
            }
            return;
        }
        var path = SecretsFile;
        // A file left by an earlier first start (a database started again from empty) is replaced, never appended to.
        File.Delete(path);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using (var file = new StreamWriter(path, options))
        {
            await file.WriteLineAsync($"Apertur: the first start's secrets. Readable by the server's user only; deleted when an admin changes their password.".AsMemory(), ct);
            foreach (var banner in banners)
            {
                await file.WriteLineAsync(banner.AsMemory(), ct);
            }
        }
        LogSecretsWritten(logger, path);
    }

    /// <summary>Deletes the first start's secrets file, if there is one: an admin has chosen their own password.</summary>
    public void ForgetSecrets()
    {
        var path = SecretsFile;
        if (File.Exists(path))
        {
            File.Delete(path);
            LogSecretsDeleted(logger, path);
        }
    }

    /// <summary>A notice for the operator (no secret): a few console lines, or one log line when the console logs are JSON.</summary>
    public void Announce(string text)
    {
        if (JsonConsole)
        {
            var oneLine = string.Join(' ', text.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
            LogNotice(logger, oneLine);
        }
        else
        {
            Console.WriteLine(text);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "First start: what it generated (the admin's password, API keys) is in {Path}, readable by the server's user only; it is deleted when an admin changes their password")]
    private static partial void LogSecretsWritten(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted the first start's secrets file {Path}: an admin changed their password")]
    private static partial void LogSecretsDeleted(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Notice}")]
    private static partial void LogNotice(ILogger logger, string notice);
}
