using Apertur.Server.Destinations;
using Shouldly;

namespace Apertur.UnitTests.Destinations;

/// <summary>Every secret config key of the sftp, ftp and webdav adapters is encrypted at rest and masked; their other keys are not.</summary>
public sealed class FileServerSecretsTests
{
    private readonly DestinationConfigs _configs = new(new Microsoft.AspNetCore.DataProtection.EphemeralDataProtectionProvider(), ServerKinds.Registry);

    [Theory]
    [InlineData("sftp", "password", true)]
    [InlineData("sftp", "private_key", true)]
    [InlineData("sftp", "private_key_passphrase", true)]
    [InlineData("sftp", "passphrase", true)]
    [InlineData("sftp", "host_key_fingerprint", false)]
    [InlineData("sftp", "username", false)]
    [InlineData("sftp", "remote_dir", false)]
    [InlineData("sftp", "path_template", false)]
    [InlineData("ftp", "password", true)]
    [InlineData("ftp", "tls_certificate", false)]
    [InlineData("ftp", "tls_verify", false)]
    [InlineData("ftp", "username", false)]
    [InlineData("webdav", "password", true)]
    [InlineData("webdav", "pass", true)]
    [InlineData("webdav", "url", false)]
    [InlineData("webdav", "username", false)]
    [InlineData("webdav", "dir", false)]
    public void IsSecret_FileServerKeys(string kind, string name, bool secret) =>
        _configs.IsSecret(kind, name).ShouldBe(secret);
}
