using System.Security.Cryptography;
using System.Xml.Linq;
using Apertur.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.UnitTests.Secrets;

public sealed class MasterKeyTests
{
    private static MasterKey NewKey() => new(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public void SealOpen_RoundTrips_WithAFreshNonceEachTime()
    {
        var key = NewKey();
        var a = key.Seal("secret"u8);
        var b = key.Seal("secret"u8);
        a.ShouldNotBe(b);
        a.Length.ShouldBe(12 + 6 + 16);
        key.Open(a, key.Fingerprint).ShouldBe("secret"u8.ToArray());
    }

    [Fact]
    public void Open_AlteredData_FailsAuthentication()
    {
        var key = NewKey();
        var sealedBytes = key.Seal("secret"u8);
        sealedBytes[14] ^= 1;
        Should.Throw<CryptographicException>(() => key.Open(sealedBytes, key.Fingerprint)).Message.ShouldContain("altered");
    }

    [Fact]
    public void Open_UnderAnotherKey_NamesBothFingerprints()
    {
        var (one, other) = (NewKey(), NewKey());
        var e = Should.Throw<CryptographicException>(() => other.Open(one.Seal("secret"u8), one.Fingerprint));
        e.Message.ShouldContain(one.Fingerprint);
        e.Message.ShouldContain(other.Fingerprint);
    }

    [Fact]
    public void Fingerprint_IsStableAndDoesNotRevealTheKey()
    {
        var bytes = RandomNumberGenerator.GetBytes(32);
        var fingerprint = new MasterKey(bytes).Fingerprint;
        fingerprint.ShouldBe(new MasterKey(bytes).Fingerprint);
        fingerprint.ShouldMatch("^[0-9a-f]{16}$");
        Convert.ToHexStringLower(bytes).ShouldNotContain(fingerprint);
    }

    [Fact]
    public void XmlEncryptor_HidesTheElement_AndTheDecryptorRestoresIt()
    {
        var key = NewKey();
        var services = new ServiceCollection().AddSingleton(key).BuildServiceProvider();
        var plain = new XElement("masterKey", new XElement("value", "c2VjcmV0LWtleS1tYXRlcmlhbA=="));

        var info = new MasterKeyXmlEncryptor(key).Encrypt(plain);
        info.DecryptorType.ShouldBe(typeof(MasterKeyXmlDecryptor));
        info.EncryptedElement.Name.LocalName.ShouldBe("encryptedKey");
        info.EncryptedElement.ToString().ShouldNotContain("c2VjcmV0LWtleS1tYXRlcmlhbA==");

        var restored = new MasterKeyXmlDecryptor(services).Decrypt(info.EncryptedElement);
        XNode.DeepEquals(restored, plain).ShouldBeTrue();
    }
}
