using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Apertur.Server.Hosting;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Apertur.Server.Deliveries;

/// <summary>
/// Settings section <c>Apertur:Smtp</c>: where the server's e-mails (failure notifications, reconnect notices) are sent
/// from. No <see cref="Host"/>: none are sent. Security: <see cref="UseTls"/> alone is STARTTLS (required: a server that
/// does not offer it is refused), with <see cref="ImplicitTls"/> TLS from the first byte (port 465), without
/// <see cref="UseTls"/> none. Certificates are verified against the system's roots, plus
/// <see cref="TrustedCertificate"/> when set (docs/operations.md "E-mail").
/// </summary>
public sealed class SmtpOptions : ISettings
{
    public const string Section = "Apertur:Smtp";

    public string? Host { get; set; }
    public int Port { get; set; } = 587;
    public string From { get; set; } = "apertur@localhost";
    public string? Username { get; set; }
    public string? Password { get; set; }
    /// <summary>TLS before authenticating (default true): STARTTLS, or TLS from the first byte with <see cref="ImplicitTls"/>.</summary>
    public bool UseTls { get; set; } = true;
    /// <summary>TLS from the first byte instead of STARTTLS (default false; servers on port 465). Needs <see cref="UseTls"/>.</summary>
    public bool ImplicitTls { get; set; }
    /// <summary>A PEM certificate file trusted besides the system's roots: the server's own (self-signed) or the CA that issued it. The host name is still checked.</summary>
    public string? TrustedCertificate { get; set; }
    /// <summary>How long one SMTP conversation may take, connecting included (default 30 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Port is < 1 or > 65535)
        {
            problems.Add($"{Section}:{nameof(Port)} must be 1 to 65535 (got {Port}).");
        }
        if (Timeout <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(Timeout)} must be positive (got {Timeout}).");
        }
        if (!string.IsNullOrWhiteSpace(Host) && string.IsNullOrWhiteSpace(From))
        {
            problems.Add($"{Section}:{nameof(From)} is required when {nameof(Host)} is set.");
        }
        else if (!string.IsNullOrWhiteSpace(From) && !MailboxAddress.TryParse(From, out _))
        {
            problems.Add($"{Section}:{nameof(From)} must be an e-mail address such as apertur@example.com (got '{From}').");
        }
        if (ImplicitTls && !UseTls)
        {
            problems.Add($"{Section}:{nameof(ImplicitTls)} needs {nameof(UseTls)} true (TLS from the first byte is TLS).");
        }
        if (!string.IsNullOrWhiteSpace(TrustedCertificate))
        {
            try
            {
                using var _ = X509Certificate2.CreateFromPem(File.ReadAllText(TrustedCertificate));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
            {
                problems.Add($"{Section}:{nameof(TrustedCertificate)} must be a readable PEM certificate file ({e.Message}).");
            }
        }
        return problems;
    }
}

/// <summary>An e-mail the SMTP server did not take; the message says why (connection, TLS, login or the server's answer).</summary>
public sealed class MailNotSentException(string message, Exception inner) : Exception(message, inner);

/// <summary>
/// The one way the server sends e-mail: plain-text messages over SMTP with MailKit, as <see cref="SmtpOptions"/> says
/// (STARTTLS, implicit TLS or none; login when a user name is set; the whole conversation bounded by its timeout).
/// The SMTP server is the operator's own, like the image store: it is not an outbound destination and does not go
/// through the SSRF guard.
/// </summary>
public sealed class SmtpMailer(IOptions<SmtpOptions> options, TimeProvider time)
{
    private readonly Lazy<X509Certificate2?> _trusted = new(() =>
        string.IsNullOrWhiteSpace(options.Value.TrustedCertificate) ? null : X509Certificate2.CreateFromPem(File.ReadAllText(options.Value.TrustedCertificate)));

    /// <summary>False without <c>Apertur:Smtp:Host</c>: nothing can be sent.</summary>
    public bool Configured => !string.IsNullOrWhiteSpace(options.Value.Host);

    /// <summary>Sends one plain-text message; throws <see cref="MailNotSentException"/> when it was not taken (a timeout included), and cancels only on <paramref name="ct"/>.</summary>
    public async Task SendAsync(string to, string subject, string body, CancellationToken ct)
    {
        var settings = options.Value;
        using var timeout = new CancellationTokenSource(settings.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        // The one bound is the conversation's (connect, TLS, login, send); MailKit's own per-operation timer stays off.
        using var client = new SmtpClient { Timeout = System.Threading.Timeout.Infinite };
        if (_trusted.Value is { } trusted)
        {
            client.ServerCertificateValidationCallback = (_, certificate, chain, errors) => TrustedBy(trusted, certificate, chain, errors);
        }
        var security = !settings.UseTls ? SecureSocketOptions.None
            : settings.ImplicitTls ? SecureSocketOptions.SslOnConnect
            : SecureSocketOptions.StartTls;
        try
        {
            using var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse(settings.From));
            message.To.Add(MailboxAddress.Parse(to));
            message.Subject = subject;
            message.Body = new TextPart("plain") { Text = body };
            await client.ConnectAsync(settings.Host ?? throw new InvalidOperationException("Apertur:Smtp:Host is not set"), settings.Port, security, linked.Token);
            if (!string.IsNullOrEmpty(settings.Username))
            {
                await client.AuthenticateAsync(settings.Username, settings.Password ?? "", linked.Token);
            }
            await client.SendAsync(message, linked.Token);
            await client.DisconnectAsync(quit: true, linked.Token);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            var why = timeout.IsCancellationRequested ? $"no answer within {settings.Timeout.TotalSeconds:0.#} s" : e.Message;
            throw new MailNotSentException($"SMTP {settings.Host}:{settings.Port} did not take the e-mail: {why}", e);
        }
    }

    /// <summary>
    /// Trusted by the system, or through <paramref name="trusted"/> as the root of the chain; the name must match either
    /// way. Never accepts a certificate for another host.
    /// </summary>
    private static bool TrustedBy(X509Certificate2 trusted, System.Security.Cryptography.X509Certificates.X509Certificate? certificate,
        X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch) || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            return false;
        }
        using var presented = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.Add(trusted);
        // A private certificate has no revocation list to ask.
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        return custom.Build(presented);
    }
}
