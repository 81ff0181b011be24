using System.Text.Json;
using Apertur.Server.Destinations;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Shouldly;

namespace Apertur.UnitTests.Destinations;

public sealed class DestinationConfigsTests
{
    private readonly DestinationConfigs _configs = new(new EphemeralDataProtectionProvider(), ServerKinds.Registry);

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Theory]
    [InlineData("s3", "secret_access_key", true)]
    [InlineData("s3", "secretAccessKey", true)]
    [InlineData("s3", "access_key_id", false)]
    [InlineData("s3", "bucket", false)]
    [InlineData("s3", "key_template", false)]
    [InlineData("s3", "session_token", true)]
    [InlineData("s3", "endpoint", false)]
    [InlineData("s3", "sse_kms_key_id", false)]
    [InlineData("azure_blob", "sas_token", true)]
    [InlineData("azure_blob", "account_key", true)]
    [InlineData("azure_blob", "connection_string", true)]
    [InlineData("azure_blob", "account_name", false)]
    [InlineData("azure_blob", "container_name", false)]
    [InlineData("azure_blob", "blob_template", false)]
    [InlineData("sftp", "key", true)]
    [InlineData("sftp", "ssh_key", true)]
    [InlineData("sftp", "private-key", true)]
    [InlineData("sftp", "user", false)]
    [InlineData("ftp", "pass", true)]
    [InlineData("ftp", "host", false)]
    [InlineData("webdav", "password", true)]
    [InlineData("dropbox", "refresh_token", true)]
    [InlineData("google_drive", "credentials", true)]
    [InlineData("webhook", "url", false)]
    [InlineData("webhook", "format", false)]
    [InlineData("webhook", "client_secret", true)]
    public void IsSecret_KindListAndGenericRule(string kind, string name, bool secret) =>
        _configs.IsSecret(kind, name).ShouldBe(secret);

    [Fact]
    public void Protect_HidesEverySecretAtAnyDepth_RevealRestoresExactly()
    {
        var plain = Json("""{"bucket":"b","secret_access_key":"s3cr3t","nested":{"password":"p","port":22},"list":[{"token":{"a":1}}],"none":null,"password_hint":null}""");

        var stored = _configs.Protect("s3", plain);

        stored.ShouldNotContain("s3cr3t");
        stored.ShouldNotContain("\"p\"");
        stored.ShouldContain("\"$protected\"");
        stored.ShouldContain("\"bucket\":\"b\"");
        JsonSerializer.Serialize(_configs.Reveal(stored)).ShouldBe(JsonSerializer.Serialize(plain));
    }

    [Fact]
    public void Mask_ShowsStarsForSecrets_AndForPlainValuesUnderSecretNames()
    {
        var stored = _configs.Protect("s3", Json("""{"bucket":"b","secret_access_key":"s3cr3t","nested":{"password":"p"}}"""));
        var masked = _configs.Mask("s3", stored);
        masked.GetProperty("secret_access_key").GetString().ShouldBe("********");
        masked.GetProperty("nested").GetProperty("password").GetString().ShouldBe("********");
        masked.GetProperty("bucket").GetString().ShouldBe("b");

        // A row written without Protect (older data, hand edits) still never shows its secret.
        _configs.Mask("sftp", """{"host":"h","key":"-----BEGIN"}""").GetProperty("key").GetString().ShouldBe("********");
    }

    [Fact]
    public void Merge_MaskKeepsStoredCiphertext_NewValueReplaces_NullRemoves_AbsentKept()
    {
        var stored = _configs.Protect("s3", Json("""{"bucket":"b","region":"eu","secret_access_key":"old","nested":{"password":"p","x":1}}"""));
        var storedSecret = JsonDocument.Parse(stored).RootElement.GetProperty("secret_access_key").GetRawText();

        var kept = _configs.Merge("s3", stored, Json("""{"bucket":"b2","secret_access_key":"********","region":null,"nested":{"x":2}}"""));
        JsonDocument.Parse(kept).RootElement.GetProperty("secret_access_key").GetRawText().ShouldBe(storedSecret);
        JsonSerializer.Serialize(_configs.Reveal(kept))
            .ShouldBe("""{"bucket":"b2","secret_access_key":"old","nested":{"password":"p","x":2}}""");

        var replaced = _configs.Merge("s3", kept, Json("""{"secret_access_key":"new","session_token":"********"}"""));
        var revealed = _configs.Reveal(replaced);
        revealed.GetProperty("secret_access_key").GetString().ShouldBe("new");
        // A mask with nothing stored is never stored as if it were the secret.
        revealed.TryGetProperty("session_token", out _).ShouldBeFalse();
    }

    [Fact]
    public void ProtectAndMerge_RejectClientSuppliedProtectedMarkers()
    {
        var stored = _configs.Protect("s3", Json("""{"bucket":"b"}"""));
        Should.Throw<ApiException>(() => _configs.Protect("s3", Json("""{"bucket":{"$protected":"CfDJ8x"}}"""))).Status.ShouldBe(400);
        Should.Throw<ApiException>(() => _configs.Merge("s3", stored, Json("""{"a":[{"$protected":"CfDJ8x"}]}"""))).Status.ShouldBe(400);
    }

    [Fact]
    public void Reveal_WithAnotherKeyRing_Throws()
    {
        var stored = _configs.Protect("s3", Json("""{"secret_access_key":"s"}"""));
        var other = new DestinationConfigs(new EphemeralDataProtectionProvider(), ServerKinds.Registry);
        Should.Throw<System.Security.Cryptography.CryptographicException>(() => other.Reveal(stored));
    }
}
