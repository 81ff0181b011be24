using System.Net;
using System.Security.Cryptography;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Secrets;

public sealed class SecretsAtRestTests
{
    private const string MasterKeySetting = "Apertur:Secrets:MasterKey";

    private static string NewMasterKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Creates a session and reads its detail, which makes the server key (protected with Data Protection).</summary>
    private static async Task<(string Uuid, string PublicKey)> SessionWithServerKeyAsync(TestApp app)
    {
        var uuid = (await app.Client.CreateSessionAsync()).GetProperty("uuid").GetString()!;
        return (uuid, await PublicKeyAsync(app, uuid));
    }

    private static async Task<string> PublicKeyAsync(TestApp app, string uuid)
    {
        using var response = await app.Client.GetAsync($"/api/v1/upload/{uuid}/session");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (await response.ReadJsonAsync()).GetProperty("serverPublicKey").GetString()!;
    }

    private static async Task<List<string>> KeyRingAsync(TestApp app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AperturDb>().DataProtectionKeys.Select(k => k.Xml).ToListAsync();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task KeyRing_IsStoredEncryptedUnderAGeneratedMasterKeyFile(string db)
    {
        await using var app = await TestApp.StartAsync(db);
        await SessionWithServerKeyAsync(app);

        var ring = await KeyRingAsync(app);
        ring.ShouldNotBeEmpty();
        foreach (var xml in ring)
        {
            xml.ShouldNotContain("<masterKey");
            xml.ShouldContain("<encryptedKey algorithm=\"AES-256-GCM\"");
        }
        var file = Path.Combine(app.DataDirectory, "master.key");
        Convert.FromBase64String(await File.ReadAllTextAsync(file)).Length.ShouldBe(32);
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        Directory.GetFiles(app.DataDirectory, "*.tmp").ShouldBeEmpty();
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Restart_WithTheSameDataDirectory_ReadsTheKeyRing(string db)
    {
        await using var first = await TestApp.StartAsync(db);
        var (uuid, publicKey) = await SessionWithServerKeyAsync(first);
        var ring = await KeyRingAsync(first);

        await using var second = await first.StartAnotherAsync();
        // Reading the detail unprotects the server's private key with the stored Data Protection key.
        (await PublicKeyAsync(second, uuid)).ShouldBe(publicKey);
        (await KeyRingAsync(second)).ShouldBe(ring);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Restart_WithTheSameMasterKeySetting_ReadsTheKeyRingWithoutAFile(string db)
    {
        var settings = new Dictionary<string, string?> { [MasterKeySetting] = NewMasterKey() };
        await using var first = await TestApp.StartAsync(db, settings);
        var (uuid, publicKey) = await SessionWithServerKeyAsync(first);
        File.Exists(Path.Combine(first.DataDirectory, "master.key")).ShouldBeFalse();

        await using var second = await first.StartAnotherAsync();
        (await PublicKeyAsync(second, uuid)).ShouldBe(publicKey);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Start_WithAnotherMasterKey_FailsClearlyAndAddsNoKey(string db)
    {
        await using var first = await TestApp.StartAsync(db, new Dictionary<string, string?> { [MasterKeySetting] = NewMasterKey() });
        await SessionWithServerKeyAsync(first);
        var ring = await KeyRingAsync(first);

        var e = await Should.ThrowAsync<Exception>(() => first.StartAnotherAsync(new Dictionary<string, string?> { [MasterKeySetting] = NewMasterKey() }));
        var failure = e as CryptographicException ?? e.InnerException as CryptographicException ?? throw new ShouldAssertException($"not a key failure: {e}");
        failure.Message.ShouldContain("encrypted under master key");
        failure.Message.ShouldContain("Apertur:Secrets:MasterKey");
        (await KeyRingAsync(first)).ShouldBe(ring);
    }

    [Fact]
    public async Task Replicas_WithTheSameKeyFromAMasterKeyFile_ShareTheKeyRing_AndAnotherKeyFileIsRefused()
    {
        var key = NewMasterKey();
        await using var first = await TestApp.StartAsync(Databases.Postgres, new Dictionary<string, string?> { [MasterKeySetting] = key });
        var (uuid, publicKey) = await SessionWithServerKeyAsync(first);
        var secrets = Path.Combine(Path.GetTempPath(), "apertur-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(secrets);
        try
        {
            var same = Path.Combine(secrets, "same.key");
            await File.WriteAllTextAsync(same, key + "\n");
            await using (var replica = await first.StartAnotherAsync(new Dictionary<string, string?> { [MasterKeySetting] = "", [MasterKeySetting + "File"] = same }))
            {
                (await PublicKeyAsync(replica, uuid)).ShouldBe(publicKey);
            }

            var other = Path.Combine(secrets, "other.key");
            await File.WriteAllTextAsync(other, NewMasterKey());
            var e = await Should.ThrowAsync<Exception>(() => first.StartAnotherAsync(new Dictionary<string, string?> { [MasterKeySetting] = "", [MasterKeySetting + "File"] = other }));
            (e as CryptographicException ?? e.InnerException as CryptographicException ?? throw new ShouldAssertException($"not a key failure: {e}"))
                .Message.ShouldContain("encrypted under master key");

            var missing = await Should.ThrowAsync<Exception>(() => first.StartAnotherAsync(new Dictionary<string, string?>
            {
                [MasterKeySetting] = "",
                [MasterKeySetting + "File"] = Path.Combine(secrets, "missing.key"),
            }));
            (missing as InvalidOperationException ?? missing.InnerException as InvalidOperationException ?? throw new ShouldAssertException($"not a settings failure: {missing}"))
                .Message.ShouldContain("Apertur:Secrets:MasterKeyFile names");
        }
        finally
        {
            Directory.Delete(secrets, recursive: true);
        }
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAECAwQFBgcICQoLDA0ODw==")]
    public async Task Start_WithAMalformedMasterKey_FailsClearly(string value)
    {
        var e = await Should.ThrowAsync<Exception>(() => TestApp.StartAsync(Databases.Sqlite, new Dictionary<string, string?> { [MasterKeySetting] = value }));
        var failure = e as InvalidOperationException ?? e.InnerException as InvalidOperationException ?? throw new ShouldAssertException($"not a settings failure: {e}");
        failure.Message.ShouldContain("Apertur:Secrets:MasterKey must be base64 of 32 random bytes");
    }
}
