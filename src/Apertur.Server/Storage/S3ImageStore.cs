using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Apertur.Server.Hosting;

namespace Apertur.Server.Storage;

/// <summary>
/// Images as objects <c>{Prefix}images/{id:N}</c> in one bucket of S3 or an S3-compatible store (docs/deploy.md "Image
/// store on S3"); temporary files stay local, under <c>{DataDirectory}/tmp</c>. This is the server's own storage, set by
/// the operator, so its client does NOT go through the SSRF guard of destinations (docs/architecture.md "Seams").
/// <para>
/// A put answers only once the store holds the whole object and it checked out: the SHA-256 of the file is sent with the
/// object (one PUT up to <see cref="SinglePutLimit"/>, else parts of <see cref="PartSize"/>, each with its own SHA-256, so
/// AWS S3 refuses bytes that changed on the way), then a HEAD reads back the object's size and, when the store keeps
/// checksums, its SHA-256 (of the whole object, or of the parts' digests for a multipart upload), which must equal ours.
/// Ids are fresh UUIDs: "already stored" is a bug, found by a HEAD before the put (If-None-Match is not honoured by every
/// S3-compatible store).
/// </para>
/// </summary>
public sealed class S3ImageStore : IImageStore, IDisposable
{
    public const long SinglePutLimit = 8 * 1024 * 1024;
    public const long PartSize = 8 * 1024 * 1024;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(60);

    private readonly S3StorageOptions _options;
    private readonly string _tempDirectory;
    private readonly AmazonS3Client _client;
    private readonly TimeProvider _time;

    public S3ImageStore(S3StorageOptions options, string dataDirectory, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time;
        _tempDirectory = LocalDiskImageStore.TempDirectoryOf(dataDirectory);
        DataDirectory.CreateOwnerOnly(_tempDirectory);
        LocalDiskImageStore.SweepStaleTempFiles(_tempDirectory, time, logger);
        _client = CreateClient(options);
    }

    public string Bucket => _options.Bucket!;

    /// <summary>The object key of an image.</summary>
    public string KeyOf(Guid imageId) => KeyOf(_options.Prefix, imageId);

    public static string KeyOf(string prefix, Guid imageId) => $"{prefix}images/{imageId:N}";

    public string NewTempFilePath() => LocalDiskImageStore.NewTempFilePath(_tempDirectory);

    public async Task PutAsync(Guid imageId, string tempFilePath, CancellationToken ct)
    {
        var key = KeyOf(imageId);
        await OnStoreAsync("store", key, async () =>
        {
            if (await HeadAsync(key, ct) is not null)
            {
                throw new IOException($"An image {imageId} is already stored at {key}.");
            }
            await UploadVerifiedAsync(key, tempFilePath, ct);
            return 0;
        }, ct);
        File.Delete(tempFilePath);
    }

    /// <summary>
    /// Uploads <paramref name="path"/> to <paramref name="key"/> and checks the stored object (size, SHA-256 when the store
    /// tells it); throws <see cref="InvalidDataException"/> when it does not match. Also used by <c>storage migrate</c>.
    /// </summary>
    public async Task UploadVerifiedAsync(string key, string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
        var size = file.Length;
        string expected;
        if (size <= SinglePutLimit)
        {
            expected = Convert.ToBase64String(await SHA256.HashDataAsync(file, ct));
            file.Position = 0;
            var put = new PutObjectRequest
            {
                BucketName = Bucket,
                Key = key,
                InputStream = file,
                AutoCloseStream = false,
                ContentType = "application/octet-stream",
                ChecksumAlgorithm = ChecksumAlgorithm.SHA256,
                ChecksumSHA256 = expected,
            };
            await _client.PutObjectAsync(put, ct);
        }
        else
        {
            expected = await MultipartAsync(key, file, size, ct);
        }
        var stored = await StoredAsync(key, ct);
        if (stored is null || stored.Value.Size != size)
        {
            throw new InvalidDataException($"The store holds {stored?.Size.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"} bytes at {key} after a put of {size}.");
        }
        if (stored.Value.Sha256 is { Length: > 0 } sha256 && sha256 != expected)
        {
            throw new InvalidDataException($"The SHA-256 the store computed for {key} ({sha256}) differs from the file's ({expected}).");
        }
    }

    /// <summary>Parts read in place from the file, each with its SHA-256; returns the multipart checksum (SHA-256 of the part digests, "-N").</summary>
    private async Task<string> MultipartAsync(string key, FileStream file, long size, CancellationToken ct)
    {
        var upload = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = Bucket,
            Key = key,
            ContentType = "application/octet-stream",
            ChecksumAlgorithm = ChecksumAlgorithm.SHA256,
        }, ct);
        try
        {
            var etags = new List<PartETag>();
            var digests = new List<byte>();
            var buffer = ArrayPool<byte>.Shared.Rent((int)PartSize);
            try
            {
                for (long offset = 0, number = 1; offset < size; offset += PartSize, number++)
                {
                    var length = (int)Math.Min(PartSize, size - offset);
                    file.Position = offset;
                    await file.ReadExactlyAsync(buffer.AsMemory(0, length), ct);
                    var digest = SHA256.HashData(buffer.AsSpan(0, length));
                    digests.AddRange(digest);
                    using var body = new MemoryStream(buffer, 0, length, writable: false);
                    var part = await _client.UploadPartAsync(new UploadPartRequest
                    {
                        BucketName = Bucket,
                        Key = key,
                        UploadId = upload.UploadId,
                        PartNumber = (int)number,
                        PartSize = length,
                        InputStream = body,
                        ChecksumAlgorithm = ChecksumAlgorithm.SHA256,
                        ChecksumSHA256 = Convert.ToBase64String(digest),
                        IsLastPart = offset + length >= size,
                    }, ct);
                    etags.Add(new PartETag { PartNumber = (int)number, ETag = part.ETag, ChecksumSHA256 = Convert.ToBase64String(digest) });
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
            {
                BucketName = Bucket,
                Key = key,
                UploadId = upload.UploadId,
                PartETags = etags,
            }, ct);
            return $"{Convert.ToBase64String(SHA256.HashData(digests.ToArray()))}-{etags.Count}";
        }
        catch
        {
            try
            {
                await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = Bucket, Key = key, UploadId = upload.UploadId },
                    CancellationToken.None);
            }
            catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
            {
                // Best effort: the put's own failure is what gets reported.
            }
            throw;
        }
    }

    /// <summary>
    /// For <c>storage migrate</c>: leaves an object that already holds the file (same size, and same SHA-256 when the
    /// store keeps one) and answers false; otherwise uploads and checks the file as <see cref="PutAsync"/> does (without
    /// moving or deleting it) and answers true. Failures of the store are <see cref="ImageStoreUnavailableException"/>.
    /// </summary>
    public Task<bool> CopyInAsync(Guid imageId, string path, CancellationToken ct)
    {
        var key = KeyOf(imageId);
        return OnStoreAsync("copy to", key, async () =>
        {
            if (await StoredAsync(key, ct) is { } stored && stored.Size == new FileInfo(path).Length
                && (stored.Sha256 is not { Length: > 0 } sha256 || sha256 == await ChecksumOfAsync(path, ct)))
            {
                return false;
            }
            await UploadVerifiedAsync(key, path, ct);
            return true;
        }, ct);
    }

    /// <summary>
    /// The SHA-256 this store sends for a file, as the store reports it back: of the whole file up to
    /// <see cref="SinglePutLimit"/>, else of the parts' digests followed by "-" and the number of parts.
    /// </summary>
    public static async Task<string> ChecksumOfAsync(string path, CancellationToken ct)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous);
        if (file.Length <= SinglePutLimit)
        {
            return Convert.ToBase64String(await SHA256.HashDataAsync(file, ct));
        }
        var digests = new List<byte>();
        var parts = 0;
        var buffer = ArrayPool<byte>.Shared.Rent((int)PartSize);
        try
        {
            for (long offset = 0; offset < file.Length; offset += PartSize, parts++)
            {
                var length = (int)Math.Min(PartSize, file.Length - offset);
                await file.ReadExactlyAsync(buffer.AsMemory(0, length), ct);
                digests.AddRange(SHA256.HashData(buffer.AsSpan(0, length)));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return $"{Convert.ToBase64String(SHA256.HashData(digests.ToArray()))}-{parts}";
    }

    /// <summary>The stored object's size and SHA-256 (null when the store keeps none), or null when there is none.</summary>
    public async Task<(long Size, string? Sha256)?> StoredAsync(string key, CancellationToken ct) =>
        await HeadAsync(key, ct) is { } head ? (head.ContentLength, head.ChecksumSHA256) : null;

    private async Task<GetObjectMetadataResponse?> HeadAsync(string key, CancellationToken ct)
    {
        try
        {
            return await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest
            {
                BucketName = Bucket,
                Key = key,
                ChecksumMode = ChecksumMode.ENABLED,
            }, ct);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public Task<Stream?> OpenReadAsync(Guid imageId, CancellationToken ct)
    {
        var key = KeyOf(imageId);
        return OnStoreAsync<Stream?>("read", key, async () =>
        {
            try
            {
                var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key }, ct);
                return new ObjectStream(response);
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
        }, ct);
    }

    public Task DeleteAsync(Guid imageId, CancellationToken ct)
    {
        var key = KeyOf(imageId);
        // S3 answers 204 for a key that is not there: deleting a missing image is not an error.
        return OnStoreAsync("delete", key, async () =>
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, ct);
            return 0;
        }, ct);
    }

    /// <summary>Keys are <c>{Prefix}images/{id:N}</c>: the listing's order is the ids' order (UUID v7: upload order).</summary>
    public Task<StoredImagePage> ListAsync(string? after, int max, CancellationToken ct)
    {
        var prefix = $"{_options.Prefix}images/";
        return OnStoreAsync("list", prefix, async () =>
        {
            var response = await _client.ListObjectsV2Async(new ListObjectsV2Request
            {
                BucketName = Bucket,
                Prefix = prefix,
                StartAfter = after,
                MaxKeys = Math.Min(max, 1000),
            }, ct);
            var objects = response.S3Objects ?? [];
            var images = objects
                .Where(o => LocalDiskImageStore.IsImageName(o.Key[prefix.Length..]))
                .Select(o => new StoredImage(Guid.ParseExact(o.Key[prefix.Length..], "N"), o.Key,
                    // A store that tells no time: as if just written, so never old enough to delete.
                    o.LastModified is { } at ? new DateTimeOffset(at) : _time.GetUtcNow()))
                .ToList();
            return new StoredImagePage(images, response.IsTruncated == true && objects.Count > 0 ? objects[^1].Key : null);
        }, ct);
    }

    /// <summary>
    /// One listing of the ids' key range, page by page: it reads the keys between the smallest and the largest id, which
    /// are these images and any other stored in between (orphans; bytes whose rows were deleted are gone from the store).
    /// </summary>
    public async Task<IReadOnlySet<Guid>> ExistingAsync(IReadOnlyCollection<Guid> imageIds, CancellationToken ct)
    {
        var existing = new HashSet<Guid>();
        if (imageIds.Count == 0)
        {
            return existing;
        }
        var wanted = imageIds.ToHashSet();
        var last = imageIds.Select(KeyOf).Max(StringComparer.Ordinal)!;
        // A key's own prefix sorts just before it: the listing starts with the smallest id.
        string? after = imageIds.Select(KeyOf).Min(StringComparer.Ordinal)![..^1];
        while (after is not null && string.CompareOrdinal(after, last) < 0)
        {
            var page = await ListAsync(after, 1000, ct);
            existing.UnionWith(page.Images.Select(i => i.Id).Where(wanted.Contains));
            after = page.Next;
        }
        return existing;
    }

    /// <summary>
    /// The start-up check: writes, reads back and deletes a small probe object under the prefix. Throws
    /// <see cref="ImageStoreUnavailableException"/> when the bucket cannot be used (missing, refused, unreachable).
    /// </summary>
    public Task ProbeAsync(CancellationToken ct)
    {
        var key = $"{_options.Prefix}probe/{Guid.NewGuid():N}";
        return OnStoreAsync("probe", key, async () =>
        {
            var bytes = "Apertur start-up probe"u8.ToArray();
            using (var body = new MemoryStream(bytes, writable: false))
            {
                await _client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = body, ContentType = "text/plain" }, ct);
            }
            using (var read = await _client.GetObjectAsync(new GetObjectRequest { BucketName = Bucket, Key = key }, ct))
            {
                using var copy = new MemoryStream();
                await read.ResponseStream.CopyToAsync(copy, ct);
                if (!copy.ToArray().AsSpan().SequenceEqual(bytes))
                {
                    throw new InvalidDataException("the probe object read back differs from what was written");
                }
            }
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = Bucket, Key = key }, ct);
            return 0;
        }, ct);
    }

    /// <summary>Runs a store operation; the store failing (an answer, a refused connection, a timeout) becomes <see cref="ImageStoreUnavailableException"/>.</summary>
    private async Task<T> OnStoreAsync<T>(string operation, string key, Func<Task<T>> work, CancellationToken ct)
    {
        try
        {
            return await work();
        }
        catch (Exception e) when (!ct.IsCancellationRequested
            && e is AmazonServiceException or AmazonClientException or HttpRequestException or OperationCanceledException or InvalidDataException)
        {
            throw new ImageStoreUnavailableException(Bucket, _options.EndpointText, $"{operation} {key}", Reason(e), e);
        }
    }

    private static string Reason(Exception e) => e switch
    {
        AmazonS3Exception s3 when !string.IsNullOrEmpty(s3.ErrorCode) => $"{(int)s3.StatusCode} {s3.ErrorCode}: {s3.Message}",
        AmazonS3Exception s3 => $"{(int)s3.StatusCode} {s3.StatusCode}",
        InvalidDataException => e.Message,
        OperationCanceledException => $"no answer within {RequestTimeout.TotalSeconds:0} s",
        _ => e.GetBaseException().Message,
    };

    private static AmazonS3Client CreateClient(S3StorageOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // These settings decide where images go, never AWS_ENDPOINT_URL or ~/.aws/config on this server.
            IgnoreConfiguredEndpointUrls = true,
            MaxErrorRetry = 3,
            Timeout = RequestTimeout,
            // Checksums are sent as headers computed here (see the class comment), not as the SDK's CRC32 trailers, which
            // several S3-compatible stores refuse.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.ServiceUri is { } url)
        {
            config.ServiceURL = url.AbsoluteUri;
            config.AuthenticationRegion = string.IsNullOrWhiteSpace(options.Region) ? "us-east-1" : options.Region;
        }
        else
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        return string.IsNullOrWhiteSpace(options.AccessKeyId)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey), config);
    }

    public void Dispose() => _client.Dispose();

    /// <summary>The object's body, forward-only, with its length; disposing it ends the response.</summary>
    private sealed class ObjectStream(GetObjectResponse response) : Stream
    {
        private readonly Stream _body = response.ResponseStream;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => response.ContentLength;
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _body.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            _body.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _body.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                response.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// The image store cannot be used right now (S3 refused, unreachable, timed out): an upload answers 503 with Retry-After
/// (<see cref="ApiErrorHandler"/>), the start stops with one line (<see cref="StartFailure"/>).
/// </summary>
public sealed class ImageStoreUnavailableException(string bucket, string endpoint, string operation, string reason, Exception inner)
    : Exception($"The S3 bucket \"{bucket}\" at {endpoint} cannot be used ({operation}): {reason}", inner)
{
    public const int RetryAfterSeconds = 5;

    public string Bucket { get; } = bucket;

    public string Endpoint { get; } = endpoint;

    public string Reason { get; } = reason;

    public static ApiException Answer() =>
        new(503, "STORAGE_UNAVAILABLE", "The image store is unavailable at the moment; try again shortly.", RetryAfterSeconds);

    /// <summary>One line for an operator whose server could not start on its bucket: what failed, where, and what to check.</summary>
    public string StartFailure() =>
        $"Apertur could not start: the S3 bucket \"{Bucket}\" at {Endpoint} cannot be used: {Reason.ReplaceLineEndings(" ")}. "
        + $"Check {S3StorageOptions.Section}:Bucket, :ServiceUrl, :Region and the credentials (:AccessKeyId, :SecretAccessKey), "
        + "that the bucket exists and that this server may reach it.";
}
