using System.Net;
using System.Net.Sockets;

namespace Apertur.Destinations.Outbound;

/// <summary>
/// The SSRF guard on every outbound connection (webhooks, storage endpoints, FTP, SFTP, WebDAV). It checks the address
/// actually connected to, after DNS resolution, so a hostname cannot smuggle a private address past it (DNS rebinding
/// included: the checked address is the one used). Loopback, private, link-local (cloud metadata), CGNAT, multicast and
/// reserved ranges are refused unless the operator lists them in <c>Apertur:Outbound:AllowedNetworks</c>.
/// </summary>
public sealed class OutboundGuard
{
    private static readonly IPNetwork[] Blocked =
    [
        IPNetwork.Parse("0.0.0.0/8"),
        IPNetwork.Parse("10.0.0.0/8"),
        IPNetwork.Parse("100.64.0.0/10"),
        IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"),
        IPNetwork.Parse("172.16.0.0/12"),
        IPNetwork.Parse("192.0.0.0/24"),
        IPNetwork.Parse("192.0.2.0/24"),
        IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"),
        IPNetwork.Parse("198.51.100.0/24"),
        IPNetwork.Parse("203.0.113.0/24"),
        IPNetwork.Parse("224.0.0.0/4"),
        IPNetwork.Parse("240.0.0.0/4"),
        IPNetwork.Parse("::/128"),
        IPNetwork.Parse("::1/128"),
        IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"),
        IPNetwork.Parse("ff00::/8"),
        IPNetwork.Parse("2001:db8::/32"),
    ];

    private readonly IPNetwork[] _allowed;

    public OutboundGuard(IEnumerable<string>? allowedNetworks = null)
    {
        _allowed = (allowedNetworks ?? []).Where(n => !string.IsNullOrWhiteSpace(n)).Select(ParseNetwork).ToArray();
    }

    /// <summary>The operator's allow-list entries, as given (CIDR or single addresses).</summary>
    public IReadOnlyList<IPNetwork> AllowedNetworks => _allowed;

    public bool IsAllowed(IPAddress address)
    {
        address = Canonical(address);
        if (_allowed.Any(n => n.Contains(address)))
        {
            return true;
        }
        return !Blocked.Any(n => n.Contains(address));
    }

    /// <summary>Resolves the host and returns the addresses the guard allows, or throws <see cref="OutboundBlockedException"/>.</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, ct).ConfigureAwait(false);
        var allowed = addresses.Where(IsAllowed).ToArray();
        if (allowed.Length == 0)
        {
            var shown = addresses.Length == 0 ? "nothing" : string.Join(", ", addresses.Select(a => a.ToString()));
            throw new OutboundBlockedException(
                $"Refused to connect to {host} ({shown}): private, loopback, link-local and reserved addresses are blocked. " +
                "An operator can allow a network with Apertur:Outbound:AllowedNetworks.");
        }
        return allowed;
    }

    /// <summary>Opens a TCP connection to an allowed address of the host: use as <c>SocketsHttpHandler.ConnectCallback</c>.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var addresses = await ResolveAsync(context.DnsEndPoint.Host, ct).ConfigureAwait(false);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, ct).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>An HTTP handler whose every connection passes the guard; redirects are never followed.</summary>
    public SocketsHttpHandler CreateHandler() => new()
    {
        ConnectCallback = ConnectAsync,
        AllowAutoRedirect = false,
        UseCookies = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    };

    private static IPAddress Canonical(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        // NAT64 (64:ff9b::/96) embeds an IPv4 address in its last 32 bits.
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            if (bytes[0] == 0x00 && bytes[1] == 0x64 && bytes[2] == 0xff && bytes[3] == 0x9b && bytes.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
            {
                return new IPAddress(bytes.AsSpan(12, 4));
            }
        }
        return address;
    }

    private static IPNetwork ParseNetwork(string text)
    {
        text = text.Trim();
        if (IPNetwork.TryParse(text, out var network))
        {
            return network;
        }
        if (IPAddress.TryParse(text, out var single))
        {
            return new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
        }
        throw new FormatException($"'{text}' in Apertur:Outbound:AllowedNetworks is neither a CIDR network nor an IP address.");
    }
}

/// <summary>An outbound connection refused by the SSRF guard: permanent until the operator changes the allow-list.</summary>
public sealed class OutboundBlockedException(string message) : Exception(message);
