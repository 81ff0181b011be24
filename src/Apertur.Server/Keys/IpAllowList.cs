using System.Net;
using System.Net.Sockets;

namespace Apertur.Server.Keys;

/// <summary>A key's <c>allowedIps</c>: single addresses or CIDR networks, IPv4 or IPv6. Empty means any address.</summary>
public static class IpAllowList
{
    public static bool TryParse(string entry, out IPNetwork network)
    {
        var text = entry.Trim();
        if (text.Contains('/', StringComparison.Ordinal))
        {
            return IPNetwork.TryParse(text, out network);
        }
        // Only dotted or colon forms: "10" would otherwise parse as 0.0.0.10.
        if ((text.Contains('.', StringComparison.Ordinal) || text.Contains(':', StringComparison.Ordinal)) && IPAddress.TryParse(text, out var address))
        {
            address = Normalise(address);
            network = new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }
        network = default;
        return false;
    }

    /// <summary>True when <paramref name="remote"/> is inside one of the entries; an unknown remote address is never allowed.</summary>
    public static bool Allows(IEnumerable<string> entries, IPAddress? remote)
    {
        if (remote is null)
        {
            return false;
        }
        remote = Normalise(remote);
        return entries.Any(e => TryParse(e, out var network) && network.Contains(remote));
    }

    private static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
