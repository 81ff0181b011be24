using System.Text.Json;
using Apertur.Destinations.Curl;
using Apertur.Destinations.FileServers;
using Apertur.Destinations.Outbound;

namespace Apertur.Destinations.Sftp;

/// <summary>
/// The <c>sftp</c> destination: writes each image to <c>remote_dir</c>/<c>path_template</c> on an SSH server through libcurl
/// (libssh2), creating missing folders and overwriting the same path on redelivery. The image is streamed, never loaded
/// whole; the host is checked by the SSRF guard and libcurl connects only to the checked address. With
/// <c>host_key_fingerprint</c> set, any other host key is refused ("host key mismatch", permanent); without it the key is
/// accepted and the connection test reports its fingerprint so it can be pinned.
/// <para>
/// Keys: OpenSSH and PEM private keys (ed25519, ECDSA, RSA), optionally with a passphrase, are handed to libcurl in a 0600
/// temporary file deleted after the transfer. libssh2 1.10 (Debian 12) signs RSA keys with SHA-1 only, which OpenSSH 8.8
/// and later refuse by default: use an ed25519 or ECDSA key there.
/// </para>
/// </summary>
/// <param name="keyDirectory">Where private keys are written for libcurl while a transfer runs (default: the temp folder).</param>
public sealed class SftpDestination(OutboundGuard guard, TimeSpan? timeout = null, string? keyDirectory = null) : ConfiguredDestination<SftpConfig>, IDescribedDestination
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _timeout = timeout ?? DefaultTimeout;

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
        var endpoint = Endpoint(config);
        var (result, failure) = await TransferAsync(config, endpoint, path, request.Image, removeAfter: false, ct).ConfigureAwait(false);
        failure ??= CurlRunner.Check(result!, endpoint, path, request.Image.SizeBytes, upload: true);
        return failure?.ToResult() ?? new DeliveryResult.Delivered(endpoint.RemoteRef(path));
    }

    /// <summary>Logs in, creates <c>remote_dir</c> if needed, writes a small probe file there and removes it.</summary>
    protected override async Task<ConnectionTestResult> TestAsync(DestinationTarget target, SftpConfig config, ProjectSigning signing, CancellationToken ct)
    {
        var name = CurlRunner.ProbeName();
        var path = PathsCombine(config.RemoteDir, name);
        var endpoint = Endpoint(config);
        var (result, failure) = await TransferAsync(config, endpoint, path, CurlRunner.Probe(name), removeAfter: true, ct).ConfigureAwait(false);
        failure ??= CurlRunner.Check(result!, endpoint, path, CurlRunner.Probe(name).SizeBytes, upload: true);
        if (failure is not null)
        {
            return new ConnectionTestResult(false, failure.Message);
        }
        var folder = config.RemoteDir.Length == 0 ? "the login folder" : config.RemoteDir;
        var key = config.HostKeySha256 is not null
            ? " The host key matches host_key_fingerprint."
            : $" The host key is {result!.HostKeySha256}; set host_key_fingerprint to it so that another key is refused.";
        return new ConnectionTestResult(true, $"Logged in to {endpoint.Where} as {config.Username} and wrote a test file in {folder}.{key}");
    }

    private static CurlEndpoint Endpoint(SftpConfig config) => new("sftp", config.Host, config.Port, config.Username);

    private static string PathsCombine(string dir, string name) => Paths.PathTemplate.Combine(dir, name);

    private async Task<(CurlResult? Result, TransferFailure? Failure)> TransferAsync(SftpConfig config, CurlEndpoint endpoint, string path,
        DeliveryImage image, bool removeAfter, CancellationToken ct)
    {
        using var key = config.PrivateKey is null ? null : new PrivateKeyFile(config.PrivateKey, keyDirectory);
        var outcome = await CurlRunner.RunAsync(guard, endpoint, _timeout, transfer =>
        {
            transfer.Set(CurlOption.ProtocolsStr, "sftp");
            transfer.Set(CurlOption.Url, endpoint.Url(path));
            transfer.Set(CurlOption.Username, config.Username);
            // Only the configured credentials: never this server's own ~/.ssh keys or an agent.
            long methods = 0;
            if (config.Password is not null)
            {
                transfer.Set(CurlOption.Password, config.Password);
                methods |= SshAuthPassword | SshAuthKeyboard;
            }
            if (key is not null)
            {
                transfer.Set(CurlOption.SshPrivateKeyFile, key.Path);
                if (config.Passphrase is not null)
                {
                    transfer.Set(CurlOption.KeyPasswd, config.Passphrase);
                }
                methods |= SshAuthPublicKey;
            }
            transfer.Set(CurlOption.SshAuthTypes, methods);
            if (config.HostKeySha256 is not null)
            {
                transfer.Set(CurlOption.SshHostPublicKeySha256, config.HostKeySha256);
            }
            else
            {
                transfer.CaptureHostKey();
            }
            transfer.Set(CurlOption.FtpCreateMissingDirs, 1);
            transfer.Set(CurlOption.NewDirectoryPerms, Convert.ToInt64("755", 8));
            transfer.Set(CurlOption.NewFilePerms, Convert.ToInt64("644", 8));
            if (removeAfter)
            {
                transfer.PostQuote($"rm {Quote(path)}");
            }
        }, image, ct).ConfigureAwait(false);
        return (outcome.Result, outcome.Failure);
    }

    private const long SshAuthPublicKey = 1 << 0;
    private const long SshAuthPassword = 1 << 1;
    private const long SshAuthKeyboard = 1 << 3;

    /// <summary>A path for libcurl's sftp quote commands: double-quoted, relative paths from the login folder.</summary>
    private static string Quote(string path) => "\"" + path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
