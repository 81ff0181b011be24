using Apertur.Destinations.Outbound;
using Apertur.Destinations.Sftp;
using Apertur.Destinations.Tests.Files;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Sftp;

/// <summary>The sftp adapter against OpenSSH's sshd on loopback; files are read back from the test user's home on disk.</summary>
public sealed class SftpDestinationTests : IDisposable
{
    private readonly (string Remote, string Local) _folder = LoopbackFiles.NewFolder();
    private readonly SftpDestination _sftp = new(FileKit.LoopbackGuard(), new ManualClock());

    public void Dispose()
    {
        _sftp.Dispose();
        LoopbackFiles.DeleteLocal(_folder.Local);
    }

    private object Password(string? password = null, string? template = null, string? dir = null, string? fingerprint = null) => new
    {
        host = "127.0.0.1",
        port = LoopbackFiles.SftpPort,
        username = LoopbackFiles.User,
        password = password ?? LoopbackFiles.Password,
        remote_dir = dir ?? _folder.Remote,
        path_template = template,
        host_key_fingerprint = fingerprint,
    };

    private object Key(string key, string? passphrase = null) => new
    {
        host = "127.0.0.1",
        port = LoopbackFiles.SftpPort,
        user = LoopbackFiles.User,
        private_key = LoopbackFiles.Key(key),
        passphrase,
        remote_dir = _folder.Remote,
    };

    private Task<DeliveryResult> DeliverAsync(object config, DeliveryImage image) =>
        _sftp.DeliverAsync(FileKit.Request(DestinationKinds.Sftp, FileKit.Config(config), image), CancellationToken.None);

    [Fact]
    public async Task DeliverAsync_Password_WritesTheBytesAtTheTemplatedPathCreatingFolders()
    {
        var bytes = FileKit.Bytes(300_000);
        var image = FileKit.Image(bytes, index: 3);

        var result = await DeliverAsync(Password(template: "{date:yyyy/MM}/{session_id}/{image_index} {tag:user}.{ext}"), image);

        var delivered = result.ShouldBeOfType<DeliveryResult.Delivered>();
        var relative = $"2026/11/{FileKit.SessionId}/3 42.jpg";
        File.ReadAllBytes(Path.Combine(_folder.Local, relative)).ShouldBe(bytes);
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBe([relative]);
        delivered.RemoteRef.ShouldBe($"sftp://{LoopbackFiles.User}@127.0.0.1:{LoopbackFiles.SftpPort}/~/{_folder.Remote}/2026/11/{FileKit.SessionId}/3%2042.jpg");
    }

    [Theory]
    [InlineData(LoopbackFiles.Ed25519, false)]
    [InlineData(LoopbackFiles.Ed25519WithPassphrase, true)]
    [InlineData(LoopbackFiles.EcdsaPem, false)]
    public async Task DeliverAsync_PrivateKey_LogsIn(string key, bool passphrase)
    {
        var bytes = FileKit.Bytes(10_000, seed: 7);

        var result = await DeliverAsync(Key(key, passphrase ? LoopbackFiles.KeyPassphrase : null), FileKit.Image(bytes, index: 0, mimeType: "image/webp"));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        File.ReadAllBytes(Path.Combine(_folder.Local, FileKit.SessionId.ToString(), "0.webp")).ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_Redelivery_OverwritesTheSameFile()
    {
        var id = Guid.CreateVersion7();
        var first = FileKit.Bytes(50_000, seed: 1);
        var second = FileKit.Bytes(20_000, seed: 2);

        (await DeliverAsync(Password(), FileKit.Image(first, id: id))).ShouldBeOfType<DeliveryResult.Delivered>();
        (await DeliverAsync(Password(), FileKit.Image(second, id: id))).ShouldBeOfType<DeliveryResult.Delivered>();

        LoopbackFiles.FilesUnder(_folder.Local).ShouldBe([$"{FileKit.SessionId}/3.jpg"]);
        File.ReadAllBytes(Path.Combine(_folder.Local, FileKit.SessionId.ToString(), "3.jpg")).ShouldBe(second);
    }

    [Fact]
    public async Task DeliverAsync_PinnedHostKey_Delivers()
    {
        var result = await DeliverAsync(Password(fingerprint: LoopbackFiles.SftpHostKeyFingerprint), FileKit.Image([1, 2, 3]));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
    }

    [Fact]
    public async Task DeliverAsync_OtherHostKey_RejectedAsHostKeyMismatch()
    {
        var other = "SHA256:" + Convert.ToBase64String(new byte[32]).TrimEnd('=');

        var result = await DeliverAsync(Password(fingerprint: other), FileKit.Image([1, 2, 3]));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith($"Host key mismatch at 127.0.0.1:{LoopbackFiles.SftpPort}");
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeliverAsync_WrongPassword_RejectedLoginFailed()
    {
        var result = await DeliverAsync(Password(password: "not-the-password"), FileKit.Image([1, 2, 3]));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith($"Login failed for user '{LoopbackFiles.User}' at 127.0.0.1:{LoopbackFiles.SftpPort}");
    }

    [Fact]
    public async Task DeliverAsync_UnknownKey_RejectedLoginFailed()
    {
        var result = await DeliverAsync(Key(LoopbackFiles.Stranger), FileKit.Image([1, 2, 3]));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith("Login failed");
    }

    [Fact]
    public async Task DeliverAsync_FolderItMayNotCreate_RejectedSayingSo()
    {
        var result = await DeliverAsync(Password(dir: "/apertur-no-such-root/photos"), FileKit.Image([1, 2, 3]));

        var reason = result.ShouldBeOfType<DeliveryResult.Rejected>().Reason;
        reason.ShouldContain("/apertur-no-such-root/photos");
        reason.ShouldContain("could not be created");
    }

    [Fact]
    public async Task DeliverAsync_NothingListening_RetriesLater()
    {
        var port = LoopbackFiles.ClosedPort();
        var config = new { host = "127.0.0.1", port, username = "u", password = "p" };

        var result = await DeliverAsync(config, FileKit.Image([1, 2, 3]));

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldStartWith($"Could not connect to 127.0.0.1:{port}");
    }

    [Fact]
    public async Task DeliverAsync_LoopbackNotAllowed_RejectedByTheGuardWithoutConnecting()
    {
        using var unguarded = new SftpDestination(new OutboundGuard(), new ManualClock());

        var result = await unguarded.DeliverAsync(FileKit.Request(DestinationKinds.Sftp, FileKit.Config(Password()), FileKit.Image([1])), CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith("Refused to connect to 127.0.0.1");
        Directory.Exists(_folder.Local).ShouldBeFalse();
    }

    [Fact]
    public async Task DeliverAsync_ImageLongerThanRecorded_RetriesWithoutClaimingSuccess()
    {
        var bytes = FileKit.Bytes(1000);
        var image = FileKit.Image(bytes) with { SizeBytes = 500 };

        var result = await DeliverAsync(Password(), image);

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldContain("longer than its recorded 500 bytes");
    }

    [Fact]
    public async Task DeliverAsync_Cancelled_Throws()
    {
        using var cancel = new CancellationTokenSource();
        var image = FileKit.Image(FileKit.Bytes(1000)) with
        {
            OpenReadAsync = _ =>
            {
                cancel.Cancel();
                return Task.FromResult<Stream>(new MemoryStream(new byte[1000]));
            },
        };

        await Should.ThrowAsync<OperationCanceledException>(() =>
            _sftp.DeliverAsync(FileKit.Request(DestinationKinds.Sftp, FileKit.Config(Password()), image), cancel.Token));
    }

    [Fact]
    public void Validate_BadConfig_SaysWhatToFix()
    {
        var problems = SftpDestination.Validate(FileKit.Config(new { host = "sftp://example.com", username = "u", host_key_fingerprint = "aa:bb", port = 70000 }));

        problems.ShouldContain(p => p.StartsWith("config.host must be a host name or IP address only", StringComparison.Ordinal));
        problems.ShouldContain(p => p.StartsWith("config.port must be a TCP port", StringComparison.Ordinal));
        problems.ShouldContain("config.password or config.private_key is required to log in.");
        problems.ShouldContain(p => p.StartsWith("config.host_key_fingerprint must be the SHA-256 fingerprint", StringComparison.Ordinal));
        SftpDestination.Validate(FileKit.Config(new { host = "h", username = "u", private_key = "ssh-ed25519 AAAA" }))
            .ShouldContain(p => p.StartsWith("config.private_key must be the text of a private key", StringComparison.Ordinal));
        SftpDestination.Validate(FileKit.Config(new { host = "h", user = "u", password = "p", remote_dir = "../up" }))
            .ShouldBe(["config.remote_dir must not contain '..'."]);
        SftpDestination.Validate(FileKit.Config(new { host = "files.example.com", user = "u", password = "p", host_key_fingerprint = LoopbackFiles.SftpHostKeyFingerprint })).ShouldBeEmpty();
    }
}
