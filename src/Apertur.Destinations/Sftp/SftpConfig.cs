using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Apertur.Destinations.FileServers;

namespace Apertur.Destinations.Sftp;

/// <summary>
/// An sftp destination's config: <c>host</c>, <c>port</c> (22), <c>username</c> (alias <c>user</c>), <c>password</c> and/or
/// <c>private_key</c> (PEM or OpenSSH text) with an optional <c>private_key_passphrase</c> (alias <c>passphrase</c>),
/// <c>host_key_fingerprint</c> (<c>SHA256:…</c> as <c>ssh-keygen -l</c> prints it; when set, any other key is refused),
/// <c>remote_dir</c> (relative to the login folder, or absolute) and <c>path_template</c>.
/// </summary>
public sealed record SftpConfig(
    string Host,
    int Port,
    string Username,
    string? Password,
    string? PrivateKey,
    string? Passphrase,
    string? HostKeySha256,
    string RemoteDir,
    string PathTemplate) : IDestinationConfig<SftpConfig>
{
    public const int DefaultPort = 22;

    public static bool TryParse(JsonElement config, [NotNullWhen(true)] out SftpConfig? parsed, out IReadOnlyList<string> problems)
    {
        parsed = null;
        var read = new FileServerConfigReader(config, DestinationKinds.Sftp, "\"host\", \"username\" and \"password\" or \"private_key\"");
        problems = read.Problems;
        if (!read.IsObject)
        {
            return false;
        }
        var host = read.Host();
        var port = read.Port(DefaultPort);
        var username = read.Required("username", "the SSH login", "user");
        var password = read.Secret("password", "pass");
        var key = read.Secret("private_key", "ssh_key", "key");
        var passphrase = read.Secret("private_key_passphrase", "passphrase");
        if (password is null && key is null)
        {
            read.Problems.Add("config.password or config.private_key is required to log in.");
        }
        if (key is not null && KeyProblem(key) is { } keyProblem)
        {
            read.Problems.Add(keyProblem);
        }
        string? fingerprint = null;
        if (read.Text("host_key_fingerprint", "fingerprint") is { } given)
        {
            fingerprint = Fingerprint(given);
            if (fingerprint is null)
            {
                read.Problems.Add($"config.host_key_fingerprint must be the SHA-256 fingerprint as ssh-keygen -l prints it, " +
                    $"'SHA256:' and 43 base64 characters (got '{given}'). Get it with: ssh-keyscan -p PORT HOST | ssh-keygen -lf -");
            }
        }
        var remoteDir = read.RemoteDir();
        var template = read.PathTemplate();
        if (read.Problems.Count > 0)
        {
            return false;
        }
        parsed = new SftpConfig(host, port, username, password, key, passphrase, fingerprint, remoteDir, template);
        return true;
    }

    /// <summary>The fingerprint as SSH.NET reports it: base64 of the SHA-256, no prefix, no padding; null when malformed.</summary>
    public static string? Fingerprint(string text)
    {
        var value = text.Trim();
        if (value.StartsWith("SHA256:", StringComparison.OrdinalIgnoreCase))
        {
            value = value[7..];
        }
        value = value.TrimEnd('=');
        var padded = value + new string('=', (4 - (value.Length % 4)) % 4);
        var bytes = new byte[48];
        return Convert.TryFromBase64String(padded, bytes, out var written) && written == 32 ? value : null;
    }

    private static string? KeyProblem(string key)
    {
        var text = key.Trim();
        if (text.StartsWith("PuTTY-User-Key-File", StringComparison.Ordinal))
        {
            return "config.private_key is a PuTTY key: export it in OpenSSH format (PuTTYgen: Conversions → Export OpenSSH key).";
        }
        if (!text.StartsWith("-----BEGIN ", StringComparison.Ordinal) || !text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
        {
            return "config.private_key must be the text of a private key in PEM or OpenSSH format (-----BEGIN … PRIVATE KEY-----).";
        }
        return null;
    }
}
