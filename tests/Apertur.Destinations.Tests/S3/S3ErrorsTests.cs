using System.Net;
using Amazon.S3;
using Apertur.Destinations.S3;

namespace Apertur.Destinations.Tests.S3;

/// <summary>Every documented S3 error code the adapter names, read from the SDK's exception as it raises them.</summary>
public sealed class S3ErrorsTests
{
    [Theory]
    [InlineData("InvalidAccessKeyId", 403, "refused the credentials")]
    [InlineData("SignatureDoesNotMatch", 403, "refused the credentials")]
    [InlineData("ExpiredToken", 400, "refused the credentials")]
    [InlineData("InvalidToken", 400, "refused the credentials")]
    [InlineData("AccessDenied", 403, "denied access to bucket 'photos'")]
    [InlineData("AllAccessDisabled", 403, "denied access to bucket 'photos'")]
    [InlineData("NoSuchBucket", 404, "Bucket 'photos' does not exist at s3.eu-west-1.amazonaws.com")]
    [InlineData(null, 404, "Bucket 'photos' does not exist")]
    [InlineData("PermanentRedirect", 301, "is not in the configured region or endpoint")]
    [InlineData("AuthorizationHeaderMalformed", 400, "is not in the configured region or endpoint")]
    [InlineData(null, 403, "refused the request")]
    [InlineData("InvalidStorageClass", 400, "refused the upload")]
    [InlineData("KMS.NotFoundException", 400, "refused the upload")]
    public void Classify_PermanentErrors_Rejected(string? code, int status, string expected)
    {
        var error = new AmazonS3Exception("server message") { ErrorCode = code, StatusCode = (HttpStatusCode)status };

        var result = S3Errors.Classify(error, "photos", "s3.eu-west-1.amazonaws.com").ShouldBeOfType<DeliveryResult.Rejected>();

        result.Reason.ShouldContain(expected);
        result.Reason.ShouldContain("server message");
        result.StatusCode.ShouldBe(status);
    }

    [Theory]
    [InlineData("SlowDown", 503, true)]
    [InlineData("ServiceUnavailable", 503, true)]
    [InlineData("Throttling", 400, true)]
    [InlineData("RequestLimitExceeded", 400, true)]
    [InlineData(null, 429, true)]
    [InlineData(null, 503, true)]
    [InlineData("InternalError", 500, false)]
    [InlineData("RequestTimeout", 400, false)]
    [InlineData("RequestTimeTooSkewed", 403, false)]
    [InlineData(null, 502, false)]
    [InlineData("SomethingNew", 409, false)]
    public void Classify_PassingTrouble_RetriedLater(string? code, int status, bool throttled)
    {
        var error = new AmazonS3Exception("server message") { ErrorCode = code, StatusCode = (HttpStatusCode)status };

        var result = S3Errors.Classify(error, "photos", "s3.eu-west-1.amazonaws.com").ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Throttled.ShouldBe(throttled);
        result.StatusCode.ShouldBe(status);
        result.Reason.ShouldContain($"({status}");
    }
}
