using System.Text.Json;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>The SMTP sink started by scripts/services.sh (maildev): SMTP on 51025, received mail as JSON on 51080.</summary>
public static class Maildev
{
    public const string Host = "127.0.0.1";
    public const int SmtpPort = 51025;
    private static readonly HttpClient Http = new() { BaseAddress = new Uri("http://127.0.0.1:51080") };

    /// <summary>Settings that send this server's mail to the sink.</summary>
    public static Dictionary<string, string?> Settings(string notificationEmail) => new()
    {
        ["Apertur:Smtp:Host"] = Host,
        ["Apertur:Smtp:Port"] = SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Apertur:Smtp:UseTls"] = "false",
        ["Apertur:Smtp:From"] = "apertur@tests.invalid",
        ["Apertur:Bootstrap:NotificationEmail"] = notificationEmail,
    };

    /// <summary>A recipient no other test uses, so tests running at once never see each other's mail.</summary>
    public static string NewAddress() => $"ops-{Guid.NewGuid():N}@tests.invalid";

    /// <summary>Every mail the sink holds for <paramref name="address"/>: (subject, text).</summary>
    public static async Task<List<(string Subject, string Text)>> MailToAsync(string address)
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync("/email"));
        return doc.RootElement.EnumerateArray()
            .Where(m => m.GetProperty("to").EnumerateArray().Any(t => string.Equals(t.GetProperty("address").GetString(), address, StringComparison.OrdinalIgnoreCase)))
            .Select(m => (m.GetProperty("subject").GetString() ?? "", m.GetProperty("text").GetString() ?? ""))
            .ToList();
    }
}
