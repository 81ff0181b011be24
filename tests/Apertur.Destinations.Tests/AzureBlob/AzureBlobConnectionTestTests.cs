using Apertur.Destinations.Outbound;
using Apertur.Destinations.Tests.S3;

namespace Apertur.Destinations.Tests.AzureBlob;

/// <summary>The "test connection" button against the real Blob service on loopback (Azurite verifies every signature).</summary>
public sealed class AzureBlobConnectionTestTests : IDisposable
{
    private static readonly ProjectSigning Signing = new("whsec_unused", null);
    private static readonly string Endpoint = Azurite.Endpoint.AbsoluteUri.TrimEnd('/');

    private readonly Azurite _azurite = new();
    private readonly HttpClient _http = BlobKit.GuardedClient();

    public void Dispose()
    {
        _azurite.Dispose();
        _http.Dispose();
    }

    private Task<ConnectionTestResult> TestAsync(System.Text.Json.JsonElement config) =>
        BlobKit.Destination(_http).TestAsync(BlobKit.Target(config), Signing, CancellationToken.None);

    [Fact]
    public async Task TestAsync_GoodAccountKey_WritesAndDeletesAProbe()
    {
        var container = await _azurite.NewContainerAsync(publicRead: false);

        var result = await TestAsync(BlobKit.Config(container));

        result.ShouldBe(new ConnectionTestResult(true, $"Wrote and deleted a test blob at {Endpoint}/{container}/uploads/.apertur-connection-test", 201));
        (await _azurite.ListAsync(container)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TestAsync_SasWithoutDelete_SucceedsSayingTheProbeStays()
    {
        var container = await _azurite.NewContainerAsync(publicRead: false);
        var sas = Azurite.ContainerSas(container, "cw", TimeProvider.System.GetUtcNow().AddHours(1));

        var result = await TestAsync(BlobKit.Config(container, new Dictionary<string, object?> { ["sas_token"] = sas }, accountKey: false));

        result.Success.ShouldBeTrue();
        result.Message.ShouldBe(
            $"Wrote a test blob at {Endpoint}/{container}/uploads/.apertur-connection-test; the credential may not delete it, which delivering does not need");
        (await _azurite.ListAsync(container)).Select(b => b.Name).ShouldBe(["uploads/.apertur-connection-test"]);
    }

    [Fact]
    public async Task TestAsync_WrongKey_FailsSayingTheCredentialsWereRefused()
    {
        var container = await _azurite.NewContainerAsync(publicRead: false);
        var wrongKey = Convert.ToBase64String(BlobKit.Bytes(64, seed: 97));

        var result = await TestAsync(BlobKit.Config(container, new Dictionary<string, object?> { ["account_key"] = wrongKey }));

        result.Success.ShouldBeFalse();
        result.StatusCode.ShouldBe(403);
        result.Message.ShouldStartWith($"{Endpoint} refused the credentials (403");
        result.Message.ShouldEndWith("check account_key and account_name");
    }

    [Fact]
    public async Task TestAsync_MissingContainer_SaysTheContainerDoesNotExist()
    {
        var result = await TestAsync(BlobKit.Config("apertur-missing"));

        result.Success.ShouldBeFalse();
        result.StatusCode.ShouldBe(404);
        result.Message.ShouldStartWith($"Container 'apertur-missing' does not exist in account 'devstoreaccount1' at {Endpoint} (404 ContainerNotFound");
    }

    [Fact]
    public async Task TestAsync_UnreachableHost_SaysConnectionRefused()
    {
        var port = S3DeliveryTests.ClosedPort();

        var result = await TestAsync(BlobKit.Config("photos", new Dictionary<string, object?> { ["endpoint"] = $"http://127.0.0.1:{port}/devstoreaccount1" }));

        result.ShouldBe(new ConnectionTestResult(false, $"Could not connect to 127.0.0.1:{port} (connection refused)"));
    }

    [Fact]
    public async Task TestAsync_HostNameResolvingToLoopback_RefusedByTheGuard()
    {
        var container = await _azurite.NewContainerAsync(publicRead: false);
        using var unguarded = BlobKit.GuardedClient(new OutboundGuard());
        var config = BlobKit.Config(container, new Dictionary<string, object?> { ["endpoint"] = Azurite.EndpointNamed("localhost") });

        var result = await BlobKit.Destination(unguarded).TestAsync(BlobKit.Target(config), Signing, CancellationToken.None);

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith("Refused to connect to localhost (");
        result.Message.ShouldContain("private, loopback, link-local and reserved addresses are blocked");
        (await _azurite.ListAsync(container)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TestAsync_BadConfig_FailsWithTheProblem()
    {
        var result = await TestAsync(BlobKit.Config("photos", new Dictionary<string, object?> { ["sas_token"] = "sv=2022-11-02&sig=x" }));

        result.Success.ShouldBeFalse();
        result.Message.ShouldBe("Invalid azure_blob config: config has sas_token and account_key: give only one credential.");
    }
}
