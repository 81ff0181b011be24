using Apertur.Destinations.Ftp;
using Apertur.Destinations.Tests.Files;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Ftp;

/// <summary>The "test connection" answers of the ftp adapter, against vsftpd on loopback.</summary>
public sealed class FtpConnectionTestTests : IDisposable
{
    private readonly (string Remote, string Local) _folder = LoopbackFiles.NewFolder();
    private readonly FtpDestination _ftp = new(FileKit.LoopbackGuard());

    public void Dispose() => LoopbackFiles.DeleteLocal(_folder.Local);

    private Task<ConnectionTestResult> TestAsync(object config) =>
        _ftp.TestAsync(FileKit.Target(DestinationKinds.Ftp, FileKit.Config(config)), new ProjectSigning("x", null), CancellationToken.None);

    [Fact]
    public async Task TestAsync_GoodFtpsConfig_WritesAndDeletesAProbe()
    {
        var result = await TestAsync(new
        {
            host = "127.0.0.1", port = LoopbackFiles.FtpsExplicitPort, username = LoopbackFiles.User, password = LoopbackFiles.Password,
            tls_certificate = await LoopbackFiles.FtpsCertificatePemAsync(@implicit: false), remote_dir = _folder.Remote,
        });

        result.Success.ShouldBeTrue(result.Message);
        result.Message.ShouldBe($"Logged in to 127.0.0.1:{LoopbackFiles.FtpsExplicitPort} as {LoopbackFiles.User} and wrote a test file in {_folder.Remote}. " +
            "The connection uses TLS (explicit) with a verified certificate.");
        Directory.Exists(_folder.Local).ShouldBeTrue();
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBeEmpty();
    }

    [Fact]
    public async Task TestAsync_GoodPlainConfig_SucceedsWithTheClearTextWarning()
    {
        var result = await TestAsync(new { host = "127.0.0.1", port = LoopbackFiles.FtpPort, user = LoopbackFiles.User, password = LoopbackFiles.Password, tls = "none", remote_dir = _folder.Remote });

        result.Success.ShouldBeTrue(result.Message);
        result.Message.ShouldEndWith(FtpConfig.ClearTextWarning);
    }

    [Fact]
    public async Task TestAsync_WrongPassword_FailsLoginFailed()
    {
        var result = await TestAsync(new { host = "127.0.0.1", port = LoopbackFiles.FtpPort, username = LoopbackFiles.User, password = "wrong", tls = "none" });

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith($"Login failed for user '{LoopbackFiles.User}' at 127.0.0.1:{LoopbackFiles.FtpPort}");
    }

    [Fact]
    public async Task TestAsync_MissingFolderItCannotCreate_FailsNamingIt()
    {
        var result = await TestAsync(new { host = "127.0.0.1", port = LoopbackFiles.FtpPort, username = LoopbackFiles.User, password = LoopbackFiles.Password, tls = "none", remote_dir = "/apertur-no-such-root" });

        result.Success.ShouldBeFalse();
        result.Message.ShouldContain("refused to create or write /apertur-no-such-root/");
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
