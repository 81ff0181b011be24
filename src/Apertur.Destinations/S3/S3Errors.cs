using Amazon.Runtime;

namespace Apertur.Destinations.S3;

/// <summary>
/// Reads an S3 error answer (the <c>Code</c> of its XML body and the HTTP status) as a delivery outcome: credentials and a
/// missing or misplaced bucket are permanent and said plainly; throttling, 5xx and timeouts are retried; anything else
/// unknown is retried too, with the server's code and message in the log.
/// </summary>
public static class S3Errors
{
    private static readonly HashSet<string> Credentials = new(StringComparer.Ordinal)
    {
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired", "InvalidSecurity",
        "UnrecognizedClientException", "InvalidClientTokenId",
    };

    private static readonly HashSet<string> Denied = new(StringComparer.Ordinal)
    {
        "AccessDenied", "AllAccessDisabled", "AccountProblem", "NotSignedUp", "InvalidPayer",
    };

    private static readonly HashSet<string> WrongRegion = new(StringComparer.Ordinal)
    {
        "PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException", "TemporaryRedirect",
    };

    private static readonly HashSet<string> Permanent = new(StringComparer.Ordinal)
    {
        "InvalidBucketName", "InvalidStorageClass", "InvalidArgument", "InvalidEncryptionAlgorithmError", "KMS.NotFoundException",
        "KMS.DisabledException", "KMS.KMSInvalidStateException", "EntityTooLarge", "MethodNotAllowed", "NotImplemented",
        "InvalidObjectState", "KeyTooLongError",
    };

    private static readonly HashSet<string> Throttles = new(StringComparer.Ordinal)
    {
        "SlowDown", "ServiceUnavailable", "Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded",
        "TooManyRequests", "TooManyRequestsException", "RequestThrottled", "RequestThrottledException", "BandwidthLimitExceeded",
    };

    /// <summary>The outcome of an answered request that failed, from its error code, HTTP status and message.</summary>
    public static DeliveryResult Classify(string? code, int status, string? message, string bucket, string endpoint)
    {
        var said = Said(code, status, message);
        if (code is not null && Credentials.Contains(code))
        {
            return new DeliveryResult.Rejected(
                $"{endpoint} refused the credentials{said}: check access_key_id and secret_access_key (and session_token if set)", status);
        }
        if (code is not null && Denied.Contains(code))
        {
            return new DeliveryResult.Rejected(
                $"{endpoint} denied access to bucket '{bucket}'{said}: the key needs permission to put objects in it", status);
        }
        if (code == "NoSuchBucket" || (code is null && status == 404))
        {
            return new DeliveryResult.Rejected($"Bucket '{bucket}' does not exist at {endpoint}{said}", status);
        }
        if (code is not null && WrongRegion.Contains(code))
        {
            return new DeliveryResult.Rejected(
                $"Bucket '{bucket}' is not in the configured region or endpoint{said}: set config.region (or endpoint) to where the bucket is", status);
        }
        if (code is null && status is 401 or 403)
        {
            return new DeliveryResult.Rejected($"{endpoint} refused the request{said}: check the credentials and the bucket's permissions", status);
        }
        if (code is not null && Permanent.Contains(code))
        {
            return new DeliveryResult.Rejected($"{endpoint} refused the upload{said}", status);
        }
        if ((code is not null && Throttles.Contains(code)) || status is 429 or 503)
        {
            return new DeliveryResult.RetryLater($"{endpoint} asked to slow down{said}", Throttled: true, StatusCode: status);
        }
        return new DeliveryResult.RetryLater($"{endpoint} answered{said}", StatusCode: status);
    }

    /// <summary>The outcome of an SDK service exception that carries an answer (a status code).</summary>
    public static DeliveryResult Classify(AmazonServiceException error, string bucket, string endpoint)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Classify(string.IsNullOrEmpty(error.ErrorCode) ? null : error.ErrorCode, (int)error.StatusCode, error.Message, bucket, endpoint);
    }

    /// <summary>True when the exception holds a server's answer (not a network failure before one).</summary>
    public static bool IsAnswer(AmazonServiceException error) => error is not null && (int)error.StatusCode >= 300;

    private static string Said(string? code, int status, string? message)
    {
        var parts = new List<string>(3) { status.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (code is not null)
        {
            parts.Add(code);
        }
        var text = $" ({string.Join(' ', parts)}";
        if (!string.IsNullOrWhiteSpace(message) && message != code)
        {
            text += ": " + (message.Length > 300 ? message[..300] + "…" : message);
        }
        return text + ")";
    }
}
