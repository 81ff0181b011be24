using System.Security.Cryptography;
using System.Text.Json;
using Apertur.Server.Encryption;
using Apertur.Server.Hosting;
using Shouldly;

namespace Apertur.UnitTests.Encryption;

public sealed class EnvelopeDecryptorTests : IDisposable
{
    private static readonly byte[] Plaintext = [0xFF, 0xD8, 0xFF, 0xE0, .. "not really a jpeg, but bytes are bytes"u8];
    private readonly RSA _server = RSA.Create(2048);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Decrypt_Sha256OrPhpSha1_CamelOrSnake_GivesThePlaintext(bool sha1, bool snake)
    {
        var envelope = EncryptedEnvelope.FromJson(Envelope(Plaintext, sha1: sha1, snake: snake));
        EnvelopeDecryptor.Decrypt(envelope, _server).ToArray().ShouldBe(Plaintext);
    }

    [Fact]
    public void Decrypt_EmptyPlaintext_IsEmpty()
    {
        EnvelopeDecryptor.Decrypt(EncryptedEnvelope.FromJson(Envelope([])), _server).Length.ShouldBe(0);
    }

    [Fact]
    public void Decrypt_WithoutAlgorithmField_AssumesTheOnlyOne()
    {
        var json = Envelope(Plaintext, withAlgorithm: false);
        EnvelopeDecryptor.Decrypt(EncryptedEnvelope.FromJson(json), _server).ToArray().ShouldBe(Plaintext);
    }

    [Fact]
    public void Decrypt_TamperedTagOrData_FailsDecryption()
    {
        Code(Envelope(Plaintext, tamper: t => t[^1] ^= 1)).ShouldBe("DECRYPTION_FAILED");
        Code(Envelope(Plaintext, tamper: t => t[0] ^= 1)).ShouldBe("DECRYPTION_FAILED");
    }

    [Fact]
    public void Decrypt_KeyWrappedForAnotherServer_FailsDecryption()
    {
        using var other = RSA.Create(2048);
        Code(Envelope(Plaintext, wrapWith: other)).ShouldBe("DECRYPTION_FAILED");
    }

    [Fact]
    public void Decrypt_WrappedKeyOfWrongLength_FailsDecryption()
    {
        Code(Envelope(Plaintext, aesKeyLength: 16)).ShouldBe("DECRYPTION_FAILED");
    }

    [Theory]
    [InlineData("""{"encryptedKey":"AAAA","iv":"AAAA"}""")]
    [InlineData("""{"encryptedKey":"AAAA","encryptedData":"AAAA"}""")]
    [InlineData("""{"encryptedKey":1,"iv":"AAAA","encryptedData":"AAAA"}""")]
    [InlineData("""{"encryptedKey":"%%%","iv":"AAAAAAAAAAAAAAAA","encryptedData":"AAAAAAAAAAAAAAAAAAAAAAAA"}""")]
    [InlineData("""{"encryptedKey":"AAAA","iv":"AAAA","encryptedData":"AAAAAAAAAAAAAAAAAAAAAAAA"}""")]
    [InlineData("""{"encryptedKey":"AAAA","iv":"AAAAAAAAAAAAAAAA","encryptedData":"AAAA"}""")]
    [InlineData("""{"encryptedKey":"AAAA","iv":"AAAAAAAAAAAAAAAA","encryptedData":"AAAAAAAAAAAAAAAAAAAAAAAA","algorithm":"RSA+AES-CBC"}""")]
    [InlineData("""[1,2]""")]
    public void Decrypt_MalformedEnvelopes_AreInvalid(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var e = Should.Throw<ApiException>(() => EnvelopeDecryptor.Decrypt(EncryptedEnvelope.FromJson(doc.RootElement), _server));
        e.Status.ShouldBe(400);
        e.Code.ShouldBe("INVALID_ENVELOPE");
    }

    private string Code(JsonElement json) =>
        Should.Throw<ApiException>(() => EnvelopeDecryptor.Decrypt(EncryptedEnvelope.FromJson(json), _server)).Code;

    private JsonElement Envelope(byte[] plaintext, bool sha1 = false, bool snake = false, bool withAlgorithm = true,
        Action<byte[]>? tamper = null, RSA? wrapWith = null, int aesKeyLength = 32)
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var iv = RandomNumberGenerator.GetBytes(12);
        var data = new byte[plaintext.Length + 16];
        using (var aes = new AesGcm(key, 16))
        {
            aes.Encrypt(iv, plaintext, data.AsSpan(0, plaintext.Length), data.AsSpan(plaintext.Length));
        }
        tamper?.Invoke(data);
        var wrapped = (wrapWith ?? _server).Encrypt(key[..aesKeyLength], sha1 ? RSAEncryptionPadding.OaepSHA1 : RSAEncryptionPadding.OaepSHA256);
        var fields = new Dictionary<string, string>
        {
            [snake ? "encrypted_key" : "encryptedKey"] = Convert.ToBase64String(wrapped),
            ["iv"] = Convert.ToBase64String(iv),
            [snake ? "encrypted_data" : "encryptedData"] = Convert.ToBase64String(data),
        };
        if (withAlgorithm)
        {
            fields["algorithm"] = "RSA-OAEP+AES-256-GCM";
        }
        return JsonSerializer.SerializeToElement(fields);
    }

    public void Dispose() => _server.Dispose();
}
