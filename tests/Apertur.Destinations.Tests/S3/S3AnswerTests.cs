using System.Text;
using Apertur.Destinations.S3;
using Apertur.Destinations.Storage;
using Apertur.Destinations.Tests.Infrastructure;
using Apertur.Tests;
using Microsoft.AspNetCore.Http;

namespace Apertur.Destinations.Tests.S3;

/// <summary>
/// What fauxqs cannot show: it checks no credentials and ignores storage classes and encryption. A Kestrel server on
/// loopback answers here exactly as AWS documents its errors (status and XML <c>Error</c> body), so the SDK's real parsing
/// feeds the classification, and it records the requests so the headers on the wire can be checked.
/// </summary>
public sealed class S3AnswerTests : ReceiverTests, IDisposable
{
    private static readonly ProjectSigning Signing = new("whsec_unused", null);

    private readonly S3Destination _destination = S3Kit.Destination();

    private Uri Endpoint => new($"http://127.0.0.1:{Receiver.Port}");

    private static Func<HttpContext, ReceivedRequest, Task> Error(int status, string code, string message) => (context, _) =>
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/xml";
        return context.Response.WriteAsync(
            $"""<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>test</HostId></Error>""");
    };

    /// <summary>Answers PutObject, DeleteObject and the three multipart calls as S3 does, and records them.</summary>
    private static Task S3Like(HttpContext context, ReceivedRequest request)
    {
        var query = context.Request.Query;
        context.Response.Headers["x-amz-request-id"] = "4442587FB7D0A2F9";
        if (context.Request.Method == "POST" && query.ContainsKey("uploads"))
        {
            context.Response.ContentType = "application/xml";
            return context.Response.WriteAsync(
                """<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>photos</Bucket><Key>k</Key><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>""");
        }
        if (context.Request.Method == "POST" && query.ContainsKey("uploadId"))
        {
            context.Response.ContentType = "application/xml";
            return context.Response.WriteAsync(
                """<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>photos</Bucket><Key>k</Key><ETag>"abc-2"</ETag></CompleteMultipartUploadResult>""");
        }
        if (context.Request.Method == "DELETE")
        {
            context.Response.StatusCode = 204;
            return Task.CompletedTask;
        }
        context.Response.Headers.ETag = "\"d41d8cd98f00b204e9800998ecf8427e\"";
        return Task.CompletedTask;
    }

    private Task<DeliveryResult> DeliverAsync(IDictionary<string, object?>? extra = null, int size = 2000, S3Destination? destination = null) =>
        (destination ?? _destination).DeliverAsync(S3Kit.Request(S3Kit.Config("photos", Endpoint, extra), S3Kit.Image(S3Kit.Bytes(size))), CancellationToken.None);

    [Theory]
    [InlineData("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.")]
    [InlineData("SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")]
    public async Task DeliverAsync_WrongKey_RejectedAskingToCheckTheCredentials(string code, string message)
    {
        Receiver.Respond = Error(403, code, message);

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.Rejected>();

        result.Reason.ShouldBe(
            $"{Endpoint.GetLeftPart(UriPartial.Authority)} refused the credentials (403 {code}: {message}): check access_key_id and secret_access_key (and session_token if set)");
        result.StatusCode.ShouldBe(403);
        Receiver.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task TestAsync_WrongKey_FailsAskingToCheckTheCredentials()
    {
        Receiver.Respond = Error(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");

        var result = await _destination.TestAsync(S3Kit.Target(S3Kit.Config("photos", Endpoint)), Signing, CancellationToken.None);

        result.Success.ShouldBeFalse();
        result.StatusCode.ShouldBe(403);
        result.Message.ShouldContain("refused the credentials (403 InvalidAccessKeyId");
        result.Message.ShouldContain("check access_key_id and secret_access_key");
    }

    [Fact]
    public async Task DeliverAsync_AccessDenied_RejectedNamingTheBucketAndThePermission()
    {
        Receiver.Respond = Error(403, "AccessDenied", "Access Denied");

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.Rejected>();

        result.Reason.ShouldBe($"{Endpoint.GetLeftPart(UriPartial.Authority)} denied access to bucket 'photos' (403 AccessDenied: Access Denied): the key needs permission to put objects in it");
    }

    [Fact]
    public async Task DeliverAsync_WrongRegion_RejectedAskingForTheRightRegion()
    {
        Receiver.Respond = Error(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-2'");

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.Rejected>();

        result.Reason.ShouldContain("is not in the configured region or endpoint");
        result.Reason.ShouldContain("expecting 'us-east-2'");
    }

    [Fact]
    public async Task DeliverAsync_SlowDown_RetriesLaterAsAThrottle()
    {
        Receiver.Respond = Error(503, "SlowDown", "Please reduce your request rate.");

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Throttled.ShouldBeTrue();
        result.StatusCode.ShouldBe(503);
        result.Reason.ShouldContain("asked to slow down (503 SlowDown: Please reduce your request rate.)");
        // A streamed body cannot be replayed within the attempt: the delivery queue's schedule retries it.
        Receiver.Requests.Count.ShouldBe(1);
    }

    [Fact]
    public async Task DeliverAsync_InternalError_RetriesLater()
    {
        Receiver.Respond = Error(500, "InternalError", "We encountered an internal error. Please try again.");

        var result = (await DeliverAsync()).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Throttled.ShouldBeFalse();
        result.Reason.ShouldContain("(500 InternalError");
    }

    [Fact]
    public async Task DeliverAsync_StorageClassAndEncryption_SentOnThePut()
    {
        Receiver.Respond = S3Like;

        var result = await DeliverAsync(new Dictionary<string, object?>
        {
            ["storage_class"] = "standard_ia",
            ["server_side_encryption"] = "aws:kms",
            ["sse_kms_key_id"] = "arn:aws:kms:eu-west-1:111122223333:key/apertur",
        });

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        var put = Receiver.Only();
        put.Method.ShouldBe("PUT");
        put.Path.ShouldBe($"/photos/uploads/{S3Kit.SessionId}/3.jpg");
        put.Header("x-amz-storage-class").ShouldBe("STANDARD_IA");
        put.Header("x-amz-server-side-encryption").ShouldBe("aws:kms");
        put.Header("x-amz-server-side-encryption-aws-kms-key-id").ShouldBe("arn:aws:kms:eu-west-1:111122223333:key/apertur");
        put.Header("Content-Type").ShouldBe("image/jpeg");
        put.Header("x-amz-decoded-content-length").ShouldBe("2000");
        put.Header("Authorization").ShouldStartWith("AWS4-HMAC-SHA256 Credential=AKIAAPERTURTEST/");
        put.Header("Authorization").ShouldContain("/eu-west-1/s3/aws4_request");
    }

    [Fact]
    public async Task DeliverAsync_Multipart_StorageClassAndEncryptionOnCreateAndEqualParts()
    {
        Receiver.Respond = S3Like;
        using var destination = S3Kit.Destination(tuning: new StorageTuning(5 * StorageTuning.MiB, 5 * StorageTuning.MiB));

        var result = await DeliverAsync(new Dictionary<string, object?> { ["storage_class"] = "GLACIER_IR", ["server_side_encryption"] = "AES256" },
            size: 11 * 1024 * 1024, destination: destination);

        result.ShouldBeOfType<DeliveryResult.Delivered>();
        var requests = Receiver.Requests.ToList();
        requests.Select(r => (r.Method, r.Query.Split('&')[0])).ShouldBe(
            [("POST", "?uploads"), ("PUT", "?partNumber=1"), ("PUT", "?partNumber=2"), ("PUT", "?partNumber=3"), ("POST", "?uploadId=upload-1")]);
        requests[0].Header("x-amz-storage-class").ShouldBe("GLACIER_IR");
        requests[0].Header("x-amz-server-side-encryption").ShouldBe("AES256");
        requests[0].Header("Content-Type").ShouldBe("image/jpeg");
        requests.Skip(1).Take(3).Select(r => r.Header("x-amz-decoded-content-length")).ShouldBe(["5242880", "5242880", "1048576"]);
        var complete = Encoding.UTF8.GetString(requests[4].Body);
        complete.ShouldContain("<PartNumber>1</PartNumber>");
        complete.ShouldContain("<PartNumber>3</PartNumber>");
    }

    [Fact]
    public async Task TestAsync_WriteOnlyKey_SucceedsSayingTheProbeStays()
    {
        Receiver.Respond = (context, request) => context.Request.Method == "DELETE" ? Error(403, "AccessDenied", "Access Denied")(context, request) : S3Like(context, request);

        var result = await _destination.TestAsync(S3Kit.Target(S3Kit.Config("photos", Endpoint)), Signing, CancellationToken.None);

        result.Success.ShouldBeTrue();
        result.Message.ShouldBe($"Wrote a test object at s3://photos/uploads/.apertur-connection-test ({Endpoint.GetLeftPart(UriPartial.Authority)}); the key may not delete it, which delivering does not need");
        Receiver.Requests.Select(r => r.Method).ShouldBe(["PUT", "DELETE"]);
    }

    [Fact]
    public async Task DeliverAsync_SlowServer_RetriesLaterTimedOut()
    {
        Receiver.Respond = async (context, _) => await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
        using var destination = S3Kit.Destination(timeout: TimeSpan.FromMilliseconds(400));

        var result = (await DeliverAsync(destination: destination)).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Throttled.ShouldBeTrue();
        result.Reason.ShouldBe($"Timed out after 0.4 s talking to {Endpoint.GetLeftPart(UriPartial.Authority)}");
    }

    public void Dispose() => _destination.Dispose();
}
