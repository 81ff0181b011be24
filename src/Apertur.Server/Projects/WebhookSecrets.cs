using System.Security.Cryptography;

namespace Apertur.Server.Projects;

/// <summary>Project webhook secrets: <c>whsec_</c> + base64 of 32 random bytes (Standard Webhooks form).</summary>
public static class WebhookSecrets
{
    public static string Generate() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The current secret becomes the previous one for 24 h (a second rotation replaces it); a new one signs from now. Not saved.</summary>
    public static void Rotate(Project project, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(project);
        project.PreviousWebhookSecret = project.WebhookSecret;
        project.PreviousWebhookSecretExpiresAt = Hosting.Iso.Millis(now) + ProjectSigningProvider.PreviousSecretGrace;
        project.WebhookSecret = Generate();
    }
}
