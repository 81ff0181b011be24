namespace Apertur.Server.Encryption;

/// <summary>The server's RSA key pair for client-side encrypted uploads. The private key is protected at rest.</summary>
public sealed class ServerKey
{
    public Guid Id { get; set; }
    public required string PublicKeyPem { get; set; }
    public required string ProtectedPrivateKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
