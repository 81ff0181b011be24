using System.Text.Json.Serialization;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Apertur.Server.Encryption;

/// <summary>The server's public key for client-side encryption (docs/api.md "Encrypted uploads"): public, under both documented paths.</summary>
public static class EncryptionApi
{
    public static IEndpointRouteBuilder MapEncryptionApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/encryption").WithRateLimit(RateLimitPolicies.PublicSession);
        group.MapGet("/server-key", GetServerKeyAsync);
        group.MapGet("/key", GetServerKeyAsync);
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
