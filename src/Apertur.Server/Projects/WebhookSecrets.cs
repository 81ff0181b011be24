using System.Security.Cryptography;
using Apertur.Server.Hosting;

namespace Apertur.Server.Projects;

/// <summary>Project webhook secrets: <c>whsec_</c> + base64 of 32 random bytes (Standard Webhooks form), stored encrypted.</summary>
public static class WebhookSecrets
{
    public static string Generate() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The current secret becomes the previous one for 24 h (a second rotation replaces it); a new one signs from now. Not saved.</summary>
    public static void Rotate(Project project, WebhookSecretsAtRest secrets, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(secrets);
        project.ProtectedPreviousWebhookSecret = project.ProtectedWebhookSecret;
        project.PreviousWebhookSecretExpiresAt = Iso.Millis(now) + ProjectSigningProvider.PreviousSecretGrace;
        project.ProtectedWebhookSecret = secrets.Protect(Generate());
    }
}
