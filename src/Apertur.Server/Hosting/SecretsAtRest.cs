using Apertur.Server.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>
/// Settings section <c>Apertur:Secrets</c>. Everything protected with ASP.NET Data Protection (the server's RSA private key,
/// destination credentials, OAuth tokens, webhook secrets) is only as safe as the Data Protection key ring, which lives in the database;
/// the master key encrypts that key ring, so a copy of the database alone reveals nothing.
/// </summary>
public sealed class SecretsOptions
{
    public const string Section = "Apertur:Secrets";

    /// <summary>
    /// Base64 of 32 random bytes (<c>openssl rand -base64 32</c>). Empty: a key is generated on first start into
    /// <c>{DataDirectory}/master.key</c> (mode 0600) and read from there on later starts. With PostgreSQL and several replicas,
    /// set it explicitly to the same value on every replica (a replica with another key cannot read the shared key ring, and
    /// refuses to start). Keep a copy apart from the database backups: losing it loses every protected secret.
    /// </summary>
    public string? MasterKey { get; set; }

    /// <summary>
    /// A file holding the same base64 key (a mounted secret, e.g. <c>/run/secrets/apertur-master-key</c>), read at start
    /// when <see cref="MasterKey"/> is empty: one key for every replica without putting it in the environment. It must
    /// exist; nothing is generated into it.
    /// </summary>
    public string? MasterKeyFile { get; set; }
}

public static partial class SecretsAtRest
{
    /// <summary>
    /// Data Protection with its key ring in the database (<see cref="DbXmlRepository"/>), shared by every replica; loads the
    /// master key and makes Data Protection encrypt every key it stores with it, so a database copy alone reveals no
    /// secret; webhook secrets are protected with that key ring (<see cref="WebhookSecretsAtRest"/>).
    /// </summary>
    public static IServiceCollection AddSecretsAtRest(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("Apertur");
        services.AddSingleton<DbXmlRepository>();
        services.AddOptions<KeyManagementOptions>()
            .Configure<DbXmlRepository>((o, repository) => o.XmlRepository = repository);
        services.AddOptions<SecretsOptions>().BindConfiguration(SecretsOptions.Section);
        services.AddSingleton(sp => MasterKey.Load(
            sp.GetRequiredService<IOptions<SecretsOptions>>().Value,
            AperturOptions.ResolveDataDirectory(sp.GetRequiredService<IConfiguration>()),
            sp.GetRequiredService<DatabaseSettings>().Provider,
            sp.GetRequiredService<ILogger<MasterKey>>()));
        services.AddOptions<KeyManagementOptions>()
            .Configure<MasterKey>((o, key) => o.XmlEncryptor = new MasterKeyXmlEncryptor(key));
        services.AddSingleton<WebhookSecretsAtRest>();
        return services;
    }

    /// <summary>
    /// Before serving: the master key (created now on a first start) must open every key the database holds. Without this
    /// check a wrong key would only show as Data Protection quietly making a new key and old secrets failing later.
    /// </summary>
    public static void VerifyKeyRing(IServiceProvider services)
    {
        var decryptor = new MasterKeyXmlDecryptor(services);
        services.GetRequiredService<MasterKey>();
        var unsealed = 0;
        foreach (var key in services.GetRequiredService<DbXmlRepository>().GetAllElements())
        {
            // Data Protection's own elements sit in its XML namespace; names are matched locally.
            var sealedSecrets = key.Descendants().Where(e => e.Name.LocalName == "encryptedSecret"
                && ((string?)e.Attribute("decryptorType"))?.StartsWith(typeof(MasterKeyXmlDecryptor).FullName + ",", StringComparison.Ordinal) == true);
            foreach (var secret in sealedSecrets)
            {
                decryptor.Decrypt(secret.Elements().Single());
            }
            unsealed += key.Descendants().Any(e => e.Name.LocalName == "masterKey") ? 1 : 0;
        }
        if (unsealed > 0)
        {
            LogUnsealedKeys(services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SecretsAtRest)), unsealed);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} Data Protection key(s) were stored unencrypted before the master key was introduced; they stay readable and expire on their own")]
    private static partial void LogUnsealedKeys(ILogger logger, int count);
}
