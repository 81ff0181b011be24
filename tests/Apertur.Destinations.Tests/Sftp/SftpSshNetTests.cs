using System.Net;
using System.Net.Sockets;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Sftp;
using Apertur.Destinations.Tests.Files;
using Apertur.Tests;

namespace Apertur.Destinations.Tests.Sftp;

/// <summary>
/// What the sftp adapter does on SSH.NET beyond the older tests: RSA keys with SHA-2 signatures, keyboard-interactive
/// logins, encrypted keys, the SSRF guard for the connection test, the temporary name renamed into place, and the reuse of
/// logged-in connections. Against OpenSSH's sshd on loopback (scripts/services.sh); files are read back from disk.
/// </summary>
public sealed class SftpSshNetTests : IDisposable
{
    private readonly (string Remote, string Local) _folder = LoopbackFiles.NewFolder();
    private readonly ManualClock _clock = new();
    private readonly SftpDestination _sftp;

    public SftpSshNetTests() => _sftp = new SftpDestination(FileKit.LoopbackGuard(), _clock);

    public void Dispose()
    {
        _sftp.Dispose();
        LoopbackFiles.DeleteLocal(_folder.Local);
    }

    private object Password(int? port = null, string? password = null) => new
    {
        host = "127.0.0.1", port = port ?? LoopbackFiles.SftpPort, username = LoopbackFiles.User, password = password ?? LoopbackFiles.Password,
        remote_dir = _folder.Remote,
    };

    private object Key(string key, int? port = null, string? passphrase = null) => new
    {
        host = "127.0.0.1", port = port ?? LoopbackFiles.SftpPort, username = LoopbackFiles.User, private_key = LoopbackFiles.Key(key),
        private_key_passphrase = passphrase, remote_dir = _folder.Remote,
    };

    private Task<DeliveryResult> DeliverAsync(object config, DeliveryImage image) =>
        _sftp.DeliverAsync(FileKit.Request(DestinationKinds.Sftp, FileKit.Config(config), image), CancellationToken.None);

    private string Delivered(string name = "3.jpg") => Path.Combine(_folder.Local, FileKit.SessionId.ToString(), name);

    [Theory]
    [InlineData("any SHA-2 (OpenSSH's default, which refuses ssh-rsa)")]
    [InlineData("rsa-sha2-256 only")]
    [InlineData("rsa-sha2-512 only")]
    public async Task DeliverAsync_RsaKey_SignsWithSha2(string server)
    {
        var port = server switch
        {
            "rsa-sha2-256 only" => LoopbackFiles.SftpRsaSha256Port,
            "rsa-sha2-512 only" => LoopbackFiles.SftpRsaSha512Port,
            _ => LoopbackFiles.SftpPort,
        };
        var bytes = FileKit.Bytes(20_000, seed: 3);

        var result = await DeliverAsync(Key(LoopbackFiles.Rsa, port), FileKit.Image(bytes));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        File.ReadAllBytes(Delivered()).ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_KeyboardInteractiveOnlyServer_AnswersThePasswordPrompt()
    {
        var bytes = FileKit.Bytes(5_000, seed: 4);

        var result = await DeliverAsync(Password(LoopbackFiles.SftpKeyboardInteractivePort), FileKit.Image(bytes));

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        File.ReadAllBytes(Delivered()).ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_KeyboardInteractiveWrongPassword_RejectedLoginFailed()
    {
        var result = await DeliverAsync(Password(LoopbackFiles.SftpKeyboardInteractivePort, password: "wrong"), FileKit.Image([1]));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith(
            $"Login failed for user '{LoopbackFiles.User}' at 127.0.0.1:{LoopbackFiles.SftpKeyboardInteractivePort}");
    }

    [Fact]
    public async Task DeliverAsync_EncryptedKeyWithoutOrWithWrongPassphrase_RejectedSayingWhy()
    {
        var missing = await DeliverAsync(Key(LoopbackFiles.Ed25519WithPassphrase), FileKit.Image([1]));
        var wrong = await DeliverAsync(Key(LoopbackFiles.Ed25519WithPassphrase, passphrase: "not-the-passphrase"), FileKit.Image([1]));

        missing.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldBe(
            $"Login failed for user '{LoopbackFiles.User}' at 127.0.0.1:{LoopbackFiles.SftpPort}: the private key is encrypted and no private_key_passphrase is set");
        wrong.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith(
            $"Login failed for user '{LoopbackFiles.User}' at 127.0.0.1:{LoopbackFiles.SftpPort}: the private key could not be read, or private_key_passphrase is wrong");
    }

    [Fact]
    public async Task DeliverAsync_WrongHostKeyFingerprint_RejectedNamingTheServersKey()
    {
        var config = new
        {
            host = "127.0.0.1", port = LoopbackFiles.SftpPort, username = LoopbackFiles.User, password = LoopbackFiles.Password, remote_dir = _folder.Remote,
            host_key_fingerprint = "SHA256:" + Convert.ToBase64String(Enumerable.Repeat((byte)7, 32).ToArray()).TrimEnd('='),
        };

        var result = await DeliverAsync(config, FileKit.Image([1, 2, 3]));

        result.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldBe(
            $"Host key mismatch at 127.0.0.1:{LoopbackFiles.SftpPort}: the server's key is {LoopbackFiles.SftpHostKeyFingerprint}, not the configured " +
            "host_key_fingerprint, so the connection was refused. If the server's key was changed on purpose, update host_key_fingerprint.");
        Directory.Exists(_folder.Local).ShouldBeFalse();
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task TestAsync_LoopbackNotAllowed_RefusedByTheGuardWithoutConnecting(string host)
    {
        using var unguarded = new SftpDestination(new OutboundGuard(), _clock);
        var config = new { host, port = LoopbackFiles.SftpPort, username = LoopbackFiles.User, password = LoopbackFiles.Password, remote_dir = _folder.Remote };

        var test = await unguarded.TestAsync(FileKit.Target(DestinationKinds.Sftp, FileKit.Config(config)), new ProjectSigning("x", null), CancellationToken.None);
        var delivery = await unguarded.DeliverAsync(FileKit.Request(DestinationKinds.Sftp, FileKit.Config(config), FileKit.Image([1])), CancellationToken.None);

        test.Success.ShouldBeFalse();
        test.Message.ShouldStartWith($"Refused to connect to {host}");
        delivery.ShouldBeOfType<DeliveryResult.Rejected>().Reason.ShouldStartWith($"Refused to connect to {host}");
        Directory.Exists(_folder.Local).ShouldBeFalse();
    }

    [Fact]
    public async Task DeliverAsync_WhileUploading_OnlyTheTemporaryNameExists()
    {
        var bytes = FileKit.Bytes(2_000_000, seed: 9);
        var slow = new PausingStream(bytes, pauseAfter: 600_000);
        var image = FileKit.Image(bytes) with { OpenReadAsync = _ => Task.FromResult<Stream>(slow) };
        var request = FileKit.Request(DestinationKinds.Sftp, FileKit.Config(Password()), image);

        var delivery = _sftp.DeliverAsync(request, CancellationToken.None);
        await slow.Paused.WaitAsync(TimeSpan.FromMinutes(1));
        var whileUploading = LoopbackFiles.FilesUnder(_folder.Local);
        slow.Resume();
        var result = await delivery;

        whileUploading.ShouldBe([$"{FileKit.SessionId}/.3.jpg.part-{request.DeliveryId:N}"]);
        result.ShouldBeOfType<DeliveryResult.Delivered>();
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBe([$"{FileKit.SessionId}/3.jpg"]);
        File.ReadAllBytes(Delivered()).ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_Redelivery_KeepsTheWholeOldFileUntilTheNewOneIsComplete()
    {
        var old = FileKit.Bytes(300_000, seed: 1);
        var id = Guid.CreateVersion7();
        (await DeliverAsync(Password(), FileKit.Image(old, id: id))).ShouldBeOfType<DeliveryResult.Delivered>();
        var bytes = FileKit.Bytes(1_000_000, seed: 2);
        var slow = new PausingStream(bytes, pauseAfter: 400_000);
        var image = FileKit.Image(bytes, id: id) with { OpenReadAsync = _ => Task.FromResult<Stream>(slow) };

        var delivery = _sftp.DeliverAsync(FileKit.Request(DestinationKinds.Sftp, FileKit.Config(Password()), image), CancellationToken.None);
        await slow.Paused.WaitAsync(TimeSpan.FromMinutes(1));
        var whileUploading = File.ReadAllBytes(Delivered());
        slow.Resume();
        var result = await delivery;

        whileUploading.ShouldBe(old);
        result.ShouldBeOfType<DeliveryResult.Delivered>();
        File.ReadAllBytes(Delivered()).ShouldBe(bytes);
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBe([$"{FileKit.SessionId}/3.jpg"]);
    }

    [Fact]
    public async Task DeliverAsync_SourceStallsPastTheTimeout_TimesOutAndTheRetryReplacesTheLeftover()
    {
        // The upload runs on a thread of its own and does not watch a token: the attempt's end must close the connection
        // under it and answer without waiting for the stuck read. A real 10 s timeout (the clock's timers are real ones).
        using var sftp = new SftpDestination(FileKit.LoopbackGuard(), _clock, TimeSpan.FromSeconds(10));
        var bytes = FileKit.Bytes(1_000_000, seed: 5);
        var stalled = new PausingStream(bytes, pauseAfter: 300_000);
        var request = FileKit.Request(DestinationKinds.Sftp, FileKit.Config(Password()),
            FileKit.Image(bytes) with { OpenReadAsync = _ => Task.FromResult<Stream>(stalled) });

        var delivery = sftp.DeliverAsync(request, CancellationToken.None);
        await stalled.Paused.WaitAsync(TimeSpan.FromMinutes(1));
        var result = await delivery.WaitAsync(TimeSpan.FromMinutes(1));
        stalled.Resume();
        var retry = await sftp.DeliverAsync(request with { Image = FileKit.Image(bytes) }, CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldStartWith($"Timed out talking to 127.0.0.1:{LoopbackFiles.SftpPort}");
        retry.ShouldBeOfType<DeliveryResult.Delivered>();
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBe([$"{FileKit.SessionId}/3.jpg"]);
        File.ReadAllBytes(Delivered()).ShouldBe(bytes);
    }

    [Fact]
    public async Task DeliverAsync_ImageFailsHalfway_RemovesTheTemporaryFile()
    {
        var image = FileKit.Image(FileKit.Bytes(200_000)) with { SizeBytes = 100_000 };

        var result = await DeliverAsync(Password(), image);

        result.ShouldBeOfType<DeliveryResult.RetryLater>().Reason.ShouldBe("Could not read the image: it is longer than its recorded 100000 bytes");
        Directory.Exists(Path.Combine(_folder.Local, FileKit.SessionId.ToString())).ShouldBeTrue();
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBeEmpty();
    }

    [Fact]
    public async Task DeliverAsync_SameDestination_ReusesTheLoggedInConnectionUntilIdleTooLong()
    {
        var target = FileKit.Target(DestinationKinds.Sftp, FileKit.Config(Password()));
        DeliveryRequest Request(int index) => new(Guid.CreateVersion7(), 1, FileKit.Image([(byte)index], index: index), target, new ProjectSigning("x", null));

        (await _sftp.DeliverAsync(Request(1), CancellationToken.None)).ShouldBeOfType<DeliveryResult.Delivered>();
        var first = _sftp.Pool.Take(new SftpConnectionPool.Key(target.Id, Config(target)));
        first.ShouldNotBeNull();
        _sftp.Pool.Return(new SftpConnectionPool.Key(target.Id, Config(target)), first);
        (await _sftp.DeliverAsync(Request(2), CancellationToken.None)).ShouldBeOfType<DeliveryResult.Delivered>();
        var second = _sftp.Pool.Take(new SftpConnectionPool.Key(target.Id, Config(target)));
        _sftp.Pool.Return(new SftpConnectionPool.Key(target.Id, Config(target)), second!);
        _clock.Advance(SftpConnectionPool.IdleTimeout);
        _sftp.Pool.Sweep();

        second.ShouldBeSameAs(first);
        _sftp.Pool.IdleCount.ShouldBe(0);
        first.IsConnected.ShouldBeFalse();
        File.ReadAllBytes(Delivered("1.jpg")).ShouldBe([1]);
        File.ReadAllBytes(Delivered("2.jpg")).ShouldBe([2]);
    }

    [Fact]
    public async Task DeliverAsync_IdleConnectionFoundClosed_DeliversOnAFreshOne()
    {
        var target = FileKit.Target(DestinationKinds.Sftp, FileKit.Config(Password()));
        var key = new SftpConnectionPool.Key(target.Id, Config(target));
        DeliveryRequest Request(int index) => new(Guid.CreateVersion7(), 1, FileKit.Image([(byte)index], index: index), target, new ProjectSigning("x", null));
        (await _sftp.DeliverAsync(Request(1), CancellationToken.None)).ShouldBeOfType<DeliveryResult.Delivered>();
        var stale = _sftp.Pool.Take(key)!;
        stale.Client.Disconnect();
        _sftp.Pool.Return(key, stale);

        var result = await _sftp.DeliverAsync(Request(2), CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        File.ReadAllBytes(Delivered("2.jpg")).ShouldBe([2]);
    }

    [Fact]
    public async Task DeliverAsync_ReusedConnectionBreaksMidway_DeliversOnceMoreOnAFreshOne()
    {
        await using var proxy = CuttableProxy.Start(LoopbackFiles.SftpPort);
        var target = FileKit.Target(DestinationKinds.Sftp, FileKit.Config(new
        {
            host = "127.0.0.1", port = proxy.Port, username = LoopbackFiles.User, password = LoopbackFiles.Password, remote_dir = _folder.Remote,
        }));
        DeliveryRequest Request(int index) => new(Guid.CreateVersion7(), 1, FileKit.Image([(byte)index], index: index), target, new ProjectSigning("x", null));
        (await _sftp.DeliverAsync(Request(1), CancellationToken.None)).ShouldBeOfType<DeliveryResult.Delivered>();
        proxy.CutOnNextRequest();

        var result = await _sftp.DeliverAsync(Request(2), CancellationToken.None);

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        proxy.Accepted.ShouldBe(2);
        File.ReadAllBytes(Delivered("2.jpg")).ShouldBe([2]);
        LoopbackFiles.FilesUnder(_folder.Local).ShouldBe([$"{FileKit.SessionId}/1.jpg", $"{FileKit.SessionId}/2.jpg"]);
    }

    /// <summary>
    /// A loopback TCP relay to sshd that can drop the open connections the moment the client next sends something: a
    /// connection that looks alive to the client and breaks under its next request.
    /// </summary>
    private sealed class CuttableProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly int _target;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Socket> _sockets = [];
        private volatile bool _cut;
        private int _accepted;
        private Task _accepting = Task.CompletedTask;

        private CuttableProxy(int target) => _target = target;

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        /// <summary>How many connections the client opened.</summary>
        public int Accepted => Volatile.Read(ref _accepted);

        public static CuttableProxy Start(int target)
        {
            var proxy = new CuttableProxy(target);
            proxy._listener.Start();
            proxy._accepting = proxy.AcceptAsync();
            return proxy;
        }

        /// <summary>The connections open now are dropped (reset) when the client next writes to them.</summary>
        public void CutOnNextRequest() => _cut = true;

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await _listener.AcceptSocketAsync(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                Interlocked.Increment(ref _accepted);
                var server = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await server.ConnectAsync(IPAddress.Loopback, _target);
                lock (_sockets)
                {
                    _sockets.Add(client);
                    _sockets.Add(server);
                }
                var cuttable = !_cut;
                _ = PumpAsync(client, server, cuttable);
                _ = PumpAsync(server, client, cuttable: false);
            }
        }

        private async Task PumpAsync(Socket from, Socket to, bool cuttable)
        {
            var buffer = new byte[64 * 1024];
            try
            {
                int read;
                while ((read = await from.ReceiveAsync(buffer, _stop.Token)) > 0)
                {
                    if (cuttable && _cut)
                    {
                        from.LingerState = new LingerOption(true, 0);
                        to.LingerState = new LingerOption(true, 0);
                        from.Close();
                        to.Close();
                        return;
                    }
                    await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
                }
                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // The other side went away, or the proxy stops.
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            lock (_sockets)
            {
                foreach (var socket in _sockets)
                {
                    socket.Dispose();
                }
            }
            await _accepting;
            _stop.Dispose();
        }
    }

    private static SftpConfig Config(DestinationTarget target) =>
        SftpConfig.TryParse(target.Config, out var config, out _) ? config : throw new InvalidOperationException("bad config");
}
