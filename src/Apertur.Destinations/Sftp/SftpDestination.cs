using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Apertur.Destinations.FileServers;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Storage;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Apertur.Destinations.Sftp;

/// <summary>
/// The <c>sftp</c> destination, on SSH.NET: writes each image to <c>remote_dir</c>/<c>path_template</c> on an SSH server,
/// creating missing folders. The image is streamed (never loaded whole) to a hidden temporary name in the same folder,
/// <c>.NAME.part-DELIVERYID</c>, and then renamed over the final name (<c>posix-rename@openssh.com</c>, which replaces an
/// existing file atomically), so a receiver never sees a half-written file under its final name and a redelivery
/// overwrites the same path; the temporary file is removed when the upload fails.
/// <para>
/// The host is resolved and checked by the SSRF guard and SSH.NET connects to the checked address (the name is never
/// resolved again). With <c>host_key_fingerprint</c> set any other host key is refused ("Host key mismatch", permanent);
/// without it the key is accepted and the connection test reports its fingerprint so it can be pinned. Keys: OpenSSH and
/// PEM private keys (ed25519, ECDSA, RSA signed with rsa-sha2-512/256), optionally encrypted; passwords also answer
/// keyboard-interactive prompts. Only the configured credentials are tried, never an agent or this server's own keys.
/// </para>
/// <para>
/// Logged-in connections are reused per destination (<see cref="SftpConnectionPool"/>): a reused connection that breaks
/// during a delivery is dropped and the delivery tried once more on a fresh one. <c>timeout</c> bounds each attempt.
/// </para>
/// </summary>
public sealed class SftpDestination(OutboundGuard guard, TimeProvider time, TimeSpan? timeout = null) : ConfiguredDestination<SftpConfig>, IDescribedDestination, IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _timeout = timeout ?? DefaultTimeout;

    /// <summary>The idle connections kept for reuse.</summary>
    internal SftpConnectionPool Pool { get; } = new(time);

    public override string Kind => DestinationKinds.Sftp;

    /// <summary>The sftp kind: its form, validation and secrets.</summary>
    public static DestinationDescriptor Descriptor { get; } = new(DestinationKinds.Sftp, "SFTP", "Uploads each image over SSH to a server you run.", Validate,
        new([
            new("host", "Host", "The server's host name or IP address, without sftp:// or a path.", Required: true, Placeholder: "files.example.com"),
            new("port", "Port", "Default 22.", FieldType.Number, Min: 1, Max: 65535, Placeholder: "22"),
            new("username", "User name", "The SSH login.", Required: true),
            new("password", "Password", "Give a password or a private key (or both).", Secret: true),
            new("private_key", "Private key", "The key's text in OpenSSH or PEM format (-----BEGIN … PRIVATE KEY-----).", FieldType.Multiline, Secret: true),
            new("private_key_passphrase", "Key passphrase", "Only if the private key is encrypted.", Secret: true),
            new("host_key_fingerprint", "Host key fingerprint", "SHA256:… as `ssh-keygen -l` prints it. When set, any other server key is refused (recommended).", Placeholder: "SHA256:…"),
            new("remote_dir", "Remote folder", "Relative to the login folder, or absolute. Created when missing.", Placeholder: "uploads"),
            new("path_template", "Path template", DestinationFormSpec.TemplateHelp + " Default {session_id}/{image_index}.{ext}.", Placeholder: "{session_id}/{image_index}.{ext}"),
        ], OneOf: [["password", "private_key"]]), SecretFields: ["password", "private_key", "private_key_passphrase"])
    {
        OtherSecretNames = ["pass", "ssh_key", "key", "passphrase"],
        ConnectionTest = true,
    };

    /// <summary>What is wrong with an sftp config, in words; empty when it is fine.</summary>
    public static IReadOnlyList<string> Validate(JsonElement config) => SftpConfig.TryParse(config, out _, out var problems) ? [] : problems;

    protected override async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, SftpConfig config, CancellationToken ct)
    {
        var path = RemotePaths.For(config.RemoteDir, config.PathTemplate, request.Image);
        var key = new SftpConnectionPool.Key(request.Target.Id, config);
        var failure = await AttemptAsync(config, path, async attempt =>
        {
            var reused = Pool.Take(key);
            var connection = reused ?? await SftpConnection.OpenAsync(guard, config, _timeout, attempt).ConfigureAwait(false);
            try
            {
                await WriteAsync(connection, path, request.Image, request.DeliveryId, attempt).ConfigureAwait(false);
            }
            catch (Exception e) when (reused is not null && Broken(e, connection))
            {
                // The server closed an idle connection under us (or the network dropped it): once more on a fresh one.
                connection.Dispose();
                connection = await SftpConnection.OpenAsync(guard, config, _timeout, attempt).ConfigureAwait(false);
                try
                {
                    await WriteAsync(connection, path, request.Image, request.DeliveryId, attempt).ConfigureAwait(false);
                }
                catch
                {
                    connection.Dispose();
                    throw;
                }
            }
            catch
            {
                connection.Dispose();
                throw;
            }
            Pool.Return(key, connection);
        }, ct).ConfigureAwait(false);
        return failure?.ToResult() ?? new DeliveryResult.Delivered(RemoteRef(config, path));
    }

    /// <summary>
    /// Logs in on a fresh connection, creates <c>remote_dir</c> if needed, writes a small probe file there (through the same
    /// temporary name and rename as an image, so a server without atomic rename shows here) and removes it.
    /// </summary>
    protected override async Task<ConnectionTestResult> TestAsync(DestinationTarget target, SftpConfig config, ProjectSigning signing, CancellationToken ct)
    {
        var name = CurlRunner.ProbeName();
        var path = Paths.PathTemplate.Combine(config.RemoteDir, name);
        string? hostKey = null;
        var failure = await AttemptAsync(config, path, async attempt =>
        {
            using var connection = await SftpConnection.OpenAsync(guard, config, _timeout, attempt).ConfigureAwait(false);
            hostKey = connection.HostKeySha256;
            await WriteAsync(connection, path, CurlRunner.Probe(name), Guid.NewGuid(), attempt).ConfigureAwait(false);
            await connection.Client.DeleteFileAsync(path, attempt).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        if (failure is not null)
        {
            return new ConnectionTestResult(false, failure.Message);
        }
        var folder = config.RemoteDir.Length == 0 ? "the login folder" : config.RemoteDir;
        var key = config.HostKeySha256 is not null
            ? " The host key matches host_key_fingerprint."
            : $" The host key is {hostKey}; set host_key_fingerprint to it so that another key is refused.";
        return new ConnectionTestResult(true, $"Logged in to {Where(config)} as {config.Username} and wrote a test file in {folder}.{key}");
    }

    public void Dispose() => Pool.Dispose();

    /// <summary>Runs one attempt within <c>timeout</c>; null when it succeeded, otherwise what went wrong in words.</summary>
    private async Task<TransferFailure?> AttemptAsync(SftpConfig config, string path, Func<CancellationToken, Task> work, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(_timeout, time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        try
        {
            await work(attempt.Token).ConfigureAwait(false);
            return null;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (Classify(e, config, path, deadline.IsCancellationRequested) is { } failure)
        {
            return failure;
        }
    }

    /// <summary>
    /// Writes the image to a temporary name beside <paramref name="path"/> (creating missing folders first) and renames it
    /// into place, replacing what was there; removes the temporary file when something fails.
    /// </summary>
    private static async Task WriteAsync(SftpConnection connection, string path, DeliveryImage image, Guid deliveryId, CancellationToken ct)
    {
        var client = connection.Client;
        var folder = RemotePaths.Folder(path);
        await EnsureFolderAsync(client, folder, ct).ConfigureAwait(false);
        var temp = RemotePaths.Temporary(path, deliveryId);
        try
        {
            await using (var source = await CheckedImageStream.OpenAsync(image, ct).ConfigureAwait(false))
            {
                try
                {
                    await UploadAsync(connection, source, temp, ct).ConfigureAwait(false);
                    await source.EnsureEndAsync(ct).ConfigureAwait(false);
                }
                catch (ImageSourceException) when (source.Position > image.SizeBytes)
                {
                    throw new ImageSourceException($"it is longer than its recorded {image.SizeBytes.ToString(CultureInfo.InvariantCulture)} bytes");
                }
            }
            await ReplaceAsync(client, temp, path, ct).ConfigureAwait(false);
        }
        catch
        {
            await RemoveQuietlyAsync(client, temp).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Streams the image to <paramref name="temp"/> with SSH.NET's synchronous upload on a thread of its own, as the FTP
    /// transfers run on theirs. SSH.NET sends blocking (its socket writes, and the wait for the server's window when it is
    /// full), also from its async upload: 32 uploads at once would hold 32 thread-pool threads, which the pool replaces only
    /// slowly, and its async upload also costs more CPU per megabyte (docs/performance.md "azure_blob and sftp on the
    /// vendors' libraries"). The synchronous call does not watch a token: when the attempt ends (timeout or shutdown) the
    /// connection is closed under it, which ends the upload with an error, and the attempt does not wait for the thread (a
    /// source stuck in a read lets it go when the source is disposed).
    /// </summary>
    private static async Task UploadAsync(SftpConnection connection, Stream source, string temp, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var upload = Task.Factory.StartNew(() => connection.Client.UploadFile(source, temp, canOverride: true),
            CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await upload.WaitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Closed before anything else runs: a request sent on it now would wait for an answer the upload's data holds up.
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Renames over an existing file atomically where the server offers POSIX rename (OpenSSH does).</summary>
    private static async Task ReplaceAsync(SftpClient client, string temp, string path, CancellationToken ct)
    {
        try
        {
            await Task.Run(() => client.RenameFile(temp, path, isPosix: true), ct).ConfigureAwait(false);
        }
        catch (NotSupportedException)
        {
            // SFTP v3's plain rename refuses an existing target: remove it first (the one moment the name is absent).
            if (await client.ExistsAsync(path, ct).ConfigureAwait(false))
            {
                await client.DeleteFileAsync(path, ct).ConfigureAwait(false);
            }
            await client.RenameFileAsync(temp, path, ct).ConfigureAwait(false);
        }
    }

    private static async Task RemoveQuietlyAsync(SftpClient client, string temp)
    {
        if (!client.IsConnected)
        {
            return;
        }
        try
        {
            // Not the attempt's token: it may be what ended the upload. OperationTimeout bounds the call.
            await client.DeleteFileAsync(temp, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SshException or SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Never written, or the connection is gone: nothing more to do here.
        }
    }

    /// <summary>Creates each missing folder of <paramref name="folder"/>, from the top.</summary>
    private static async Task EnsureFolderAsync(SftpClient client, string folder, CancellationToken ct)
    {
        if (folder.Length == 0 || folder == "/" || await client.ExistsAsync(folder, ct).ConfigureAwait(false))
        {
            return;
        }
        var level = folder.StartsWith('/') ? "/" : "";
        foreach (var segment in folder.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            level = level.Length == 0 || level == "/" ? level + segment : level + "/" + segment;
            try
            {
                if (!await client.ExistsAsync(level, ct).ConfigureAwait(false))
                {
                    await client.CreateDirectoryAsync(level, ct).ConfigureAwait(false);
                }
            }
            catch (SshException e) when (e is not SshConnectionException and not SshOperationTimeoutException)
            {
                // Made by a parallel delivery in the meantime is fine; anything else ends the attempt.
                if (!await client.ExistsAsync(level, ct).ConfigureAwait(false))
                {
                    throw new FolderException(folder, e);
                }
            }
        }
    }

    /// <summary>A reused connection failed in a way a fresh one may not.</summary>
    private static bool Broken(Exception e, SftpConnection connection) =>
        e is SshConnectionException or SocketException or ObjectDisposedException || !connection.IsConnected;

    /// <summary>A failure in words and whether trying again can help; null for what is not the transfer's (bugs).</summary>
    private static TransferFailure? Classify(Exception e, SftpConfig config, string path, bool timedOut)
    {
        var where = Where(config);
        var folder = RemotePaths.Folder(path) is { Length: > 0 } f ? f : "the login folder";
        return e switch
        {
            _ when timedOut || e is SshOperationTimeoutException =>
                new TransferFailure($"Timed out talking to {where} ({e.Message})", Permanent: false, Throttled: true),
            OutboundBlockedException => new TransferFailure(e.Message, Permanent: true),
            SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain } =>
                new TransferFailure($"Could not find {config.Host}: {e.Message}", Permanent: false),
            SocketException => new TransferFailure($"Could not connect to {where} ({e.Message})", Permanent: false),
            SftpHostKeyMismatchException mismatch => new TransferFailure(
                $"Host key mismatch at {where}: the server's key is {mismatch.Seen}, not the configured host_key_fingerprint, so the connection was refused. " +
                "If the server's key was changed on purpose, update host_key_fingerprint.", Permanent: true),
            SftpKeyException => new TransferFailure($"Login failed for user '{config.Username}' at {where}: {e.Message}", Permanent: true),
            SshAuthenticationException => new TransferFailure(
                $"Login failed for user '{config.Username}' at {where}: wrong username, password or key ({e.Message})", Permanent: true),
            FolderException problem => new TransferFailure(
                $"The folder {problem.Folder} does not exist on {where} and could not be created: check remote_dir and that '{config.Username}' may create folders there ({problem.InnerException!.Message})",
                Permanent: true),
            ImageSourceException => new TransferFailure($"Could not read the image: {e.Message}", Permanent: false),
            SftpPermissionDeniedException => new TransferFailure(
                $"{where} refused to create or write {path}: check remote_dir and that '{config.Username}' may write to {folder} ({e.Message})", Permanent: true),
            SftpPathNotFoundException => new TransferFailure($"The folder {folder} disappeared on {where} while writing ({e.Message})", Permanent: false),
            SshConnectionException => new TransferFailure($"SSH error with {where} ({e.Message})", Permanent: false),
            SshException or IOException => new TransferFailure($"Transfer to {where} failed ({e.Message})", Permanent: false),
            _ => null,
        };
    }

    private static string Where(SftpConfig config) => $"{config.Host}:{config.Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>What the delivery log shows as the written file: <c>sftp://user@host:port/~/path</c> (<c>~</c> for the login folder), never a secret.</summary>
    private static string RemoteRef(SftpConfig config, string path)
    {
        var host = config.Host.Contains(':', StringComparison.Ordinal) && !config.Host.StartsWith('[') ? $"[{config.Host}]" : config.Host;
        var escaped = RemotePaths.Escape(path);
        var rooted = path.StartsWith('/') ? escaped : "~/" + escaped;
        return $"sftp://{Uri.EscapeDataString(config.Username)}@{host}:{config.Port.ToString(CultureInfo.InvariantCulture)}/{rooted}";
    }

    /// <summary>A folder of the path could not be created.</summary>
    private sealed class FolderException(string folder, Exception inner) : Exception(inner.Message, inner)
    {
        public string Folder { get; } = folder;
    }
}
