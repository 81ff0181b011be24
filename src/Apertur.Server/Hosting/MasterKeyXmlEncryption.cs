using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;

namespace Apertur.Server.Hosting;

/// <summary>
/// Seals each Data Protection key element with the <see cref="MasterKey"/> before it is stored: the stored form is
/// <c>&lt;encryptedKey algorithm="AES-256-GCM" masterKeyFingerprint="…"&gt;&lt;value&gt;base64(nonce ‖ ciphertext ‖ tag)&lt;/value&gt;&lt;/encryptedKey&gt;</c>.
/// </summary>
public sealed class MasterKeyXmlEncryptor(MasterKey key) : IXmlEncryptor
{
    public const string ElementName = "encryptedKey";
    public const string Algorithm = "AES-256-GCM";

    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var element = new XElement(ElementName,
            new XAttribute("algorithm", Algorithm),
            new XAttribute("masterKeyFingerprint", key.Fingerprint),
            new XComment(" Sealed with the Apertur master key (Apertur:Secrets:MasterKey or {DataDirectory}/master.key). "),
            new XElement("value", Convert.ToBase64String(key.Seal(plaintext))));
        return new EncryptedXmlInfo(element, typeof(MasterKeyXmlDecryptor));
    }
}

/// <summary>Opens what <see cref="MasterKeyXmlEncryptor"/> sealed. Data Protection creates it by type name, with the app's services.</summary>
public sealed class MasterKeyXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        if (encryptedElement.Name != MasterKeyXmlEncryptor.ElementName || (string?)encryptedElement.Attribute("algorithm") != MasterKeyXmlEncryptor.Algorithm)
        {
            throw new System.Security.Cryptography.CryptographicException($"Expected an <{MasterKeyXmlEncryptor.ElementName} algorithm=\"{MasterKeyXmlEncryptor.Algorithm}\"> element.");
        }
        var sealedBytes = Convert.FromBase64String((string?)encryptedElement.Element("value") ?? "");
        var plaintext = services.GetRequiredService<MasterKey>().Open(sealedBytes, (string?)encryptedElement.Attribute("masterKeyFingerprint"));
        return XElement.Parse(Encoding.UTF8.GetString(plaintext));
    }
}
