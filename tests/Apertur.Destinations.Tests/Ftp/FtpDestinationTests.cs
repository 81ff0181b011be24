using Apertur.Destinations.Ftp;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Tests.Files;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Ftp;

/// <summary>The ftp adapter against vsftpd on loopback (plain, explicit FTPS, implicit FTPS); files are read back from disk.</summary>
public sealed class FtpDestinationTests : IDisposable
{
    private readonly (string Remote, string Local) _folder = LoopbackFiles.NewFolder();
    private readonly FtpDestination _ftp = new(FileKit.LoopbackGuard());

    public void Dispose() => LoopbackFiles.DeleteLocal(_folder.Local);

    private Dictionary<string, object?> Plain(string? password = null) => new()
    {
        ["host"] = "127.0.0.1",
        ["port"] = LoopbackFiles.FtpPort,
        ["username"] = LoopbackFiles.User,
        ["password"] = password ?? LoopbackFiles.Password,
        ["tls"] = "none",
        ["remote_dir"] = _folder.Remote,
    };

    private async Task<Dictionary<string, object?>> TlsAsync(bool @implicit, bool trust = true)
    {
        var config = Plain();
        config["tls"] = @implicit ? "implicit" : "explicit";
        config["port"] = @implicit ? LoopbackFiles.FtpsImplicitPort : LoopbackFiles.FtpsExplicitPort;
        if (trust)
        {
            config["tls_certificate"] = await LoopbackFiles.FtpsCertificatePemAsync(@implicit);
        }
        return config;
    }

    private Task<DeliveryResult> DeliverAsync(object config, DeliveryImage image, FtpDestination? ftp = null) =>
        (ftp ?? _ftp).DeliverAsync(FileKit.Request(DestinationKinds.Ftp, FileKit.Config(config), image), CancellationToken.None);

    [Fact]
    public async Task DeliverAsync_PlainFtp_WritesTheBytesAtTheTemplatedPathCreatingFolders()
    {
        var bytes = FileKit.Bytes(400_000);
        var config = Plain();
        config["path_template"] = "{date:yyyy-MM-dd}/{session_id}/{image_index}_{filename}";

        var result = await DeliverAsync(config, FileKit.Image(bytes, index: 2));

        var delivered = result.ShouldBeOfType<DeliveryResult.Delivered>();
        var relative = $"2026-11-01/{FileKit.SessionId}/2_IMG 0001.jpg";
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBe([relative]);
        File.ReadAllBytes(Path.Combine(_folder.Local, relative)).ShouldBe(bytes);
        delivered.RemoteRef.ShouldBe($"ftp://{LoopbackFiles.User}@127.0.0.1:{LoopbackFiles.FtpPort}/{_folder.Remote}/2026-11-01/{FileKit.SessionId}/2_IMG%200001.jpg");
        delivered.StatusCode.ShouldBe(226);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DeliverAsync_FtpsWithTheTrustedCertificate_Delivers(bool @implicit)
    {
        var bytes = FileKit.Bytes(200_000, seed: 3);

        var result = await DeliverAsync(await TlsAsync(@implicit), FileKit.Image(bytes, index: 1, mimeType: "image/heic"));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        File.ReadAllBytes(Path.Combine(_folder.Local, FileKit.SessionId.ToString(), "1.heic")).ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_SelfSignedCertificateNotTrusted_RejectedSayingHowToTrustIt()
    {
        var result = await DeliverAsync(await TlsAsync(@implicit: false, trust: false), FileKit.Image([1, 2, 3]));

        var reason = result.ShouldBeOfType<DeliveryResult.Rejected>().Reason;
        reason.ShouldStartWith($"The TLS certificate of 127.0.0.1:{LoopbackFiles.FtpsExplicitPort} is not trusted");
        reason.ShouldContain("tls_certificate");
        Directory.Exists(_folder.Local).ShouldBeFalse();
    }

    [Fact]
    public async Task DeliverAsync_TlsVerifyFalseSetExplicitly_Delivers()
    {
        var config = await TlsAsync(@implicit: false, trust: false);
        config["tls_verify"] = false;

        var result = await DeliverAsync(config, FileKit.Image([1, 2, 3]));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
    }

    [Fact]
    public async Task DeliverAsync_ExplicitTlsAgainstAPlainServer_RejectedNoTls()
    {
        var config = Plain();
        config["tls"] = "explicit";

        var result = await DeliverAsync(config, FileKit.Image([1, 2, 3]));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith($"127.0.0.1:{LoopbackFiles.FtpPort} does not offer TLS");
    }

    [Fact]
    public async Task DeliverAsync_Redelivery_OverwritesTheSameFile()
    {
        var id = Guid.CreateVersion7();
        var second = FileKit.Bytes(1000, seed: 9);

        (await DeliverAsync(Plain(), FileKit.Image(FileKit.Bytes(5000), id: id))).ShouldBeOfType<DeliveryResult.Delivered>();
        (await DeliverAsync(Plain(), FileKit.Image(second, id: id))).ShouldBeOfType<DeliveryResult.Delivered>();

        LoopbackFiles.FilesUnder(_folder.Local).ShouldBe([$"{FileKit.SessionId}/3.jpg"]);
        File.ReadAllBytes(Path.Combine(_folder.Local, FileKit.SessionId.ToString(), "3.jpg")).ShouldBe(second);
    }

    [Fact]
    public async Task DeliverAsync_ActiveMode_Delivers()
    {
        var config = Plain();
        config["passive"] = false;
        var bytes = FileKit.Bytes(70_000);

        (await DeliverAsync(config, FileKit.Image(bytes))).ShouldBeOfType<DeliveryResult.Delivered>();

        File.ReadAllBytes(Path.Combine(_folder.Local, FileKit.SessionId.ToString(), "3.jpg")).ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_WrongPassword_RejectedLoginFailed()
    {
        var result = await DeliverAsync(Plain(password: "wrong"), FileKit.Image([1, 2, 3]));

        var rejected = result.ShouldBeOfType<DeliveryResult.Rejected>();
        rejected.Reason.ShouldStartWith($"Login failed for user '{LoopbackFiles.User}' at 127.0.0.1:{LoopbackFiles.FtpPort}");
        rejected.StatusCode.ShouldBe(530);
    }

    [Fact]
    public async Task DeliverAsync_FolderItMayNotCreate_Rejected()
    {
        var config = Plain();
        config["remote_dir"] = "/apertur-no-such-root/photos";

        var result = await DeliverAsync(config, FileKit.Image([1, 2, 3]));

        var rejected = result.ShouldBeOfType<DeliveryResult.Rejected>();
        rejected.Reason.ShouldContain("refused to create or write /apertur-no-such-root/photos/");
        rejected.StatusCode.ShouldBe(550);
    }

    [Fact]
    public async Task DeliverAsync_NothingListening_RetriesLater()
    {
        var port = LoopbackFiles.ClosedPort();

        var result = await DeliverAsync(new { host = "127.0.0.1", port, username = "u", password = "p", tls = "none" }, FileKit.Image([1]));

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldStartWith($"Could not connect to 127.0.0.1:{port}");
    }

    [Fact]
    public async Task DeliverAsync_LoopbackNotAllowed_RejectedByTheGuard()
    {
        var result = await DeliverAsync(Plain(), FileKit.Image([1]), new FtpDestination(new OutboundGuard()));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith("Refused to connect to 127.0.0.1");
    }

    [Fact]
    public async Task DeliverAsync_PasvAnswerNamesAnotherHost_DataGoesToTheControlConnectionsAddress()
    {
        await using var server = await FakeFtpServer.StartAsync(passiveHost: "10,255,255,1");
        var bytes = FileKit.Bytes(30_000);

        var result = await DeliverAsync(new { host = "127.0.0.1", port = server.Port, username = "u", password = "p", tls = "none" }, FileKit.Image(bytes));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        server.Received.ShouldBe(bytes);
        server.Commands.ShouldContain("PASV");
    }

    [Fact]
    public void Validate_BadConfig_SaysWhatToFix()
    {
        var problems = FtpDestination.Validate(FileKit.Config(new { host = "ftp.example.com/photos", tls = "ssl", tls_certificate = "not a cert", passive = "maybe" }));

        problems.ShouldContain(p => p.StartsWith("config.host must be a host name", StringComparison.Ordinal));
        problems.ShouldContain("config.tls must be one of explicit, implicit, none (got 'ssl').");
        problems.ShouldContain("config.username is required: the FTP login.");
        problems.ShouldContain(p => p.StartsWith("config.tls_certificate must be a PEM certificate", StringComparison.Ordinal));
        problems.ShouldContain("config.passive must be true or false (got \"maybe\").");
    }

    [Fact]
    public void Warnings_PlainOrUnverified_SayWhy()
    {
        FtpConfig.Warnings(FileKit.Config(new { host = "h", user = "u", password = "p", tls = "none" })).ShouldBe([FtpConfig.ClearTextWarning]);
        FtpConfig.Warnings(FileKit.Config(new { host = "h", user = "u", password = "p", tls_verify = false })).ShouldBe([FtpConfig.NoVerifyWarning]);
        FtpConfig.Warnings(FileKit.Config(new { host = "h", user = "u", password = "p" })).ShouldBeEmpty();
    }
}
