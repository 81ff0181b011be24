using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using Apertur.Destinations.FileServers;

namespace Apertur.Destinations.Ftp;

/// <summary>How an ftp destination protects its connections.</summary>
public enum FtpTls
{
    /// <summary>Plain FTP: the login and the files travel in clear text.</summary>
    None,

    /// <summary>FTPS, explicit: <c>AUTH TLS</c> on the usual port, required for the login and the data.</summary>
    Explicit,

    /// <summary>FTPS, implicit: TLS from the first byte, usually on port 990.</summary>
    Implicit,
}

/// <summary>
/// An ftp destination's config: <c>host</c>, <c>port</c> (21, or 990 for implicit TLS), <c>username</c> (alias <c>user</c>),
/// <c>password</c>, <c>tls</c> (<c>explicit</c> by default, <c>implicit</c> or <c>none</c>), <c>tls_verify</c> (true; false
/// skips certificate checks, only when set explicitly), <c>tls_certificate</c> (a PEM certificate to trust, for a self-signed
/// server), <c>passive</c> (true), <c>remote_dir</c> and <c>path_template</c>.
/// </summary>
public sealed record FtpConfig(
    string Host,
    int Port,
    string Username,
    string Password,
    FtpTls Tls,
    bool TlsVerify,
    byte[]? TlsCertificate,
    bool Passive,
    string RemoteDir,
    string PathTemplate) : IDestinationConfig<FtpConfig>
{
    public static readonly IReadOnlyList<string> TlsNames = ["explicit", "implicit", "none"];

    public const string ClearTextWarning =
        "Plain FTP (tls: none) sends the username, the password and every image in clear text: anyone on the network path can read them. " +
        "Use tls: explicit or implicit, or an sftp destination.";

    public const string NoVerifyWarning =
        "tls_verify is false: the server's certificate is not checked, so an impostor can read the login. Prefer tls_certificate to trust a self-signed certificate.";

    public static bool TryParse(JsonElement config, [NotNullWhen(true)] out FtpConfig? parsed, out IReadOnlyList<string> problems)
    {
        parsed = null;
        var read = new FileServerConfigReader(config, DestinationKinds.Ftp, "\"host\", \"username\" and \"password\"");
        problems = read.Problems;
        if (!read.IsObject)
        {
            return false;
        }
        var host = read.Host();
        var tls = FtpTls.Explicit;
        if (read.Text("tls") is { } tlsText)
        {
            if (ParseTls(tlsText) is { } known)
            {
                tls = known;
            }
            else
            {
                read.Problems.Add($"config.tls must be one of {string.Join(", ", TlsNames)} (got '{tlsText}').");
            }
        }
        var port = read.Port(tls == FtpTls.Implicit ? 990 : 21);
        var username = read.Required("username", "the FTP login", "user");
        var password = read.Secret("password", "pass") ?? "";
        var verify = read.Flag("tls_verify", true);
        byte[]? certificate = null;
        if (read.Text("tls_certificate") is { } pem)
        {
            if (!pem.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                read.Problems.Add("config.tls_certificate must be a PEM certificate (-----BEGIN CERTIFICATE-----): the server's own, or the CA that signed it.");
            }
            certificate = Encoding.ASCII.GetBytes(pem.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        }
        var passive = read.Flag("passive", true);
        var remoteDir = read.RemoteDir();
        var template = read.PathTemplate();
        if (read.Problems.Count > 0)
        {
            return false;
        }
        parsed = new FtpConfig(host, port, username, password, tls, verify, certificate, passive, remoteDir, template);
        return true;
    }

    /// <summary>What a person should know about a config that works but is unsafe (shown in API answers and logged).</summary>
    public static IReadOnlyList<string> Warnings(JsonElement config)
    {
        if (!TryParse(config, out var parsed, out _))
        {
            return [];
        }
        return parsed.Tls == FtpTls.None ? [ClearTextWarning] : parsed.TlsVerify ? [] : [NoVerifyWarning];
    }

    private static FtpTls? ParseTls(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" or "false" or "off" or "plain" => FtpTls.None,
        "explicit" or "true" or "on" => FtpTls.Explicit,
        "implicit" => FtpTls.Implicit,
        _ => null,
    };
}
