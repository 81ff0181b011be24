using System.Globalization;
using System.Text.Json;
using Apertur.Destinations.Paths;
using Apertur.Destinations.Storage;
using Azure;
using Azure.Core.Pipeline;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace Apertur.Destinations.AzureBlob;

/// <summary>
/// The <c>azure_blob</c> destination, through the Azure SDK (Azure.Storage.Blobs): each image becomes a block blob named by
/// <c>blob_template</c> in the configured container, overwriting what is there, so a redelivery lands on the same blob. Up to
/// <see cref="StorageTuning.SinglePutLimit"/> bytes go in one Put Blob; larger images go as blocks of
/// <see cref="StorageTuning.PartSize"/> bytes committed by one Put Block List (the SDK's <see cref="StorageTransferOptions"/>;
/// blocks a failed attempt staged but never committed are dropped by Azure after a week). The image is streamed from the
/// store, never held whole. Authorization is the SDK's Shared Key signing or a SAS. The SDK sends through the <see cref="HttpClient"/> given,
/// built on the SSRF guard's handler (the "outbound" client), so every connection it opens passes the guard at connect time;
/// its own retries are off: the delivery queue's schedule decides.
/// </summary>
public sealed class AzureBlobDestination : ConfiguredDestination<AzureBlobConfig>, IDescribedDestination, IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The Blob REST version every request names (<c>x-ms-version</c>): the one Apertur spoke before the SDK, which Azurite,
    /// sovereign clouds and Azure Stack deployments accept, rather than the SDK's newest.
    /// </summary>
    private const BlobClientOptions.ServiceVersion Version = BlobClientOptions.ServiceVersion.V2023_11_03;

    private readonly HttpClientTransport _transport;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly StorageTuning _tuning;

    /// <param name="http">The guarded client every request of the SDK goes through.</param>
    /// <param name="timeout">How long one delivery attempt (all its requests) may take (default 30 s).</param>
    /// <param name="tuning">Single Put Blob limit and block size.</param>
    public AzureBlobDestination(HttpClient http, TimeProvider time, TimeSpan? timeout = null, StorageTuning? tuning = null)
    {
        _transport = new HttpClientTransport(http);
        _time = time;
        _timeout = timeout ?? DefaultTimeout;
        _tuning = tuning ?? StorageTuning.Default;
    }

    public override string Kind => DestinationKinds.AzureBlob;

    /// <summary>The azure_blob kind: its form, validation and secrets.</summary>
    public static DestinationDescriptor Descriptor { get; } = new(DestinationKinds.AzureBlob, "Azure Blob Storage",
        "Writes each image as a block blob in a container.", Validate,
        new([
            new("account_name", "Storage account", "The account name (the first part of https://NAME.blob.core.windows.net).", Placeholder: "mystorageaccount"),
            new("container_name", "Container", "The container's name. It must exist.", Required: true, Placeholder: "photos"),
            new("sas_token", "SAS token", "A token with create and write permission on the container (starts with sv=). Give one of SAS token, account key or connection string.", Secret: true),
            new("account_key", "Account key", "The account's base64 access key.", Secret: true),
            new("connection_string", "Connection string", "As the portal shows it; it may carry the account name and endpoint too.", Secret: true),
            new("blob_template", "Blob name template", DestinationFormSpec.TemplateHelp + " Default uploads/{session_id}/{image_index}.{ext}.", Placeholder: "uploads/{session_id}/{image_index}.{ext}"),
            new("access_tier", "Access tier", "Empty: the account's default.", FieldType.Choice, Choices: ["", "Hot", "Cool", "Cold", "Archive"]),
            new("endpoint", "Endpoint", "Only for sovereign clouds or Azurite. Empty: https://ACCOUNT.blob.core.windows.net.", FieldType.Url),
        ], OneOf: [["sas_token", "account_key", "connection_string"]]), SecretFields: ["sas_token", "account_key", "connection_string"])
    {
        OtherSecretNames = ["sas_url"],
        ConnectionTest = true,
    };

    /// <summary>What is wrong with an azure_blob config, in words; empty when it is fine (the API answers 400 otherwise).</summary>
    public static IReadOnlyList<string> Validate(JsonElement config) => AzureBlobConfig.TryParse(config, out _, out var problems) ? [] : problems;

    protected override async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, AzureBlobConfig config, CancellationToken ct)
    {
        var image = request.Image;
        var blob = Blob(config, PathTemplate.Render(config.BlobTemplate, image));
        return await RunAsync(config, async token =>
        {
            await using var body = await CheckedImageStream.OpenAsync(image, token).ConfigureAwait(false);
            // A file is handed over as it is (its length checked first): the SDK reads each block in place. Any other source
            // stays forward-only and counted; the SDK then buffers one block at a time from it (pooled, bounded by the block size).
            var source = body.CanSeekSource ? body.SourceAt(0) : body;
            var options = new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = image.MimeType },
                Metadata = new Dictionary<string, string>
                {
                    ["apertur_image_id"] = image.Id.ToString(),
                    ["apertur_session_id"] = image.SessionId.ToString(),
                },
                AccessTier = config.AccessTier is { } tier ? new AccessTier(tier) : (AccessTier?)null,
                TransferOptions = new StorageTransferOptions
                {
                    // The SDK puts in one request what is below this threshold: up to SinglePutLimit bytes included.
                    InitialTransferSize = _tuning.SinglePutLimit + 1,
                    MaximumTransferSize = _tuning.PartSize,
                    // One block at a time: with more, the SDK copies each block of a file into memory to send them side by side.
                    MaximumConcurrency = 1,
                },
            };
            await blob.UploadAsync(source, options, token).ConfigureAwait(false);
            return new DeliveryResult.Delivered(blob.Uri.AbsoluteUri, 201);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>Writes, then deletes, the <see cref="StorageProbe"/> blob beside where images go.</summary>
    protected override async Task<ConnectionTestResult> TestAsync(DestinationTarget target, AzureBlobConfig config, ProjectSigning signing, CancellationToken ct)
    {
        var blob = Blob(config, StorageProbe.PathFor(config.BlobTemplate));
        var url = blob.Uri.AbsoluteUri;
        var deleted = true;
        var result = await RunAsync(config, async token =>
        {
            var text = BinaryData.FromString(StorageProbe.Text(target.Id, _time.GetUtcNow()));
            await blob.UploadAsync(text, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/plain; charset=utf-8" } }, token)
                .ConfigureAwait(false);
            try
            {
                await blob.DeleteAsync(cancellationToken: token).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 403)
            {
                // A SAS without delete (d) permission is enough to deliver: the test still passed.
                deleted = false;
            }
            return new DeliveryResult.Delivered(url, 201);
        }, ct).ConfigureAwait(false);
        return result switch
        {
            DeliveryResult.Delivered when deleted => new ConnectionTestResult(true, $"Wrote and deleted a test blob at {url}", 201),
            DeliveryResult.Delivered => new ConnectionTestResult(true,
                $"Wrote a test blob at {url}; the credential may not delete it, which delivering does not need", 201),
            DeliveryResult.Rejected r => new ConnectionTestResult(false, r.Reason, r.StatusCode),
            DeliveryResult.RetryLater r => new ConnectionTestResult(false, r.Reason, r.StatusCode),
            _ => throw new InvalidOperationException("unknown result"),
        };
    }

    /// <summary>
    /// The SDK's client for one blob, built from the blob's full URL (a path-style endpoint such as Azurite's is used as
    /// given), with the account key or the SAS; no retries of its own, and each request bounded by the attempt timeout.
    /// </summary>
    private BlobClient Blob(AzureBlobConfig config, string name)
    {
        var options = new BlobClientOptions(Version) { Transport = _transport };
        options.Retry.MaxRetries = 0;
        options.Retry.NetworkTimeout = _timeout;
        var url = config.BlobUrl(name);
        return config.AccountKey is { } key
            ? new BlobClient(url, new StorageSharedKeyCredential(config.AccountName, key), options)
            : new BlobClient(url, new AzureSasCredential(config.SasToken!), options);
    }

    /// <summary>One attempt bounded by the timeout, its failures classified.</summary>
    private async Task<DeliveryResult> RunAsync(AzureBlobConfig config, Func<CancellationToken, Task<DeliveryResult>> work, CancellationToken ct)
    {
        var endpoint = config.Endpoint.AbsoluteUri.TrimEnd('/');
        if (config.SasExpires is { } expires && expires <= _time.GetUtcNow())
        {
            return new DeliveryResult.Rejected(
                $"The SAS token expired at {expires.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC: generate a new one and save it in the destination");
        }
        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            return await work(attempt.Token).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status != 0)
        {
            return AzureErrors.Classify(e.Status, e.ErrorCode, ServerMessage(e), RetryAfter(e), config.AccountName, config.ContainerName, endpoint,
                config.SasToken is not null);
        }
        catch (Exception e) when (e is OperationCanceledException || Failures.Find<OperationCanceledException>(e) is not null)
        {
            // The attempt's timeout, or the SDK's per-request NetworkTimeout (the same length).
            ct.ThrowIfCancellationRequested();
            return new DeliveryResult.RetryLater($"{Failures.TimedOut(_timeout)} talking to {endpoint}", Throttled: true);
        }
        catch (Exception e) when (Failures.BeforeAnswer(e, Failures.Endpoint(config.Endpoint)) is { } failure)
        {
            ct.ThrowIfCancellationRequested();
            return failure;
        }
        catch (RequestFailedException e)
        {
            ct.ThrowIfCancellationRequested();
            return new DeliveryResult.RetryLater($"Request to {endpoint} failed: {e.Message.Split('\n', 2)[0]}");
        }
    }

    /// <summary>The first line of the service's own message: the SDK adds the request id, time, headers and body below it.</summary>
    private static string? ServerMessage(RequestFailedException e) =>
        e.GetRawResponse() is { Content.IsEmpty: false } && e.Message.Split('\n', 2)[0].Trim() is { Length: > 0 } line ? line : null;

    private static TimeSpan? RetryAfter(RequestFailedException e) =>
        e.GetRawResponse()?.Headers.TryGetValue("Retry-After", out var value) == true
        && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;

    /// <summary>Disposes the transport and with it the client given.</summary>
    public void Dispose() => _transport.Dispose();
}

/// <summary>
/// Reads a Blob service error as a delivery outcome: refused credentials, missing permissions and a missing container are
/// permanent and said plainly; ServerBusy, 5xx and unknown answers are retried.
/// </summary>
public static class AzureErrors
{
    private static readonly HashSet<string> Permissions = new(StringComparer.Ordinal)
    {
        "AuthorizationPermissionMismatch", "AuthorizationFailure", "AuthorizationResourceTypeMismatch", "AuthorizationServiceMismatch",
        "AuthorizationSourceIPMismatch", "AuthorizationProtocolMismatch", "InsufficientAccountPermissions", "AccountIsDisabled",
    };

    private static readonly HashSet<string> Permanent = new(StringComparer.Ordinal)
    {
        "InvalidResourceName", "InvalidBlobOrBlock", "InvalidBlobTier", "InvalidHeaderValue", "InvalidQueryParameterValue", "RequestBodyTooLarge",
        "UnsupportedHeader", "MissingRequiredHeader", "InvalidUri", "ContainerBeingDeleted", "ContainerDisabled", "BlobArchived",
        "FeatureVersionMismatch",
    };

    public static DeliveryResult Classify(int status, string? code, string? message, TimeSpan? retryAfter, string account, string container,
        string endpoint, bool sas)
    {
        var said = Said(status, code, message);
        // Azure says AuthenticationFailed for a bad signature; Azurite says AuthorizationFailure with Azure's wording.
        var authentication = code is "AuthenticationFailed" or "InvalidAuthenticationInfo"
            || (code == "AuthorizationFailure" && message?.Contains("authenticate", StringComparison.OrdinalIgnoreCase) == true)
            || (code is null && status == 403);
        if (authentication)
        {
            var check = sas
                ? "check the SAS token (its signature, account, start and expiry)"
                : "check account_key and account_name";
            return new DeliveryResult.Rejected($"{endpoint} refused the credentials{said}: {check}", status);
        }
        if (code is not null && Permissions.Contains(code))
        {
            var check = sas
                ? "a SAS needs the write (w) and create (c) permissions on the container"
                : "check the account's firewall and network rules";
            return new DeliveryResult.Rejected($"{endpoint} does not let this credential write to container '{container}'{said}: {check}", status);
        }
        if (code == "ContainerNotFound" || (code is null && status == 404))
        {
            return new DeliveryResult.Rejected($"Container '{container}' does not exist in account '{account}' at {endpoint}{said}", status);
        }
        if ((code is not null && Permanent.Contains(code)) || status is 404 or 405 or 411 or 413 or 414)
        {
            return new DeliveryResult.Rejected($"{endpoint} refused the upload{said}", status);
        }
        if (code is "ServerBusy" or "OperationTimedOut" || status is 429 or 503)
        {
            return new DeliveryResult.RetryLater($"{endpoint} is busy{said}", retryAfter, Throttled: true, StatusCode: status);
        }
        return new DeliveryResult.RetryLater($"{endpoint} answered{said}", retryAfter, StatusCode: status);
    }

    private static string Said(int status, string? code, string? message)
    {
        var text = $" ({status.ToString(CultureInfo.InvariantCulture)}{(code is null ? "" : " " + code)}";
        if (!string.IsNullOrWhiteSpace(message))
        {
            text += ": " + (message.Length > 300 ? message[..300] + "…" : message);
        }
        return text + ")";
    }
}
