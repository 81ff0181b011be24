using System.Buffers;
using System.Text;
using System.Text.Json;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Apertur.Destinations.Outbound;
using Apertur.Destinations.Paths;
using Apertur.Destinations.Storage;

namespace Apertur.Destinations.S3;

/// <summary>
/// The <c>s3</c> destination: Amazon S3 and S3-compatible stores (MinIO, Cloudflare R2, Backblaze B2, DigitalOcean Spaces,
/// Wasabi) through AWSSDK.S3. Each image goes to <c>key_template</c> (default <c>uploads/{session_id}/{image_index}.{ext}</c>),
/// overwriting what is there, so a redelivery lands on the same object. Up to <see cref="StorageTuning.SinglePutLimit"/>
/// bytes go in one PUT, larger images in equal parts (multipart upload, aborted if it fails); the image is streamed from
/// the store, never held whole. Every connection passes the SSRF guard: the SDK's HTTP clients are built on
/// <see cref="OutboundGuard.CreateHandler"/>. The whole attempt is bounded by the attempt timeout.
/// </summary>
public sealed class S3Destination : ConfiguredDestination<S3Config>, IDescribedDestination, IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly GuardedHttpClientFactory _http;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly StorageTuning _tuning;

    /// <param name="guard">The SSRF guard every connection of the SDK passes.</param>
    /// <param name="timeout">How long one delivery attempt (all its requests) may take (default 30 s).</param>
    /// <param name="tuning">Single PUT limit and part size (S3 needs parts of at least 5 MiB).</param>
    public S3Destination(OutboundGuard guard, TimeProvider time, TimeSpan? timeout = null, StorageTuning? tuning = null)
    {
        ArgumentNullException.ThrowIfNull(guard);
        _tuning = tuning ?? StorageTuning.Default;
        if (_tuning.PartSize < 5 * StorageTuning.MiB || _tuning.SinglePutLimit < _tuning.PartSize)
        {
            throw new ArgumentException("S3 parts must be at least 5 MiB and the single PUT limit at least one part.", nameof(tuning));
        }
        _http = new GuardedHttpClientFactory(guard);
        _time = time;
        _timeout = timeout ?? DefaultTimeout;
    }

    public override string Kind => DestinationKinds.S3;

    /// <summary>The s3 kind: its form, validation and secrets.</summary>
    public static DestinationDescriptor Descriptor { get; } = new(DestinationKinds.S3, "Amazon S3 or S3-compatible",
        "Writes each image as an object in a bucket: AWS S3, MinIO, Cloudflare R2, Backblaze B2, Wasabi, DigitalOcean Spaces.", Validate,
        new([
            new("bucket", "Bucket", "The bucket's name. It must exist.", Required: true, Placeholder: "my-photos"),
            new("region", "Region", "The bucket's region, e.g. eu-west-1. May stay empty with a custom endpoint.", Placeholder: "eu-west-1"),
            new("access_key_id", "Access key ID", "Of an IAM user or key allowed to s3:PutObject on the bucket.", Required: true, Placeholder: "AKIA…"),
            new("secret_access_key", "Secret access key", "Encrypted at rest, never shown again.", Required: true, Secret: true),
            new("session_token", "Session token", "Only with temporary credentials (STS). Encrypted at rest.", Secret: true),
            new("endpoint", "Endpoint", "Only for S3-compatible stores: their https URL. Empty for AWS.", FieldType.Url, Placeholder: "https://s3.example.com"),
            new("force_path_style", "Path-style addressing", "bucket in the path (https://host/bucket/key) instead of the host name; the default with an endpoint.", FieldType.Flag),
            new("key_template", "Object key template", DestinationFormSpec.TemplateHelp + " Default uploads/{session_id}/{image_index}.{ext}.", Placeholder: "uploads/{session_id}/{image_index}.{ext}"),
            new("storage_class", "Storage class", "e.g. STANDARD, STANDARD_IA, GLACIER_IR. Empty: the bucket's default.", Placeholder: "STANDARD"),
            new("server_side_encryption", "Server-side encryption", "Empty: the bucket's default.", FieldType.Choice, Choices: ["", "AES256", "aws:kms", "aws:kms:dsse"]),
            new("sse_kms_key_id", "KMS key ID", "Only with aws:kms or aws:kms:dsse: the key's ID or ARN. Empty: the account's default key.", Placeholder: "arn:aws:kms:…"),
        ]), SecretFields: ["secret_access_key", "session_token"])
    {
        ConnectionTest = true,
    };

    /// <summary>What is wrong with an s3 config, in words; empty when it is fine (the API answers 400 otherwise).</summary>
    public static IReadOnlyList<string> Validate(JsonElement config) => S3Config.TryParse(config, out _, out var problems) ? [] : problems;

    protected override async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, S3Config config, CancellationToken ct)
    {
        var image = request.Image;
        var key = PathTemplate.Render(config.KeyTemplate, image);
        return await RunAsync(config, async (client, token) =>
        {
            await using var body = await CheckedImageStream.OpenAsync(image, token).ConfigureAwait(false);
            if (_tuning.IsMultipart(image.SizeBytes))
            {
                await MultipartAsync(client, config, key, image, body, token).ConfigureAwait(false);
            }
            else
            {
                await PutAsync(client, config, key, image, body, token).ConfigureAwait(false);
            }
            return new DeliveryResult.Delivered(config.Describe(key), 200);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>Writes, then deletes, the <see cref="StorageProbe"/> object beside where images go.</summary>
    protected override async Task<ConnectionTestResult> TestAsync(DestinationTarget target, S3Config config, ProjectSigning signing, CancellationToken ct)
    {
        var key = StorageProbe.PathFor(config.KeyTemplate);
        var text = StorageProbe.Text(target.Id, _time.GetUtcNow());
        var deleted = true;
        var result = await RunAsync(config, async (client, token) =>
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            using var body = new MemoryStream(bytes, writable: false);
            var put = new PutObjectRequest { BucketName = config.Bucket, Key = key, InputStream = body, ContentType = "text/plain; charset=utf-8" };
            Apply(put, config);
            await client.PutObjectAsync(put, token).ConfigureAwait(false);
            try
            {
                await client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = config.Bucket, Key = key }, token).ConfigureAwait(false);
            }
            catch (AmazonS3Exception e) when (S3Errors.IsAnswer(e) && e.StatusCode == System.Net.HttpStatusCode.Forbidden)
            {
                // A write-only key (the least privilege delivering needs) cannot delete: the test still passed.
                deleted = false;
            }
            return new DeliveryResult.Delivered(config.Describe(key), 200);
        }, ct).ConfigureAwait(false);
        return result switch
        {
            DeliveryResult.Delivered when deleted => new ConnectionTestResult(true,
                $"Wrote and deleted a test object at {config.Describe(key)} ({config.EndpointText})", 200),
            DeliveryResult.Delivered => new ConnectionTestResult(true,
                $"Wrote a test object at {config.Describe(key)} ({config.EndpointText}); the key may not delete it, which delivering does not need", 200),
            DeliveryResult.Rejected r => new ConnectionTestResult(false, r.Reason, r.StatusCode),
            DeliveryResult.RetryLater r => new ConnectionTestResult(false, r.Reason, r.StatusCode),
            _ => throw new InvalidOperationException("unknown result"),
        };
    }

    /// <summary>One attempt with a client for this config, bounded by the timeout, its failures classified.</summary>
    private async Task<DeliveryResult> RunAsync(S3Config config, Func<AmazonS3Client, CancellationToken, Task<DeliveryResult>> work,
        CancellationToken ct)
    {
        var endpoint = config.EndpointText;
        using var timeout = new CancellationTokenSource(_timeout, _time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, timeout.Token);
        try
        {
            using var client = Client(config);
            return await work(client, attempt.Token).ConfigureAwait(false);
        }
        catch (AmazonServiceException e) when (S3Errors.IsAnswer(e))
        {
            return S3Errors.Classify(e, config.Bucket, endpoint);
        }
        catch (Exception e) when (e is OperationCanceledException || Failures.Find<OperationCanceledException>(e) is not null)
        {
            ct.ThrowIfCancellationRequested();
            return new DeliveryResult.RetryLater($"{Failures.TimedOut(_timeout)} talking to {endpoint}", Throttled: true);
        }
        catch (Exception e) when (Failures.BeforeAnswer(e, HostAndPort(config)) is { } failure)
        {
            ct.ThrowIfCancellationRequested();
            return failure;
        }
        catch (AmazonClientException e)
        {
            ct.ThrowIfCancellationRequested();
            return new DeliveryResult.RetryLater($"Request to {endpoint} failed: {e.Message}");
        }
    }

    private static async Task PutAsync(AmazonS3Client client, S3Config config, string key, DeliveryImage image, Stream body, CancellationToken ct)
    {
        var put = new PutObjectRequest
        {
            BucketName = config.Bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
            AutoResetStreamPosition = false,
            ContentType = image.MimeType,
        };
        put.Headers.ContentLength = image.SizeBytes;
        Describe(put.Metadata, image);
        Apply(put, config);
        await client.PutObjectAsync(put, ct).ConfigureAwait(false);
    }

    /// <summary>Equal parts read one after another from the same stream; on any failure the upload is aborted.</summary>
    private async Task MultipartAsync(AmazonS3Client client, S3Config config, string key, DeliveryImage image, CheckedImageStream body,
        CancellationToken ct)
    {
        var create = new InitiateMultipartUploadRequest { BucketName = config.Bucket, Key = key, ContentType = image.MimeType };
        Describe(create.Metadata, image);
        if (config.StorageClass is not null)
        {
            create.StorageClass = S3StorageClass.FindValue(config.StorageClass);
        }
        if (config.ServerSideEncryption is not null)
        {
            create.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(config.ServerSideEncryption);
            create.ServerSideEncryptionKeyManagementServiceKeyId = config.KmsKeyId;
        }
        var upload = await client.InitiateMultipartUploadAsync(create, ct).ConfigureAwait(false);
        try
        {
            var parts = _tuning.Parts(image.SizeBytes);
            var etags = new List<PartETag>(parts.Count);
            var offset = 0L;
            for (var i = 0; i < parts.Count; i++)
            {
                var length = parts[i];
                // The SDK rewinds a part's stream to sign and retry it: a file is read in place; anything else is
                // buffered one part at a time (memory bounded by the part size).
                byte[]? buffer = null;
                try
                {
                    Stream partBody;
                    if (body.CanSeekSource)
                    {
                        partBody = body.SourceAt(offset);
                    }
                    else
                    {
                        buffer = ArrayPool<byte>.Shared.Rent((int)length);
                        await body.ReadExactlyAsync(buffer.AsMemory(0, (int)length), ct).ConfigureAwait(false);
                        partBody = new MemoryStream(buffer, 0, (int)length, writable: false);
                    }
                    var part = new UploadPartRequest
                    {
                        BucketName = config.Bucket,
                        Key = key,
                        UploadId = upload.UploadId,
                        PartNumber = i + 1,
                        PartSize = length,
                        InputStream = partBody,
                        IsLastPart = i == parts.Count - 1,
                    };
                    if (PayloadUnsigned(config))
                    {
                        part.DisablePayloadSigning = true;
                    }
                    var uploaded = await client.UploadPartAsync(part, ct).ConfigureAwait(false);
                    etags.Add(new PartETag(i + 1, uploaded.ETag));
                }
                finally
                {
                    if (buffer is not null)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
                offset += length;
            }
            if (!body.CanSeekSource)
            {
                await body.EnsureEndAsync(ct).ConfigureAwait(false);
            }
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = config.Bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = etags,
            }, ct).ConfigureAwait(false);
        }
        catch
        {
            await AbortAsync(client, config, key, upload.UploadId).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Best effort: parts of an abandoned upload cost storage until a lifecycle rule removes them.</summary>
    private async Task AbortAsync(AmazonS3Client client, S3Config config, string key, string uploadId)
    {
        using var abort = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
        try
        {
            await client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = config.Bucket, Key = key, UploadId = uploadId },
                abort.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is AmazonClientException or OperationCanceledException or HttpRequestException or IOException)
        {
            // The delivery's own failure is what gets reported.
        }
    }

    private static void Describe(MetadataCollection metadata, DeliveryImage image)
    {
        metadata.Add("apertur-image-id", image.Id.ToString());
        metadata.Add("apertur-session-id", image.SessionId.ToString());
    }

    private static void Apply(PutObjectRequest put, S3Config config)
    {
        if (config.StorageClass is not null)
        {
            put.StorageClass = S3StorageClass.FindValue(config.StorageClass);
        }
        if (config.ServerSideEncryption is not null)
        {
            put.ServerSideEncryptionMethod = ServerSideEncryptionMethod.FindValue(config.ServerSideEncryption);
            put.ServerSideEncryptionKeyManagementServiceKeyId = config.KmsKeyId;
        }
        if (PayloadUnsigned(config))
        {
            put.DisablePayloadSigning = true;
        }
    }

    /// <summary>
    /// S3-compatible stores over HTTPS get UNSIGNED-PAYLOAD: Cloudflare R2 does not take streaming SigV4 chunks, and TLS
    /// already protects the bytes. AWS itself, and plain-HTTP endpoints, get the SDK's signed streaming chunks.
    /// </summary>
    private static bool PayloadUnsigned(S3Config config) => config.Endpoint?.Scheme == Uri.UriSchemeHttps;

    private AmazonS3Client Client(S3Config config)
    {
        var s3 = new AmazonS3Config
        {
            HttpClientFactory = _http,
            ForcePathStyle = config.ForcePathStyle,
            // The destination's config decides where bytes go, never AWS_ENDPOINT_URL or ~/.aws/config on this server.
            IgnoreConfiguredEndpointUrls = true,
            // Deliveries are retried by the queue; a couple of quick retries absorb S3's occasional 500/503.
            MaxErrorRetry = 2,
            Timeout = _timeout,
            // Flexible checksums only when an operation requires them: several S3-compatible stores reject the SDK's
            // default CRC32 trailers. SigV4 payload signing (or TLS) still protects the bytes.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (config.Endpoint is not null)
        {
            s3.ServiceURL = config.Endpoint.AbsoluteUri;
            s3.AuthenticationRegion = config.Region;
        }
        else
        {
            s3.RegionEndpoint = RegionEndpoint.GetBySystemName(config.Region);
        }
        AWSCredentials credentials = config.SessionToken is null
            ? new BasicAWSCredentials(config.AccessKeyId, config.SecretAccessKey)
            : new SessionAWSCredentials(config.AccessKeyId, config.SecretAccessKey, config.SessionToken);
        return new AmazonS3Client(credentials, s3);
    }

    private static string HostAndPort(S3Config config) => config.Endpoint is { } url
        ? Failures.Endpoint(url)
        : $"{(config.ForcePathStyle ? "" : config.Bucket + ".")}s3.{config.Region}.amazonaws.com:443";

    public void Dispose() => _http.Dispose();
}

/// <summary>
/// Gives the SDK HTTP clients over one shared guarded handler: every connection it opens passes the SSRF guard and no
/// redirect is followed. The clients are cheap wrappers (the handler keeps the connection pool), so the SDK neither caches
/// nor keeps them.
/// </summary>
internal sealed class GuardedHttpClientFactory(OutboundGuard guard) : HttpClientFactory, IDisposable
{
    private readonly SocketsHttpHandler _handler = guard.CreateHandler();

    public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
        new(_handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };

    public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

    public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;

    public override string? GetConfigUniqueString(IClientConfig clientConfig) => null;

    public void Dispose() => _handler.Dispose();
}
