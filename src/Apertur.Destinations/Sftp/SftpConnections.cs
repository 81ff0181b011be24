using System.Net.Sockets;
using System.Text;
using Apertur.Destinations.Outbound;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Apertur.Destinations.Sftp;

/// <summary>
/// One logged-in SFTP connection (SSH.NET) and the credentials it was opened with, disposed together. It was opened to an
/// address the SSRF guard checked, with the server's host key checked against <c>host_key_fingerprint</c> when one is set.
/// </summary>
internal sealed class SftpConnection : IDisposable
{
    private readonly AuthenticationMethod[] _methods;
    private int _disposed;

    private SftpConnection(SftpClient client, AuthenticationMethod[] methods, string hostKey)
    {
        Client = client;
        _methods = methods;
        HostKeySha256 = hostKey;
    }

    public SftpClient Client { get; }

    /// <summary>The server's host key as <c>ssh-keygen -l</c> prints it (<c>SHA256:…</c>).</summary>
    public string HostKeySha256 { get; }

    public bool IsConnected => Volatile.Read(ref _disposed) == 0 && Client.IsConnected;

    /// <summary>
    /// Resolves the host through the guard and connects to a checked address (the name is never resolved again), checks the
    /// host key and logs in with the configured credentials only: a password (also answering keyboard-interactive password
    /// prompts) and/or the private key; never an agent or this server's own keys.
    /// </summary>
    /// <exception cref="OutboundBlockedException">The host resolves only to addresses the guard refuses.</exception>
    /// <exception cref="SftpKeyException">The private key cannot be read (malformed, or a wrong or missing passphrase).</exception>
    /// <exception cref="SftpHostKeyMismatchException">The server's host key is not the pinned one.</exception>
    public static async Task<SftpConnection> OpenAsync(OutboundGuard guard, SftpConfig config, TimeSpan timeout, CancellationToken ct)
    {
        var addresses = await guard.ResolveAsync(config.Host, ct).ConfigureAwait(false);
        var methods = Methods(config);
        try
        {
            for (var i = 0; ; i++)
            {
                var info = new ConnectionInfo(addresses[i].ToString(), config.Port, config.Username, methods) { Timeout = timeout };
                Prefer(info);
                var client = new SftpClient(info) { OperationTimeout = timeout };
                string? seen = null;
                client.HostKeyReceived += (_, e) =>
                {
                    seen = "SHA256:" + e.FingerPrintSHA256;
                    e.CanTrust = config.HostKeySha256 is null || string.Equals(e.FingerPrintSHA256, config.HostKeySha256, StringComparison.Ordinal);
                };
                try
                {
                    await client.ConnectAsync(ct).ConfigureAwait(false);
                    return new SftpConnection(client, methods, seen!);
                }
                catch (Exception e)
                {
                    client.Dispose();
                    if (seen is not null && config.HostKeySha256 is not null && seen != "SHA256:" + config.HostKeySha256)
                    {
                        throw new SftpHostKeyMismatchException(seen, e);
                    }
                    if (e is not SocketException || i == addresses.Length - 1)
                    {
                        throw;
                    }
                }
            }
        }
        catch
        {
            Dispose(methods);
            throw;
        }
    }

    /// <summary>
    /// Orders what SSH.NET offers for less CPU per connection and per byte, keeping everything it offers (docs/performance.md
    /// "azure_blob and sftp on the vendors' libraries"):
    /// <list type="bullet">
    /// <item>key exchange: ML-KEM hybrid first (post-quantum, OpenSSH 9.9 and later), then curve25519, the exchange libssh2
    /// used before, and only then sntrup761, which SSH.NET computes in managed code at about 85 ms of CPU per connection
    /// against 17 ms for curve25519;</item>
    /// <item>cipher: AES-GCM first, which .NET runs on the processor's AES instructions with no separate MAC, where SSH.NET's
    /// first choice is aes-ctr with an HMAC.</item>
    /// </list>
    /// </summary>
    private static void Prefer(ConnectionInfo info)
    {
        Prefer(info.KeyExchangeAlgorithms, ["mlkem768x25519-sha256", "curve25519-sha256", "curve25519-sha256@libssh.org"]);
        Prefer(info.Encryptions, ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"]);
    }

    private static void Prefer<T>(IOrderedDictionary<string, T> offered, string[] preferred)
    {
        var position = 0;
        foreach (var name in preferred.Where(offered.ContainsKey))
        {
            offered.SetPosition(name, position++);
        }
    }

    private static AuthenticationMethod[] Methods(SftpConfig config)
    {
        var methods = new List<AuthenticationMethod>();
        if (config.PrivateKey is not null)
        {
            try
            {
                var text = config.PrivateKey.Replace("\r\n", "\n", StringComparison.Ordinal).Trim() + "\n";
                using var pem = new MemoryStream(Encoding.UTF8.GetBytes(text));
                methods.Add(new PrivateKeyAuthenticationMethod(config.Username, new PrivateKeyFile(pem, config.Passphrase)));
            }
            catch (Exception e) when (e is SshException or InvalidOperationException or ArgumentException or FormatException or System.Security.Cryptography.CryptographicException)
            {
                throw new SftpKeyException(config.Passphrase is null && e is SshPassPhraseNullOrEmptyException
                    ? "the private key is encrypted and no private_key_passphrase is set"
                    : $"the private key could not be read, or private_key_passphrase is wrong: {e.Message}", e);
            }
        }
        if (config.Password is { } password)
        {
            methods.Add(new PasswordAuthenticationMethod(config.Username, password));
            var interactive = new KeyboardInteractiveAuthenticationMethod(config.Username);
            // Servers that log in through PAM ask for the password as a hidden prompt; anything shown in clear gets no answer.
            interactive.AuthenticationPrompt += (_, e) =>
            {
                foreach (var prompt in e.Prompts)
                {
                    prompt.Response = prompt.IsEchoed ? "" : password;
                }
            };
            methods.Add(interactive);
        }
        return [.. methods];
    }

    /// <summary>Closes the connection; safe to call again and from another thread (an attempt's end closes it under a running upload).</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        Client.Dispose();
        Dispose(_methods);
    }

    private static void Dispose(AuthenticationMethod[] methods)
    {
        foreach (var method in methods)
        {
            (method as IDisposable)?.Dispose();
        }
    }
}

/// <summary>The server showed another host key than <c>host_key_fingerprint</c>.</summary>
internal sealed class SftpHostKeyMismatchException(string seen, Exception inner) : Exception($"the server's host key is {seen}", inner)
{
    public string Seen { get; } = seen;
}

/// <summary>The configured private key cannot be used.</summary>
internal sealed class SftpKeyException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// Logged-in connections kept for the next delivery to the same destination: at most <see cref="MaxIdlePerDestination"/>
/// idle ones per destination and config and <see cref="MaxIdle"/> in all (a changed password, key or host key pin never reuses an older login), each closed
/// after <see cref="IdleTimeout"/> unused. A connection is taken by one delivery at a time. Reuse is safe: the address was
/// checked by the guard and the host key by the pin when the connection was opened, and nothing else changes while it is
/// open. A connection found closed is dropped; one that breaks during a delivery is dropped and the delivery tried once
/// more on a fresh one (see <see cref="SftpDestination"/>).
/// </summary>
internal sealed class SftpConnectionPool(TimeProvider time) : IDisposable
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// As many as the delivery worker runs at once by default (<c>Apertur:Delivery:Concurrency</c>, 32): after a burst every
    /// connection of it can wait for the next one. A new connection costs a key exchange, about 85 ms of CPU with SSH.NET's
    /// post-quantum sntrup761 and 17 ms with curve25519 (docs/performance.md "azure_blob and sftp on the vendors'
    /// libraries"), and a login; the server has had that many open during the burst already.
    /// </summary>
    public const int MaxIdlePerDestination = 32;

    public const int MaxIdle = 64;

    /// <summary>What a connection is reused for: the destination and everything in its config (records compare by value).</summary>
    public sealed record Key(Guid DestinationId, SftpConfig Config);

    private sealed record Idle(SftpConnection Connection, DateTimeOffset Since);

    private readonly Lock _lock = new();
    private readonly Dictionary<Key, Stack<Idle>> _idle = [];
    private ITimer? _sweeper;

    /// <summary>An idle, still connected connection for the key, or null.</summary>
    public SftpConnection? Take(Key key)
    {
        var closed = new List<SftpConnection>();
        SftpConnection? found = null;
        lock (_lock)
        {
            Expire(closed);
            if (_idle.TryGetValue(key, out var stack))
            {
                while (found is null && stack.TryPop(out var idle))
                {
                    if (idle.Connection.IsConnected)
                    {
                        found = idle.Connection;
                    }
                    else
                    {
                        closed.Add(idle.Connection);
                    }
                }
            }
        }
        DisposeAll(closed);
        return found;
    }

    /// <summary>Keeps a connection after a successful delivery, or closes it when it is broken or enough are idle.</summary>
    public void Return(Key key, SftpConnection connection)
    {
        var closed = new List<SftpConnection>();
        lock (_lock)
        {
            Expire(closed);
            var stack = _idle.GetValueOrDefault(key) ?? [];
            if (connection.IsConnected && stack.Count < MaxIdlePerDestination && _idle.Values.Sum(s => s.Count) < MaxIdle)
            {
                stack.Push(new Idle(connection, time.GetUtcNow()));
                _idle[key] = stack;
                _sweeper ??= time.CreateTimer(_ => Sweep(), null, IdleTimeout, IdleTimeout);
            }
            else
            {
                closed.Add(connection);
            }
        }
        DisposeAll(closed);
    }

    /// <summary>How many connections are idle now (for tests).</summary>
    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _idle.Values.Sum(s => s.Count);
            }
        }
    }

    /// <summary>Closes the connections idle for longer than <see cref="IdleTimeout"/>; the timer stops when none is left.</summary>
    public void Sweep()
    {
        var closed = new List<SftpConnection>();
        lock (_lock)
        {
            Expire(closed);
            if (_idle.Count == 0)
            {
                _sweeper?.Dispose();
                _sweeper = null;
            }
        }
        DisposeAll(closed);
    }

    private void Expire(List<SftpConnection> closed)
    {
        var now = time.GetUtcNow();
        foreach (var (key, stack) in _idle.ToArray())
        {
            var keep = stack.Where(i => now - i.Since < IdleTimeout && i.Connection.IsConnected).Reverse().ToArray();
            closed.AddRange(stack.Where(i => !keep.Contains(i)).Select(i => i.Connection));
            if (keep.Length == 0)
            {
                _idle.Remove(key);
            }
            else if (keep.Length != stack.Count)
            {
                _idle[key] = new Stack<Idle>(keep);
            }
        }
    }

    private static void DisposeAll(List<SftpConnection> connections)
    {
        foreach (var connection in connections)
        {
            connection.Dispose();
        }
    }

    public void Dispose()
    {
        var closed = new List<SftpConnection>();
        lock (_lock)
        {
            closed.AddRange(_idle.Values.SelectMany(s => s).Select(i => i.Connection));
            _idle.Clear();
            _sweeper?.Dispose();
            _sweeper = null;
        }
        DisposeAll(closed);
    }
}
