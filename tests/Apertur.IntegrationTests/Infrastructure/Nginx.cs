using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Shouldly;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// A real nginx (Debian's, installed by scripts/services.sh) in front of a test server, terminating TLS with a certificate
/// made for the test. It runs deploy/nginx/apertur.conf, the file docs/deploy.md gives to users, with only the listening
/// port, the certificate paths and the upstream address replaced; a replacement that finds nothing fails the test, so the
/// file cannot drift from what is tested.
/// </summary>
public sealed class Nginx : IAsyncDisposable
{
    private const string Binary = "/usr/sbin/nginx";
    private readonly Process _process;
    private readonly string _directory;

    private Nginx(Process process, string directory, int port, X509Certificate2 certificate)
    {
        _process = process;
        _directory = directory;
        Port = port;
        Certificate = certificate;
    }

    public int Port { get; }

    /// <summary>The proxy's public origin, as a phone would type it.</summary>
    public Uri BaseAddress => new($"https://localhost:{Port}");

    /// <summary>The test certificate nginx presents (for localhost and 127.0.0.1).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The configuration of docs/deploy.md as shipped.</summary>
    public static string ShippedConfig => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "deploy", "nginx", "apertur.conf"));

    /// <summary>Starts nginx on a free loopback port, proxying to <paramref name="upstream"/> (a Kestrel test server).</summary>
    public static async Task<Nginx> StartAsync(Uri upstream)
    {
        File.Exists(Binary).ShouldBeTrue("nginx is not installed: run scripts/services.sh start tools");
        var directory = Path.Combine(Path.GetTempPath(), "apertur-tests", "nginx-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var certificate = Loopback.Certificate();
        await File.WriteAllTextAsync(Path.Combine(directory, "cert.pem"), certificate.ExportCertificatePem());
        using (var key = certificate.GetRSAPrivateKey()!)
        {
            await File.WriteAllTextAsync(Path.Combine(directory, "key.pem"), key.ExportPkcs8PrivateKeyPem());
        }

        var port = Loopback.FreePort();
        var site = ShippedConfig;
        site = Replace(site, "listen 443 ssl http2;", $"listen 127.0.0.1:{port} ssl http2;");
        site = Replace(site, "/etc/letsencrypt/live/photos.example.com/fullchain.pem", Path.Combine(directory, "cert.pem"));
        site = Replace(site, "/etc/letsencrypt/live/photos.example.com/privkey.pem", Path.Combine(directory, "key.pem"));
        site = Replace(site, "server 127.0.0.1:5080;", $"server {upstream.Host}:{upstream.Port};");
        await File.WriteAllTextAsync(Path.Combine(directory, "apertur.conf"), site);

        // The main file Debian's /etc/nginx/nginx.conf would be, reduced to what a private instance needs.
        var user = Environment.UserName == "root" ? "user root root;" : "";
        await File.WriteAllTextAsync(Path.Combine(directory, "nginx.conf"), $$"""
            {{user}}
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path {{directory}}/client_body;
                proxy_temp_path {{directory}}/proxy;
                fastcgi_temp_path {{directory}}/fastcgi;
                uwsgi_temp_path {{directory}}/uwsgi;
                scgi_temp_path {{directory}}/scgi;
                include {{directory}}/apertur.conf;
            }
            """);

        var start = new ProcessStartInfo(Binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-p", directory, "-c", Path.Combine(directory, "nginx.conf"), "-e", Path.Combine(directory, "error.log"), "-g", "daemon off;" })
        {
            start.ArgumentList.Add(arg);
        }
        var process = Process.Start(start)!;
        var nginx = new Nginx(process, directory, port, certificate);
        for (var i = 0; i < 100; i++)
        {
            if (process.HasExited)
            {
                var log = File.Exists(Path.Combine(directory, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(directory, "error.log")) : "";
                throw new InvalidOperationException($"nginx exited with {process.ExitCode}: {await process.StandardError.ReadToEndAsync()} {log}");
            }
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return nginx;
            }
            catch (SocketException)
            {
                await Task.Delay(50);
            }
        }
        await nginx.DisposeAsync();
        throw new TimeoutException("nginx did not listen within 5 s");
    }

    /// <summary>
    /// A client of the proxy connecting from <paramref name="from"/> (any 127.x.y.z: each is a different client to the
    /// server behind), trusting only the test certificate, keeping cookies, not following redirects.
    /// </summary>
    public HttpClient Client(IPAddress from, CookieContainer? cookies = null)
    {
        var handler = Loopback.HandlerFrom(from);
        handler.UseCookies = cookies is not null;
        handler.CookieContainer = cookies ?? new CookieContainer();
        handler.SslOptions = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == Certificate.GetCertHashString(),
        };
        return new HttpClient(handler) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(100) };
    }

    private static string Replace(string text, string what, string with)
    {
        text.ShouldContain(what, customMessage: "deploy/nginx/apertur.conf changed: update the test's replacements (tests' Infrastructure/Nginx.cs)");
        return text.Replace(what, with, StringComparison.Ordinal);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        Certificate.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A worker still closing its files: the temp directory goes with the next clean-up.
        }
    }
}
