using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Apertur.IntegrationTests.Infrastructure;

/// <summary>
/// Clients that connect from a chosen loopback address: every 127.x.y.z is a different client to the server (its rate
/// limits, a key's <c>allowedIps</c>), which lets one machine play several people and a proxy in between.
/// </summary>
public static class Loopback
{
    /// <summary>A handler whose connections leave from <paramref name="from"/>, whatever host the URL names (resolved to 127.0.0.1).</summary>
    public static SocketsHttpHandler HandlerFrom(IPAddress from) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectCallback = async (context, ct) =>
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                socket.Bind(new IPEndPoint(from, 0));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, context.DnsEndPoint.Port), ct);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };

    public static HttpClient ClientFrom(IPAddress from, Uri baseAddress) => new(HandlerFrom(from)) { BaseAddress = baseAddress };

    /// <summary>A loopback port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A self-signed certificate for <c>localhost</c> and <c>127.0.0.1</c>, valid for a day, its key exportable.</summary>
    public static X509Certificate2 Certificate()
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        var now = TimeProvider.System.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
    }
}
