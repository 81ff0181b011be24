using System.Net;
using System.Net.Sockets;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.Extensions.Options;
using Shouldly;

namespace Apertur.IntegrationTests.Deliveries;

/// <summary>
/// Failure e-mails through real SMTP servers (scripts/services.sh: maildev, and its TLS front smtptls): without TLS, with
/// STARTTLS (the front refuses MAIL FROM before STARTTLS) and with implicit TLS, read back from maildev with the header
/// the front adds, so a message that did not come over TLS cannot pass. Then what <see cref="SmtpMailer"/> refuses.
/// </summary>
public sealed class FailureEmailTests
{
    public static TheoryData<string, string> DatabasesAndSecurity()
    {
        var data = new TheoryData<string, string>();
        foreach (var database in new[] { Databases.Sqlite, Databases.Postgres })
        {
            foreach (var security in new[] { "none", "starttls", "tls" })
            {
                data.Add(database, security);
            }
        }
        return data;
    }

    [Theory, MemberData(nameof(DatabasesAndSecurity))]
    public async Task RefusedDelivery_IsEmailedOnce_OverTheConfiguredSecurity(string database, string security)
    {
        await using var receiver = await TestReceiver.StartAsync();
        receiver.Respond = (context, _) =>
        {
            context.Response.StatusCode = 410;
            return Task.CompletedTask;
        };
        var clock = new ManualClock();
        var address = Maildev.NewAddress();
        var settings = security == "none" ? Maildev.Settings(address) : Maildev.TlsSettings(address, implicitTls: security == "tls");
        await using var app = await DeliveryKit.StartAsync(database, clock, settings);
        var sessionId = await DeliveryKit.SessionAsync(app, await DeliveryKit.WebhookAsync(app, receiver.Url()));
        var imageId = await DeliveryKit.UploadAsync(app, sessionId);
        var delivery = await DeliveryKit.WaitForAttemptsAsync(app, imageId, 1);
        delivery.Status.ShouldBe(DeliveryStatus.Failed);

        clock.Advance(TimeSpan.FromMinutes(1));
        await Wait.UntilAsync(async () => (await Maildev.MailToAsync(address)).Count > 0, what: "the failure email");
        var mail = (await Maildev.MailToAsync(address)).ShouldHaveSingleItem();
        mail.Subject.ShouldBe("[Apertur] 1 image delivery failed in project \"Default\"");
        mail.Text.ShouldContain($"Delivery {delivery.Id}");
        mail.Text.ShouldContain($"Image:       {imageId} (small.jpg)");
        mail.Text.ShouldContain($"POST {app.Client.BaseAddress?.GetLeftPart(UriPartial.Authority)}");
        mail.ReceivedOver.ShouldBe(security == "none" ? null : $"{security}; user={Maildev.User}");
        (await DeliveryKit.DeliveryOfAsync(app, imageId)).NotifiedAt.ShouldNotBeNull();
    }

    private static SmtpMailer Mailer(Action<SmtpOptions> change, TimeProvider? time = null)
    {
        var options = new SmtpOptions { Host = Maildev.Host, From = "apertur@tests.invalid" };
        change(options);
        options.Problems().ShouldBeEmpty();
        return new SmtpMailer(Options.Create(options), time ?? TimeProvider.System);
    }

    [Fact]
    public async Task StartTls_WithLogin_MailArrivesOverTls()
    {
        var address = Maildev.NewAddress();
        await Mailer(o =>
        {
            o.Port = Maildev.StartTlsPort;
            o.Username = Maildev.User;
            o.Password = Maildev.Password;
            o.TrustedCertificate = Maildev.CertificatePath;
        }).SendAsync(address, "Grüße", "Zoë's photos: ✓\n", CancellationToken.None);

        var mail = (await Maildev.MailToAsync(address)).ShouldHaveSingleItem();
        mail.Subject.ShouldBe("Grüße");
        mail.Text.ShouldBe("Zoë's photos: ✓\n");
        mail.ReceivedOver.ShouldBe($"starttls; user={Maildev.User}");
    }

    [Fact]
    public async Task WithoutTls_ToAServerThatRequiresStartTls_IsRefusedWithItsAnswer()
    {
        var address = Maildev.NewAddress();
        var refused = await Should.ThrowAsync<MailNotSentException>(() => Mailer(o =>
        {
            o.Port = Maildev.StartTlsPort;
            o.UseTls = false;
        }).SendAsync(address, "plain", "plain", CancellationToken.None));

        refused.Message.ShouldBe("SMTP 127.0.0.1:51026 did not take the e-mail: 5.7.0 Must issue a STARTTLS command first");
        (await Maildev.MailToAsync(address)).ShouldBeEmpty();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SelfSignedCertificate_NotTrusted_IsRefused(bool implicitTls)
    {
        var address = Maildev.NewAddress();
        var refused = await Should.ThrowAsync<MailNotSentException>(() => Mailer(o =>
        {
            o.Port = implicitTls ? Maildev.ImplicitTlsPort : Maildev.StartTlsPort;
            o.ImplicitTls = implicitTls;
        }).SendAsync(address, "untrusted", "untrusted", CancellationToken.None));

        refused.InnerException.ShouldBeOfType<MailKit.Security.SslHandshakeException>();
        (await Maildev.MailToAsync(address)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TrustedCertificate_OfAnotherServer_DoesNotTrustThisOne()
    {
        using var other = System.Security.Cryptography.RSA.Create(2048);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=other.invalid", other,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var otherCertificate = request.CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.MaxValue);
        var path = Path.Combine(Path.GetTempPath(), $"apertur-smtp-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(path, otherCertificate.ExportCertificatePem());
        try
        {
            var address = Maildev.NewAddress();
            await Should.ThrowAsync<MailNotSentException>(() => Mailer(o =>
            {
                o.Port = Maildev.StartTlsPort;
                o.TrustedCertificate = path;
            }).SendAsync(address, "other", "other", CancellationToken.None));
            (await Maildev.MailToAsync(address)).ShouldBeEmpty();
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task WrongPassword_IsRefused()
    {
        var address = Maildev.NewAddress();
        var refused = await Should.ThrowAsync<MailNotSentException>(() => Mailer(o =>
        {
            o.Port = Maildev.ImplicitTlsPort;
            o.ImplicitTls = true;
            o.Username = Maildev.User;
            o.Password = "wrong";
            o.TrustedCertificate = Maildev.CertificatePath;
        }).SendAsync(address, "wrong", "wrong", CancellationToken.None));

        refused.InnerException.ShouldBeOfType<MailKit.Security.AuthenticationException>();
        (await Maildev.MailToAsync(address)).ShouldBeEmpty();
    }

    [Fact]
    public async Task AServerThatNeverAnswers_IsGivenUpAfterTheTimeout()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var accepted = listener.AcceptSocketAsync();
            var sending = Mailer(o =>
            {
                o.Port = ((IPEndPoint)listener.LocalEndpoint).Port;
                o.UseTls = false;
                o.Timeout = TimeSpan.FromMilliseconds(200);
            }).SendAsync(Maildev.NewAddress(), "silence", "silence", CancellationToken.None);
            using var silent = await accepted;

            var refused = await Should.ThrowAsync<MailNotSentException>(() => sending);
            refused.Message.ShouldEndWith("did not take the e-mail: no answer within 0.2 s");
        }
        finally
        {
            listener.Stop();
        }
    }
}
