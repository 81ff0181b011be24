using Apertur.Destinations.AzureBlob;

namespace Apertur.Destinations.Tests.AzureBlob;

/// <summary>Blob service error codes as Azure documents them, read as delivery outcomes.</summary>
public sealed class AzureErrorsTests
{
    private static DeliveryResult Classify(int status, string? code, bool sas = false) =>
        AzureErrors.Classify(status, code, "server message", TimeSpan.FromSeconds(7), "acct", "images", "https://acct.blob.core.windows.net", sas);

    [Theory]
    [InlineData(403, "AuthenticationFailed", false, "refused the credentials (403 AuthenticationFailed: server message): check account_key and account_name")]
    [InlineData(403, "AuthenticationFailed", true, "refused the credentials (403 AuthenticationFailed: server message): check the SAS token")]
    [InlineData(400, "InvalidAuthenticationInfo", false, "refused the credentials")]
    [InlineData(403, null, false, "refused the credentials (403: server message)")]
    [InlineData(403, "AuthorizationPermissionMismatch", true, "does not let this credential write to container 'images' (403 AuthorizationPermissionMismatch: server message): a SAS needs the write (w) and create (c) permissions")]
    [InlineData(403, "AuthorizationFailure", false, "does not let this credential write to container 'images' (403 AuthorizationFailure: server message): check the account's firewall")]
    [InlineData(404, "ContainerNotFound", false, "Container 'images' does not exist in account 'acct' at https://acct.blob.core.windows.net (404 ContainerNotFound")]
    [InlineData(400, "InvalidBlobTier", false, "refused the upload (400 InvalidBlobTier")]
    [InlineData(413, "RequestBodyTooLarge", false, "refused the upload")]
    public void Classify_Permanent_Rejected(int status, string? code, bool sas, string expected)
    {
        var result = Classify(status, code, sas).ShouldBeOfType<DeliveryResult.Rejected>();

        result.Reason.ShouldContain(expected);
        result.StatusCode.ShouldBe(status);
    }

    [Theory]
    [InlineData(503, "ServerBusy", true)]
    [InlineData(500, "OperationTimedOut", true)]
    [InlineData(500, "InternalError", false)]
    [InlineData(409, "LeaseIdMissing", false)]
    [InlineData(502, null, false)]
    public void Classify_Passing_RetriedLaterWithRetryAfter(int status, string? code, bool throttled)
    {
        var result = Classify(status, code).ShouldBeOfType<DeliveryResult.RetryLater>();

        result.Throttled.ShouldBe(throttled);
        result.RetryAfter.ShouldBe(TimeSpan.FromSeconds(7));
        result.StatusCode.ShouldBe(status);
    }
}
