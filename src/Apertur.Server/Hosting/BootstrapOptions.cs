namespace Apertur.Server.Hosting;

/// <summary>Settings section <c>Apertur:Bootstrap</c>: what the first start seeds, for automation.</summary>
public sealed class BootstrapOptions
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
}
