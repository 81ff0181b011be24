using System.Net;
using System.Net.Sockets;
using Apertur.Destinations.Outbound;
using Shouldly;

namespace Apertur.UnitTests.Outbound;

public sealed class OutboundGuardTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.31.255.255")]
    [InlineData("192.168.1.10")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("224.0.0.1")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("::ffff:127.0.0.1")]
    [InlineData("::ffff:169.254.169.254")]
    [InlineData("64:ff9b::a00:1")]
    public void IsAllowed_PrivateLoopbackLinkLocalAndMetadata_AreBlocked(string address) =>
        new OutboundGuard().IsAllowed(IPAddress.Parse(address)).ShouldBeFalse();

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("1.1.1.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("172.32.0.1")]
    public void IsAllowed_PublicAddresses_AreAllowed(string address) =>
        new OutboundGuard().IsAllowed(IPAddress.Parse(address)).ShouldBeTrue();

    [Fact]
    public void IsAllowed_AllowListOpensExactlyItsNetworks()
    {
        var guard = new OutboundGuard(["127.0.0.0/8", "::1", "10.20.0.5"]);
        guard.IsAllowed(IPAddress.Parse("127.0.0.1")).ShouldBeTrue();
        guard.IsAllowed(IPAddress.Parse("::1")).ShouldBeTrue();
        guard.IsAllowed(IPAddress.Parse("10.20.0.5")).ShouldBeTrue();
        guard.IsAllowed(IPAddress.Parse("10.20.0.6")).ShouldBeFalse();
        guard.IsAllowed(IPAddress.Parse("169.254.169.254")).ShouldBeFalse();
    }

    [Fact]
    public void Constructor_MalformedAllowListEntry_FailsClearly() =>
        Should.Throw<FormatException>(() => new OutboundGuard(["not-a-network"])).Message.ShouldContain("AllowedNetworks");

    [Fact]
    public async Task ResolveAsync_LocalhostName_IsBlockedWithAnActionableMessage()
    {
        var error = await Should.ThrowAsync<OutboundBlockedException>(() => new OutboundGuard().ResolveAsync("localhost", CancellationToken.None));
        error.Message.ShouldContain("Apertur:Outbound:AllowedNetworks");
    }

    [Fact]
    public async Task HttpClient_ThroughTheGuard_CannotReachLoopbackUnlessAllowed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var blocked = new HttpClient(new OutboundGuard().CreateHandler());
        var error = await Should.ThrowAsync<HttpRequestException>(() => blocked.GetAsync($"http://127.0.0.1:{port}/"));
        error.InnerException.ShouldBeOfType<OutboundBlockedException>();

        using var allowed = new HttpClient(new OutboundGuard(["127.0.0.1/32"]).CreateHandler()) { Timeout = TimeSpan.FromSeconds(5) };
        var request = allowed.GetAsync($"http://127.0.0.1:{port}/");
        using var accepted = await listener.AcceptTcpClientAsync();
        accepted.Connected.ShouldBeTrue();
    }
}
