using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Apertur.Destinations.Tests.Ftp;

/// <summary>
/// Just enough of an FTP server to answer PASV with an address of its choosing (no EPSV), so a test can see where the
/// client opens the data connection: the data listener is on 127.0.0.1 only.
/// </summary>
internal sealed class FakeFtpServer : IAsyncDisposable
{
    private readonly TcpListener _control = new(IPAddress.Loopback, 0);
    private readonly TcpListener _data = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _passiveHost;
    private Task _serving = Task.CompletedTask;

    private FakeFtpServer(string passiveHost) => _passiveHost = passiveHost;

    public int Port => ((IPEndPoint)_control.LocalEndpoint).Port;
    public ConcurrentQueue<string> Commands { get; } = new();
    public byte[] Received { get; private set; } = [];

    public static Task<FakeFtpServer> StartAsync(string passiveHost)
    {
        var server = new FakeFtpServer(passiveHost);
        server._control.Start();
        server._data.Start();
        server._serving = server.ServeAsync();
        return Task.FromResult(server);
    }

    private async Task ServeAsync()
    {
        using var client = await _control.AcceptTcpClientAsync(_stop.Token);
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        async Task Say(string line) => await stream.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"), _stop.Token);
        await Say("220 fake");
        while (await reader.ReadLineAsync(_stop.Token) is { } line)
        {
            var verb = line.Split(' ')[0].ToUpperInvariant();
            Commands.Enqueue(verb);
            switch (verb)
            {
                case "USER": await Say("331 password please"); break;
                case "PASS": await Say("230 in"); break;
                case "PWD": await Say("257 \"/\""); break;
                case "TYPE": await Say("200 ok"); break;
                case "EPSV": await Say("500 no EPSV here"); break;
                case "PASV":
                    var port = ((IPEndPoint)_data.LocalEndpoint).Port;
                    await Say(string.Create(CultureInfo.InvariantCulture, $"227 Entering Passive Mode ({_passiveHost},{port / 256},{port % 256})"));
                    break;
                case "STOR":
                    var accepting = _data.AcceptTcpClientAsync(_stop.Token).AsTask();
                    await Say("150 go");
                    using (var data = await accepting.WaitAsync(TimeSpan.FromSeconds(10)))
                    using (var body = new MemoryStream())
                    {
                        await data.GetStream().CopyToAsync(body, _stop.Token);
                        Received = body.ToArray();
                    }
                    await Say("226 done");
                    break;
                case "QUIT": await Say("221 bye"); return;
                default: await Say("200 ok"); break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _control.Stop();
        _data.Stop();
        try
        {
            await _serving;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException or TimeoutException)
        {
            // Stopped.
        }
        _stop.Dispose();
    }
}
