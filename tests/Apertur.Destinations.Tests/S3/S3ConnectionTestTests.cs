using Apertur.Destinations.S3;

namespace Apertur.Destinations.Tests.S3;

/// <summary>The "test connection" button against the real S3-compatible server on loopback (fauxqs).</summary>
public sealed class S3ConnectionTestTests : IDisposable
{
    private static readonly ProjectSigning Signing = new("whsec_unused", null);
    private static readonly string Endpoint = S3Store.Endpoint.GetLeftPart(UriPartial.Authority);

    private readonly S3Store _store = new();
    private readonly S3Destination _destination = S3Kit.Destination();

    public void Dispose()
    {
        _store.Dispose();
        _destination.Dispose();
    }

    [Fact]
    public async Task TestAsync_GoodConfig_WritesAndDeletesAProbeBesideTheImages()
    {
        var bucket = await _store.NewBucketAsync();

        var result = await _destination.TestAsync(S3Kit.Target(S3Kit.Config(bucket)), Signing, CancellationToken.None);

        result.ShouldBe(new ConnectionTestResult(true, $"Wrote and deleted a test object at s3://{bucket}/uploads/.apertur-connection-test ({Endpoint})", 200));
        (await _store.ListAsync(bucket)).ShouldBeEmpty();
    }

    [Fact]
    public async Task TestAsync_MissingBucket_SaysTheBucketDoesNotExist()
    {
        var result = await _destination.TestAsync(S3Kit.Target(S3Kit.Config("apertur-missing-bucket")), Signing, CancellationToken.None);

        result.Success.ShouldBeFalse();
        result.StatusCode.ShouldBe(404);
        result.Message.ShouldStartWith($"Bucket 'apertur-missing-bucket' does not exist at {Endpoint} (404 NoSuchBucket");
    }

    [Fact]
    public async Task TestAsync_UnreachableHost_SaysConnectionRefused()
    {
        var port = S3DeliveryTests.ClosedPort();

        var result = await _destination.TestAsync(S3Kit.Target(S3Kit.Config("photos", new Uri($"http://127.0.0.1:{port}"))), Signing, CancellationToken.None);

        result.ShouldBe(new ConnectionTestResult(false, $"Could not connect to 127.0.0.1:{port} (connection refused)"));
    }

    [Theory]
    [InlineData("""{"region":"eu-west-1"}""", "config.bucket is required")]
    [InlineData("""{"bucket":"photos","access_key_id":"a","secret_access_key":"s"}""", "config.region is required")]
    [InlineData("""{"bucket":"photos","region":"eu-west-1","access_key_id":"a","secret_access_key":"s","key_template":"../{image_id}"}""", "must not contain '..'")]
    public async Task TestAsync_BadConfig_FailsWithTheProblem(string json, string problem)
    {
        var config = System.Text.Json.JsonDocument.Parse(json).RootElement.Clone();

        var result = await _destination.TestAsync(S3Kit.Target(config), Signing, CancellationToken.None);

        result.Success.ShouldBeFalse();
        result.Message.ShouldStartWith("Invalid s3 config: ");
        result.Message.ShouldContain(problem);
    }
}
