using System.Text.Json.Serialization;
using Apertur.Server.Hosting;
using Apertur.Server.OpenApi;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Encryption;

/// <summary>The server's public key for client-side encryption (docs/api.md "Encrypted uploads"): public, under both documented paths.</summary>
public static class EncryptionApi
{
    public static IEndpointRouteBuilder MapEncryptionApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/encryption").WithRateLimit(RateLimitPolicies.PublicSession).Public().WithTags("Encrypted uploads");
        group.MapGet("/server-key", GetServerKeyAsync).WithName("GetServerKey").WithSummary("The server's RSA public key for encrypted uploads");
        group.MapGet("/key", GetServerKeyAsync).WithName("GetServerKeyAlias").WithSummary("The server's public key (alias of /encryption/server-key)");
        return app;
    }

    private static async Task<Ok<ServerPublicKey>> GetServerKeyAsync(ServerKeys keys, CancellationToken ct)
    {
        var pem = await keys.GetPublicKeyPemAsync(ct);
        return TypedResults.Ok(new ServerPublicKey(pem, pem));
    }
}

/// <summary>Both spellings: the .NET README reads <c>public_key</c>, every other SDK <c>publicKey</c>.</summary>
public sealed record ServerPublicKey(
    [property: JsonPropertyName("publicKey")] string PublicKey,
    [property: JsonPropertyName("public_key")] string PublicKeySnake);
