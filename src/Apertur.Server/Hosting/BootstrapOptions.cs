using Apertur.Server.Keys;

namespace Apertur.Server.Hosting;

/// <summary>Settings section <c>Apertur:Bootstrap</c>: what the first start seeds, for automation.</summary>
public sealed class BootstrapOptions : ISettings
{
    public const string Section = "Apertur:Bootstrap";

    /// <summary>A well-formed <c>aptr_live_…</c> key to seed instead of a generated one.</summary>
    public string? ApiKey { get; set; }

    /// <summary>A well-formed <c>aptr_test_…</c> key to seed instead of a generated one.</summary>
    public string? TestApiKey { get; set; }

    public string? WebhookSecret { get; set; }

    public string? NotificationEmail { get; set; }

    /// <summary>The first dashboard admin's sign-in name (default <c>admin</c>).</summary>
    public string? AdminUsername { get; set; }

    /// <summary>The first dashboard admin's password, instead of a generated one printed once.</summary>
    public string? AdminPassword { get; set; }

    /// <summary>The seeded keys' format; the admin's name and password are checked by the account rules when it is created.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var (name, value, env) in new[] { (nameof(ApiKey), ApiKey, ApiKeyTokens.Live), (nameof(TestApiKey), TestApiKey, ApiKeyTokens.Test) })
        {
            if (!string.IsNullOrEmpty(value) && (!ApiKeyTokens.IsWellFormed(value) || ApiKeyTokens.EnvOf(value) != env))
            {
                problems.Add($"{Section}:{name} must look like aptr_{env}_ followed by 20-64 letters or digits.");
            }
        }
        return problems;
    }
}
