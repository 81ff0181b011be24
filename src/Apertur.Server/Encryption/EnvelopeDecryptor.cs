using System.Security.Cryptography;
using System.Text.Json;
using Apertur.Server.Hosting;

namespace Apertur.Server.Encryption;

/// <summary>
/// The client-side encryption envelope (docs/api.md "Encrypted uploads"), still base64-encoded as it arrived. Fields may be camelCase
/// (variants A and B) or snake_case (variant C).
/// </summary>
public sealed record EncryptedEnvelope(JsonElement EncryptedKey, JsonElement Iv, JsonElement EncryptedData, string? Algorithm)
{
    public const string DefaultAlgorithm = "RSA-OAEP+AES-256-GCM";

    /// <summary>Reads the envelope fields of a JSON object; 400 INVALID_ENVELOPE when one is missing or not a string.</summary>
    public static EncryptedEnvelope FromJson(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw EnvelopeDecryptor.InvalidEnvelope("The encrypted upload must be a JSON object {encryptedKey, iv, encryptedData, algorithm}.");
        }
        var algorithm = Field(root, false, "algorithm");
        return new EncryptedEnvelope(
            Field(root, true, "encryptedKey", "encrypted_key")!.Value,
            Field(root, true, "iv")!.Value,
            Field(root, true, "encryptedData", "encrypted_data")!.Value,
            algorithm?.GetString());
    }

    private static JsonElement? Field(JsonElement root, bool required, params string[] names)
    {
        foreach (var name in names)
        {
            if (root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null)
            {
                return value.ValueKind == JsonValueKind.String ? value
                    : throw EnvelopeDecryptor.InvalidEnvelope($"The envelope field '{names[0]}' must be a base64 string.");
            }
        }
        return required ? throw EnvelopeDecryptor.InvalidEnvelope($"The envelope has no '{names[0]}' field.") : null;
    }
}

/// <summary>
/// Opens a client-side encrypted upload: unwraps the AES-256 key with the server's RSA key (OAEP-SHA-256, then
/// OAEP-SHA-1 for the PHP SDK), then AES-256-GCM-decrypts the data whose last 16 bytes are the tag. Pure: no I/O.
/// </summary>
public static class EnvelopeDecryptor
{
    private const int KeyLength = 32;
    private const int NonceLength = 12;
    internal const int TagLength = 16;

    /// <summary>The plaintext, decrypted in place in the decoded ciphertext buffer.</summary>
    public static Memory<byte> Decrypt(EncryptedEnvelope envelope, RSA privateKey)
    {
        CheckAlgorithm(envelope.Algorithm);
        return Decrypt(envelope.Algorithm, envelope.EncryptedKey.GetString()!, envelope.Iv.GetString()!, Base64(envelope.EncryptedData, "encryptedData"), privateKey);
    }

    /// <summary>
    /// The plaintext, decrypted in place in <paramref name="data"/> (ciphertext then tag, already decoded from base64: an envelope
    /// read as a stream by <see cref="EnvelopeReader"/>).
    /// </summary>
    public static Memory<byte> Decrypt(string? algorithm, string encryptedKey, string iv, byte[] data, RSA privateKey)
    {
        CheckAlgorithm(algorithm);
        var wrappedKey = Base64(encryptedKey, "encryptedKey");
        var nonce = Base64(iv, "iv");
        if (nonce.Length != NonceLength)
        {
            throw InvalidEnvelope($"The envelope 'iv' must be {NonceLength} bytes, not {nonce.Length}.");
        }
        if (data.Length < TagLength)
        {
            throw InvalidEnvelope("The envelope 'encryptedData' is shorter than an AES-GCM tag.");
        }

        var key = UnwrapKey(wrappedKey, privateKey);
        try
        {
            using var aes = new AesGcm(key, TagLength);
            var ciphertext = data.AsSpan(0, data.Length - TagLength);
            aes.Decrypt(nonce, ciphertext, data.AsSpan(data.Length - TagLength), ciphertext);
            return data.AsMemory(0, data.Length - TagLength);
        }
        catch (CryptographicException)
        {
            throw DecryptionFailed("The encrypted image failed its integrity check (AES-GCM tag mismatch).");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private static byte[] UnwrapKey(byte[] wrappedKey, RSA privateKey)
    {
        foreach (var padding in new[] { RSAEncryptionPadding.OaepSHA256, RSAEncryptionPadding.OaepSHA1 })
        {
            try
            {
                var key = privateKey.Decrypt(wrappedKey, padding);
                if (key.Length == KeyLength)
                {
                    return key;
                }
                CryptographicOperations.ZeroMemory(key);
            }
            catch (CryptographicException)
            {
                // Wrong padding for this client or a key for another server: try the next, then fail.
            }
        }
        throw DecryptionFailed("The encrypted key could not be opened with this server's key (RSA-OAEP SHA-256 or SHA-1, 32-byte AES key). Fetch the key from /api/v1/encryption/server-key.");
    }

    private static void CheckAlgorithm(string? algorithm)
    {
        if (algorithm is not null && !string.Equals(algorithm, EncryptedEnvelope.DefaultAlgorithm, StringComparison.OrdinalIgnoreCase))
        {
            throw InvalidEnvelope($"Unsupported envelope algorithm '{algorithm}'; expected '{EncryptedEnvelope.DefaultAlgorithm}'.");
        }
    }

    private static byte[] Base64(string value, string field)
    {
        var bytes = new byte[value.Length / 4 * 3 + 3];
        return Convert.TryFromBase64String(value, bytes, out var written) ? bytes[..written] : throw InvalidEnvelope($"The envelope field '{field}' is not valid base64.");
    }

    private static byte[] Base64(JsonElement value, string field) =>
        value.TryGetBytesFromBase64(out var bytes) ? bytes : throw InvalidEnvelope($"The envelope field '{field}' is not valid base64.");

    internal static ApiException InvalidEnvelope(string message) => ApiException.BadRequest(message, "INVALID_ENVELOPE");

    private static ApiException DecryptionFailed(string message) => ApiException.BadRequest(message, "DECRYPTION_FAILED");
}
