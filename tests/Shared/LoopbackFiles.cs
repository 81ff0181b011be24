using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Apertur.Tests;

/// <summary>
/// The file servers scripts/services.sh starts on loopback (sshd, vsftpd plain/explicit/implicit, Apache WebDAV), their
/// test user, and independent ways to read back what an adapter wrote: the user's home folder on disk, plain HTTP GETs,
/// ssh-keyscan for the host key and a raw TLS handshake for the FTPS certificate. Ports and credentials can be overridden
/// with the same environment variables as the script.
/// </summary>
public static class LoopbackFiles
{
    public static string User => Env("APERTUR_FILES_USER", "apertur-test");
    public static string Password => Env("APERTUR_FILES_PASSWORD", "apertur-test-password");
    public static string KeyPassphrase => Env("APERTUR_FILES_KEY_PASSPHRASE", "apertur-key-passphrase");
    public static int SftpPort => int.Parse(Env("APERTUR_SFTP_PORT", "52222"), System.Globalization.CultureInfo.InvariantCulture);
    /// <summary>The same sshd, keyboard-interactive logins only (PAM asks for the password).</summary>
    public static int SftpKeyboardInteractivePort => int.Parse(Env("APERTUR_SFTP_KBD_PORT", "52223"), System.Globalization.CultureInfo.InvariantCulture);
    /// <summary>The same sshd, public keys only, RSA signatures only as rsa-sha2-256.</summary>
    public static int SftpRsaSha256Port => int.Parse(Env("APERTUR_SFTP_RSA256_PORT", "52224"), System.Globalization.CultureInfo.InvariantCulture);
    /// <summary>The same sshd, public keys only, RSA signatures only as rsa-sha2-512.</summary>
    public static int SftpRsaSha512Port => int.Parse(Env("APERTUR_SFTP_RSA512_PORT", "52225"), System.Globalization.CultureInfo.InvariantCulture);
    public static int FtpPort => int.Parse(Env("APERTUR_FTP_PORT", "52121"), System.Globalization.CultureInfo.InvariantCulture);
    public static int FtpsExplicitPort => int.Parse(Env("APERTUR_FTPS_PORT", "52122"), System.Globalization.CultureInfo.InvariantCulture);
    public static int FtpsImplicitPort => int.Parse(Env("APERTUR_FTPS_IMPLICIT_PORT", "52123"), System.Globalization.CultureInfo.InvariantCulture);
    public static int WebDavPort => int.Parse(Env("APERTUR_WEBDAV_PORT", "58080"), System.Globalization.CultureInfo.InvariantCulture);
    public static Uri WebDavRoot => new($"http://127.0.0.1:{WebDavPort}/dav/");

    /// <summary>The test user's home folder, where sftp and ftp paths relative to the login folder land.</summary>
    public static string Home => Env("APERTUR_FILES_HOME", $"/home/{User}");

    /// <summary>The client keys services.sh made (ed25519, ed25519 with a passphrase, PEM ECDSA, RSA, and one sshd does not know).</summary>
    public static string Key(string name) => File.ReadAllText(Path.Combine(KeysFolder, name));

    public const string Ed25519 = "client_ed25519";
    public const string Ed25519WithPassphrase = "client_ed25519_passphrase";
    public const string EcdsaPem = "client_ecdsa.pem";
    public const string Rsa = "client_rsa";
    public const string Stranger = "stranger_ed25519";

    private static string KeysFolder => Environment.GetEnvironmentVariable("APERTUR_FILES_KEYS") ?? Path.Combine(RepositoryRoot(), ".services", "files");

    /// <summary>A fresh folder name under the test user's home, and its path on disk; delete it with <see cref="DeleteLocal"/>.</summary>
    public static (string Remote, string Local) NewFolder()
    {
        var remote = $"apertur-tests/{Guid.NewGuid():N}";
        return (remote, Path.Combine(Home, remote));
    }

    public static void DeleteLocal(string local)
    {
        if (Directory.Exists(local))
        {
            Directory.Delete(local, recursive: true);
        }
    }

    /// <summary>Every file under a folder, as paths relative to it with '/'.</summary>
    public static string[] FilesUnder(string local) => Directory.Exists(local)
        ? Directory.GetFiles(local, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(local, f).Replace('\\', '/')).Order(StringComparer.Ordinal).ToArray()
        : [];

    private static readonly Lazy<string> HostKey = new(ScanHostKey);

    /// <summary>The running sshd's ed25519 host key fingerprint as ssh-keygen prints it, from ssh-keyscan (not from the adapter).</summary>
    public static string SftpHostKeyFingerprint => HostKey.Value;

    private static string ScanHostKey()
    {
        var start = new ProcessStartInfo("ssh-keyscan", ["-t", "ed25519", "-p", SftpPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        var line = output.Split('\n').First(l => l.Contains(" ssh-ed25519 ", StringComparison.Ordinal));
        var blob = Convert.FromBase64String(line.Split(' ')[2].Trim());
        return "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('=');
    }

    /// <summary>The FTPS server's certificate as PEM, taken from a TLS handshake (AUTH TLS first when explicit).</summary>
    public static async Task<string> FtpsCertificatePemAsync(bool @implicit)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, @implicit ? FtpsImplicitPort : FtpsExplicitPort);
        var stream = tcp.GetStream();
        if (!@implicit)
        {
            await ReadReplyAsync(stream, "220");
            await stream.WriteAsync("AUTH TLS\r\n"u8.ToArray());
            await ReadReplyAsync(stream, "234");
        }
        X509Certificate2? seen = null;
        // Reads the certificate it is shown (to hand it to the adapter as tls_certificate); nothing is sent over this connection.
#pragma warning disable CA5359
        await using var tls = new SslStream(stream, leaveInnerStreamOpen: false, (_, certificate, _, _) =>
        {
            seen = certificate is null ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
            return true;
        });
#pragma warning restore CA5359
        await tls.AuthenticateAsClientAsync("localhost");
        using var certificate = seen ?? throw new InvalidOperationException("the FTPS server sent no certificate");
        return certificate.ExportCertificatePem();
    }

    private static async Task ReadReplyAsync(NetworkStream stream, string code)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one) == 1 && one[0] != '\n')
        {
            line.Append((char)one[0]);
        }
        if (!line.ToString().StartsWith(code, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"FTP server answered '{line}', expected {code}");
        }
    }

    /// <summary>A WebDAV client of its own (not the adapter's): Basic auth as the test user.</summary>
    public static HttpClient WebDavClient()
    {
        var client = new HttpClient { BaseAddress = WebDavRoot };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{User}:{Password}")));
        return client;
    }

    /// <summary>Removes a WebDAV folder (relative to /dav/) and everything in it.</summary>
    public static async Task DeleteWebDavAsync(string folder)
    {
        using var client = WebDavClient();
        using var _ = await client.DeleteAsync(folder.TrimEnd('/') + "/");
    }

    /// <summary>A loopback port nothing listens on.</summary>
    public static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The checkout (the folder of Apertur.slnx), whose .services/ holds what scripts/services.sh made.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Apertur.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Apertur.slnx not found above " + AppContext.BaseDirectory + "; set APERTUR_FILES_KEYS");
    }

    private static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
