namespace Apertur.Server.Encryption;

public static class EncryptionServices
{
    /// <summary>The server's RSA key for client-side encrypted uploads.</summary>
    public static IServiceCollection AddEncryption(this IServiceCollection services) => services.AddSingleton<ServerKeys>();
}
