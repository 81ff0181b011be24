using System.Text.Json;
using Apertur.Tests;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// The SMTP sink started by scripts/services.sh (maildev): SMTP on 51025, received mail as JSON on 51080; and its TLS front
/// (service smtptls, scripts/node/smtp-tls.cjs): STARTTLS required on 51026, implicit TLS on 51027, optional login, each
/// message relayed to maildev with an X-Apertur-Received-Over header saying how it came.
/// </summary>
public static class Maildev
{
    public const string Host = "127.0.0.1";
    public const int SmtpPort = 51025;
    public const int StartTlsPort = 51026;
    public const int ImplicitTlsPort = 51027;
    public const string User = "apertur-smtp";
    public const string Password = "apertur-smtp-password";
    private static readonly HttpClient Http = new() { BaseAddress = new Uri("http://127.0.0.1:51080") };

    /// <summary>The TLS front's self-signed certificate (for localhost and 127.0.0.1), made once by services.sh.</summary>
    public static string CertificatePath => Path.Combine(LoopbackFiles.RepositoryRoot(), ".services", "smtp-tls", "cert.pem");

    /// <summary>Settings that send this server's mail to the sink.</summary>
    public static Dictionary<string, string?> Settings(string notificationEmail) => new()
    {
        ["Apertur:Smtp:Host"] = Host,
        ["Apertur:Smtp:Port"] = SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Apertur:Smtp:UseTls"] = "false",
        ["Apertur:Smtp:From"] = "apertur@tests.invalid",
        ["Apertur:Bootstrap:NotificationEmail"] = notificationEmail,
    };

    /// <summary>Settings that send this server's mail through the TLS front (STARTTLS, or implicit TLS), logged in, trusting its certificate.</summary>
    public static Dictionary<string, string?> TlsSettings(string notificationEmail, bool implicitTls) => new(Settings(notificationEmail))
    {
        ["Apertur:Smtp:Port"] = (implicitTls ? ImplicitTlsPort : StartTlsPort).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Apertur:Smtp:UseTls"] = "true",
        ["Apertur:Smtp:ImplicitTls"] = implicitTls ? "true" : "false",
        ["Apertur:Smtp:Username"] = User,
        ["Apertur:Smtp:Password"] = Password,
        ["Apertur:Smtp:TrustedCertificate"] = CertificatePath,
    };

    /// <summary>A recipient no other test uses, so tests running at once never see each other's mail.</summary>
    public static string NewAddress() => $"ops-{Guid.NewGuid():N}@tests.invalid";

    /// <summary>
    /// Every mail the sink holds for <paramref name="address"/>: (subject, text, how the TLS front received it: "starttls"
    /// or "tls", then "; user=…" when logged in; null when it came to maildev directly).
    /// </summary>
    public static async Task<List<(string Subject, string Text, string? ReceivedOver)>> MailToAsync(string address)
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync("/email"));
        return doc.RootElement.EnumerateArray()
            .Where(m => m.TryGetProperty("to", out var to) && to.ValueKind == JsonValueKind.Array
                && to.EnumerateArray().Any(t => string.Equals(t.GetProperty("address").GetString(), address, StringComparison.OrdinalIgnoreCase)))
            .Select(m => (m.GetProperty("subject").GetString() ?? "", m.GetProperty("text").GetString() ?? "",
                m.TryGetProperty("headers", out var headers) && headers.TryGetProperty("x-apertur-received-over", out var over) ? over.GetString() : null))
            .ToList();
    }
}
