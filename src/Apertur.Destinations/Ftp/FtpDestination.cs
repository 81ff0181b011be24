using System.Text.Json;
using Apertur.Destinations.Curl;
using Apertur.Destinations.FileServers;
using Apertur.Destinations.Outbound;

namespace Apertur.Destinations.Ftp;

/// <summary>
/// The <c>ftp</c> destination: FTP, or FTPS explicit (<c>AUTH TLS</c>, the default) or implicit, through libcurl. Writes
/// each image to <c>remote_dir</c>/<c>path_template</c>, creating missing folders and overwriting the same path on
/// redelivery; the image is streamed to a temporary name beside it (<see cref="RemotePaths.Temporary"/>) and renamed into
/// place (<c>RNFR</c>/<c>RNTO</c>; where RNTO will not replace a file, <c>DELE</c> first), so the final name never holds a
/// half-written file. Passive mode by default; the data connection goes to the control connection's
/// address whatever the server's PASV answer says (<c>CURLOPT_FTP_SKIP_PASV_IP</c>), so a PASV reply cannot steer a
/// connection past the SSRF guard. TLS certificates are verified unless <c>tls_verify</c> is set to false;
/// <c>tls_certificate</c> trusts one self-signed certificate or private CA with full verification.
/// </summary>
public sealed class FtpDestination(OutboundGuard guard, TimeSpan? timeout = null) : ConfiguredDestination<FtpConfig>, IDescribedDestination
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private const long UseSslAll = 3;
    private const long CreateDirRetry = 2;
    private const long Tls12 = 6;
    private const long MaxTls12 = 6 << 16;

    private readonly TimeSpan _timeout = timeout ?? DefaultTimeout;

    public override string Kind => DestinationKinds.Ftp;

    /// <summary>The ftp kind: its form, validation, warnings (plain FTP, TLS checks off) and secrets.</summary>
    public static DestinationDescriptor Descriptor { get; } = new(DestinationKinds.Ftp, "FTP / FTPS", "Uploads each image to an FTP server, with TLS (FTPS) by default.", Validate,
        new([
            new("host", "Host", "The server's host name or IP address, without ftp:// or a path.", Required: true, Placeholder: "ftp.example.com"),
            new("port", "Port", "Default 21 (990 for implicit TLS).", FieldType.Number, Min: 1, Max: 65535, Placeholder: "21"),
            new("username", "User name", "The FTP login.", Required: true),
            new("password", "Password", "Encrypted at rest, never shown again.", Secret: true),
            new("tls", "TLS", "explicit: AUTH TLS on the usual port (recommended); implicit: TLS from the first byte (port 990); none: plain FTP.",
                FieldType.Choice, Choices: ["explicit", "implicit", "none"]),
            new("tls_certificate", "Trusted certificate", "For a self-signed server: its certificate (or its CA's) as PEM, -----BEGIN CERTIFICATE-----. Empty: the system's trusted CAs.",
                FieldType.Multiline),
            new("tls_verify", "Check the certificate", "false skips every certificate check, so an impostor can read the login: prefer a trusted certificate above.",
                FieldType.Choice, Choices: ["true", "false"]),
            new("remote_dir", "Remote folder", "Relative to the login folder, or absolute. Created when missing.", Placeholder: "uploads"),
            new("path_template", "Path template", DestinationFormSpec.TemplateHelp + " Default {session_id}/{image_index}.{ext}.", Placeholder: "{session_id}/{image_index}.{ext}"),
        ], Warning: "Plain FTP (TLS: none) sends the user name, the password and every image in clear text: anyone on the network path can read them. Prefer explicit TLS or SFTP."),
        SecretFields: ["password"])
    {
        Warnings = FtpConfig.Warnings,
        OtherSecretNames = ["pass"],
        ConnectionTest = true,
    };

    /// <summary>What is wrong with an ftp config, in words; empty when it is fine.</summary>
    public static IReadOnlyList<string> Validate(JsonElement config) => FtpConfig.TryParse(config, out _, out var problems) ? [] : problems;

    protected override async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, FtpConfig config, CancellationToken ct)
    {
        var path = RemotePaths.For(config.RemoteDir, config.PathTemplate, request.Image);
        var temp = RemotePaths.Temporary(path, request.DeliveryId);
        var endpoint = Endpoint(config);
        // Written under the temporary name, then renamed into place on the same connection: RNTO replaces an existing file
        // at once on vsftpd, ProFTPD and Pure-FTPd (rename(2)), so a receiver never sees a half-written file under its name.
        var outcome = await CurlRunner.RunAsync(guard, endpoint, _timeout, transfer => Configure(transfer, config, endpoint.Url(temp)), request.Image, ct,
            then: transfer => CommandsOnly(transfer, endpoint, path, [$"RNFR {RemotePaths.Name(temp)}", $"RNTO {RemotePaths.Name(path)}"])).ConfigureAwait(false);
        var failure = outcome.Failure ?? CurlRunner.Check(outcome.Result!, endpoint, path, request.Image.SizeBytes, upload: true);
        var reply = outcome.Result?.ResponseCode is > 0 and var code ? code : (int?)null;
        if (failure is null && outcome.Then is { Code: not CurlCode.Ok })
        {
            // A server whose RNTO refuses an existing name: delete the old file, then rename (the one moment the name is absent).
            var replaced = await CommandsAsync(config, endpoint, path,
                [$"*DELE {RemotePaths.Name(path)}", $"RNFR {RemotePaths.Name(temp)}", $"RNTO {RemotePaths.Name(path)}"], ct).ConfigureAwait(false);
            failure = replaced.Failure ?? CurlRunner.Check(replaced.Result!, endpoint, path, 0, upload: false);
        }
        if (failure is null)
        {
            return new DeliveryResult.Delivered(endpoint.RemoteRef(path), reply);
        }
        if (outcome.Result is { Sent: > 0 } || outcome.Then is not null)
        {
            // Best effort: what was written of the temporary file goes; a leftover is overwritten by the next attempt.
            await CommandsAsync(config, endpoint, path, [$"*DELE {RemotePaths.Name(temp)}"], CancellationToken.None).ConfigureAwait(false);
        }
        return failure.ToResult(reply);
    }

    /// <summary>Logs in, creates <c>remote_dir</c> if needed, writes a small probe file there and deletes it.</summary>
    protected override async Task<ConnectionTestResult> TestAsync(DestinationTarget target, FtpConfig config, ProjectSigning signing, CancellationToken ct)
    {
        var name = CurlRunner.ProbeName();
        var probe = CurlRunner.Probe(name);
        var path = Paths.PathTemplate.Combine(config.RemoteDir, name);
        var endpoint = Endpoint(config);
        var outcome = await CurlRunner.RunAsync(guard, endpoint, _timeout, transfer =>
        {
            Configure(transfer, config, endpoint.Url(path));
            // Runs in the file's folder (libcurl changes into it before STOR).
            transfer.PostQuote($"DELE {name}");
        }, probe, ct).ConfigureAwait(false);
        var failure = outcome.Failure ?? CurlRunner.Check(outcome.Result!, endpoint, path, probe.SizeBytes, upload: true);
        if (failure is not null)
        {
            return new ConnectionTestResult(false, failure.Message);
        }
        var folder = config.RemoteDir.Length == 0 ? "the login folder" : config.RemoteDir;
        var security = config.Tls switch
        {
            FtpTls.None => " " + FtpConfig.ClearTextWarning,
            _ when !config.TlsVerify => $" TLS ({Describe(config.Tls)}) is on, but " + FtpConfig.NoVerifyWarning,
            _ => $" The connection uses TLS ({Describe(config.Tls)}) with a verified certificate.",
        };
        return new ConnectionTestResult(true, $"Logged in to {endpoint.Where} as {config.Username} and wrote a test file in {folder}.{security}");
    }

    private static string Describe(FtpTls tls) => tls == FtpTls.Implicit ? "implicit" : "explicit";

    private static CurlEndpoint Endpoint(FtpConfig config) =>
        new(config.Tls == FtpTls.Implicit ? "ftps" : "ftp", config.Host, config.Port, config.Username);

    /// <summary>Commands only (no transfer) in the folder of <paramref name="path"/>, on a connection of their own.</summary>
    private Task<CurlRunner.Outcome> CommandsAsync(FtpConfig config, CurlEndpoint endpoint, string path, IReadOnlyList<string> commands, CancellationToken ct) =>
        CurlRunner.RunAsync(guard, endpoint, _timeout, transfer =>
        {
            Configure(transfer, config, endpoint.Url(path));
            CommandsOnly(transfer, endpoint, path, commands);
        }, image: null, ct);

    /// <summary>
    /// Turns the transfer into commands only: no body, the URL of <paramref name="path"/>'s folder (libcurl changes into
    /// it), then <paramref name="commands"/> there (<c>*</c> in front: its failure is ignored).
    /// </summary>
    private static void CommandsOnly(CurlTransfer transfer, CurlEndpoint endpoint, string path, IReadOnlyList<string> commands)
    {
        transfer.Set(CurlOption.Upload, 0);
        transfer.Set(CurlOption.NoBody, 1);
        var folder = endpoint.Url(RemotePaths.Folder(path));
        transfer.Set(CurlOption.Url, folder.EndsWith('/') ? folder : folder + "/");
        foreach (var command in commands)
        {
            transfer.PostQuote(command);
        }
    }

    private static void Configure(CurlTransfer transfer, FtpConfig config, string url)
    {
        transfer.Set(CurlOption.ProtocolsStr, config.Tls == FtpTls.Implicit ? "ftps" : "ftp");
        transfer.Set(CurlOption.Url, url);
        transfer.Set(CurlOption.Username, config.Username);
        transfer.Set(CurlOption.Password, config.Password);
        if (config.Tls != FtpTls.None)
        {
            transfer.Set(CurlOption.UseSsl, UseSslAll);
            // TLS 1.2 exactly: libcurl before 8.8 can lose the end of an FTPS upload over TLS 1.3 (curl issue 6149; the
            // server answers 426 with a truncated file), and Debian 12 ships 7.88.
            transfer.Set(CurlOption.SslVersion, Tls12 | MaxTls12);
            transfer.Set(CurlOption.SslVerifyPeer, config.TlsVerify);
            transfer.Set(CurlOption.SslVerifyHost, config.TlsVerify ? 2 : 0);
            if (config.TlsCertificate is not null)
            {
                transfer.Set(CurlOption.CaInfoBlob, config.TlsCertificate);
            }
        }
        // Passive: EPSV, else PASV with the control connection's address. Active: the server connects back to us.
        transfer.Set(CurlOption.FtpSkipPasvIp, 1);
        if (!config.Passive)
        {
            transfer.Set(CurlOption.FtpPort, "-");
        }
        // Retry CWD after a failed MKD: another delivery of the same session may have just made the folder.
        transfer.Set(CurlOption.FtpCreateMissingDirs, CreateDirRetry);
        transfer.Set(CurlOption.ServerResponseTimeout, (long)CurlRunner.ConnectTimeout.TotalSeconds);
    }
}
