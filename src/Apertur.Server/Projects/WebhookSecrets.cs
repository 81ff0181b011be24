using System.Security.Cryptography;

namespace Apertur.Server.Projects;

/// <summary>Project webhook secrets: <c>whsec_</c> + base64 of 32 random bytes (Standard Webhooks form).</summary>
public static class WebhookSecrets
{
    public static string Generate() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
}
