using Apertur.Destinations.Sftp;
using Apertur.Destinations.Tests.Files;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Sftp;

/// <summary>The "test connection" answers of the sftp adapter, against sshd on loopback.</summary>
public sealed class SftpConnectionTestTests : IDisposable
{
    private readonly (string Remote, string Local) _folder = LoopbackFiles.NewFolder();
    private readonly SftpDestination _sftp = new(FileKit.LoopbackGuard(), new ManualClock());

    public void Dispose()
    {
        _sftp.Dispose();
        LoopbackFiles.DeleteLocal(_folder.Local);
    }

    private Task<ConnectionTestResult> TestAsync(object config) =>
        _sftp.TestAsync(FileKit.Target(DestinationKinds.Sftp, FileKit.Config(config)), new ProjectSigning("x", null), CancellationToken.None);

    [Fact]
    public async Task TestAsync_GoodConfig_WritesAndRemovesAProbeAndReportsTheHostKey()
    {
        var result = await TestAsync(new { host = "127.0.0.1", port = LoopbackFiles.SftpPort, username = LoopbackFiles.User, password = LoopbackFiles.Password, remote_dir = _folder.Remote + "/in" });

        result.Success.ShouldBeTrue(result.Message);
        result.Message.ShouldBe($"Logged in to 127.0.0.1:{LoopbackFiles.SftpPort} as {LoopbackFiles.User} and wrote a test file in {_folder.Remote}/in. " +
            $"The host key is {LoopbackFiles.SftpHostKeyFingerprint}; set host_key_fingerprint to it so that another key is refused.");
        Directory.Exists(Path.Combine(_folder.Local, "in")).ShouldBeTrue();
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBeEmpty();
    }

    [Fact]
    public async Task TestAsync_KeyAndPinnedHostKey_Succeeds()
    {
        var result = await TestAsync(new
        {
            host = "127.0.0.1", port = LoopbackFiles.SftpPort, username = LoopbackFiles.User, private_key = LoopbackFiles.Key(LoopbackFiles.Ed25519),
            host_key_fingerprint = LoopbackFiles.SftpHostKeyFingerprint, remote_dir = _folder.Remote,
        });

        result.Success.ShouldBeTrue(result.Message);
        result.Message.ShouldEndWith("The host key matches host_key_fingerprint.");
    }

    [Fact]
    public async Task TestAsync_WrongPassword_FailsLoginFailed()
    {
        var result = await TestAsync(new { host = "127.0.0.1", port = LoopbackFiles.SftpPort, username = LoopbackFiles.User, password = "wrong", remote_dir = _folder.Remote });

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith($"Login failed for user '{LoopbackFiles.User}'");
    }

    [Fact]
    public async Task TestAsync_WrongKey_FailsLoginFailed()
    {
        var result = await TestAsync(new { host = "127.0.0.1", port = LoopbackFiles.SftpPort, username = LoopbackFiles.User, private_key = LoopbackFiles.Key(LoopbackFiles.Stranger) });

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith("Login failed");
    }

    [Fact]
    public async Task TestAsync_HostKeyMismatch_FailsSayingSo()
    {
        var result = await TestAsync(new
        {
            host = "127.0.0.1", port = LoopbackFiles.SftpPort, username = LoopbackFiles.User, password = LoopbackFiles.Password,
            host_key_fingerprint = "SHA256:" + Convert.ToBase64String(new byte[32]).TrimEnd('='),
        });

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith("Host key mismatch");
    }

    [Fact]
    public async Task TestAsync_MissingFolderItCannotCreate_FailsNamingIt()
    {
        var result = await TestAsync(new { host = "127.0.0.1", port = LoopbackFiles.SftpPort, username = LoopbackFiles.User, password = LoopbackFiles.Password, remote_dir = "/apertur-no-such-root" });

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith("The folder /apertur-no-such-root does not exist");
    }

    [Fact]
    public async Task TestAsync_UnreachableHost_FailsCouldNotConnect()
    {
        var port = LoopbackFiles.ClosedPort();

        var result = await TestAsync(new { host = "127.0.0.1", port, username = "u", password = "p" });

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith($"Could not connect to 127.0.0.1:{port}");
    }
}
