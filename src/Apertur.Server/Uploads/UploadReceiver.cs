using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Apertur.Server.Encryption;
using Apertur.Server.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Apertur.Server.Uploads;

/// <summary>
/// What the request carried: the plaintext image, already in the temp file, and the client's words about it; its SHA-256 when
/// asked for (an upload with an idempotency key).
/// </summary>
public sealed record ReceivedUpload(long SizeBytes, string? Filename, string? Source, bool Encrypted, byte[]? Sha256 = null);

/// <summary>
/// Reads an upload body into a temporary file without buffering it (docs/api.md "Uploads", "Encrypted uploads"): plain multipart, or an
/// encrypted envelope as a multipart part (variant A) or a JSON body (variants B, C), decrypted to the same temp file.
/// Every variant counts the image bytes as they arrive and stops reading at the limit (413).
/// </summary>
public static class UploadReceiver
{
    private const int TextPartLimit = 1024;
    private const long OtherPartsLimit = 64 * 1024;
    private const int CopyBufferSize = 81920;

    // MultipartReader rents its read buffer from the shared pool and never gives it back (it is not disposable), so every
    // upload allocates it anew: kept under the large-object threshold (85,000 bytes), that is a short-lived gen-0 array.
    // At 80 KB it was a 128 KB pool array on the large-object heap per upload, and a gen-2 collection every few dozen uploads.
    private const int MultipartBufferSize = 64 * 1024;

    public static async Task<ReceivedUpload> ReceiveAsync(HttpRequest request, string tempPath, UploadLimits limits, ServerKeys keys, bool hash,
        CancellationToken ct)
    {
        var contentType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed : null;
        var isMultipart = contentType?.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;
        var isJson = contentType is not null && (contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || contentType.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true);
        var encrypted = IsEncrypted(request) || isJson;
        if (!isMultipart && !isJson)
        {
            throw new ApiException(415, "UNSUPPORTED_MEDIA_TYPE",
                "Send the image as multipart/form-data with a 'file' part (or an encrypted JSON envelope with X-Aptr-Encrypted: default).");
        }

        var maxRequest = limits.MaxRequestBytes(encrypted);
        if (request.ContentLength > maxRequest)
        {
            throw TooLarge(limits);
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = maxRequest;
        }

        // Only uploads with an idempotency key are hashed, over the image bytes as they are written (no second read).
        using var hasher = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var received = isMultipart
            ? await ReadMultipartAsync(request, contentType!, tempPath, limits, encrypted, keys, hasher, ct)
            : await ReadJsonEnvelopeAsync(request, tempPath, limits, keys, hasher, ct);
        return hasher is null ? received : received with { Sha256 = hasher.GetHashAndReset() };
    }

    private static bool IsEncrypted(HttpRequest request)
    {
        var mode = request.Headers["X-Aptr-Encrypted"].ToString().Trim();
        return mode.Length == 0 ? false
            : mode.Equals("default", StringComparison.OrdinalIgnoreCase) ? true
            : throw EnvelopeDecryptor.InvalidEnvelope($"Unsupported X-Aptr-Encrypted mode '{mode}'; the only mode is 'default'.");
    }

    private static async Task<ReceivedUpload> ReadMultipartAsync(HttpRequest request, MediaTypeHeaderValue contentType, string tempPath,
        UploadLimits limits, bool encrypted, ServerKeys keys, IncrementalHash? hasher, CancellationToken ct)
    {
        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > 200)
        {
            throw ApiException.BadRequest("The multipart/form-data Content-Type has no valid boundary.", "INVALID_MULTIPART");
        }
        // A large read buffer: the default 4 KB makes the boundary scan of a 20 MB part take thousands of small reads.
        var reader = new MultipartReader(boundary, request.Body, MultipartBufferSize);
        long? size = null;
        string? filename = null;
        string? source = null;
        long otherBytes = 0;
        while (await FromClient(() => reader.ReadNextSectionAsync(ct)) is { } section)
        {
            var disposition = section.GetContentDispositionHeader();
            var name = disposition is null ? null : HeaderUtilities.RemoveQuotes(disposition.Name).Value;
            if (name == "file")
            {
                if (size is not null)
                {
                    throw ApiException.BadRequest("Send one 'file' part per request.", "TOO_MANY_FILES");
                }
                filename = disposition!.FileNameStar.HasValue ? disposition.FileNameStar.Value : HeaderUtilities.RemoveQuotes(disposition.FileName).Value;
                size = encrypted
                    ? (await DecryptToFileAsync(section.Body, tempPath, limits, keys, hasher, ct)).Size
                    : await CopyToFileAsync(section.Body, tempPath, limits, hasher, ct);
            }
            else if (name == "source")
            {
                var bytes = await ReadBoundedAsync(section.Body, TextPartLimit, null, ct);
                source = Encoding.UTF8.GetString(bytes.Span);
            }
            else
            {
                // Unknown fields are ignored (docs/api.md "Conventions"), but not read without bound.
                otherBytes += (await ReadBoundedAsync(section.Body, OtherPartsLimit - otherBytes, null, ct)).Length;
            }
        }
        return size is { } s
            ? new ReceivedUpload(s, filename, source, encrypted)
            : throw ApiException.BadRequest("The upload has no 'file' part. Send the image as multipart/form-data field 'file'.", "FILE_REQUIRED");
    }

    // Variants B (camelCase) and C (snake_case): the envelope is the body, with filename and source beside it.
    private static async Task<ReceivedUpload> ReadJsonEnvelopeAsync(HttpRequest request, string tempPath, UploadLimits limits, ServerKeys keys,
        IncrementalHash? hasher, CancellationToken ct)
    {
        var (size, envelope) = await DecryptToFileAsync(request.Body, tempPath, limits, keys, hasher, ct);
        return new ReceivedUpload(size, OptionalText(envelope, "filename", "fileName", "file_name"), OptionalText(envelope, "source"), Encrypted: true);
    }

    // The envelope is streamed: its data is decoded into the temp file and counted (one byte over the limit ends the upload
    // with 413), then read back once, at its exact size, to be opened in place (AES-GCM checks its tag over the whole).
    private static async Task<(long Size, StreamedEnvelope Envelope)> DecryptToFileAsync(Stream body, string tempPath, UploadLimits limits,
        ServerKeys keys, IncrementalHash? hasher, CancellationToken ct)
    {
        StreamedEnvelope envelope;
        await using (var file = CreateTempFile(tempPath))
        {
            envelope = await EnvelopeReader.ReadAsync(body, file, limits.MaxBytes + EnvelopeDecryptor.TagLength, () => TooLarge(limits), FromClient, ct);
        }
        if (envelope.EncryptedKey is not { } encryptedKey || envelope.Iv is not { } iv || !envelope.HasData)
        {
            throw EnvelopeDecryptor.InvalidEnvelope($"The envelope has no '{(envelope.EncryptedKey is null ? "encryptedKey" : envelope.Iv is null ? "iv" : "encryptedData")}' field.");
        }
        var data = await File.ReadAllBytesAsync(tempPath, ct);
        var plaintext = EnvelopeDecryptor.Decrypt(envelope.Algorithm, encryptedKey, iv, data, await keys.GetPrivateKeyAsync(ct));
        if (plaintext.Length > limits.MaxBytes)
        {
            throw TooLarge(limits);
        }
        await using (var file = new FileStream(tempPath, FileMode.Truncate, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.None))
        {
            file.Write(plaintext.Span);
            file.Flush(flushToDisk: true);
        }
        hasher?.AppendData(plaintext.Span);
        return (plaintext.Length, envelope);
    }

    private static string? OptionalText(StreamedEnvelope envelope, params string[] names)
    {
        foreach (var name in names)
        {
            if (envelope.Texts.TryGetValue(name, out var value))
            {
                return value;
            }
        }
        return null;
    }

    // Streams the file part to disk, counting; one byte over the limit ends the upload with 413.
    private static async Task<long> CopyToFileAsync(Stream body, string tempPath, UploadLimits limits, IncrementalHash? hasher, CancellationToken ct)
    {
        await using var file = CreateTempFile(tempPath);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await FromClient(() => body.ReadAsync(buffer.AsMemory(0, CopyBufferSize), ct).AsTask())) > 0)
            {
                total += read;
                if (total > limits.MaxBytes)
                {
                    throw TooLarge(limits);
                }
                file.Write(buffer, 0, read);
                hasher?.AppendData(buffer, 0, read);
            }
            file.Flush(flushToDisk: true);
            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads a whole part into memory, refusing more than <paramref name="limit"/> bytes (413 for image data, 400 otherwise).</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadBoundedAsync(Stream body, long limit, UploadLimits? imageLimits, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            int read;
            while ((read = await FromClient(() => body.ReadAsync(chunk.AsMemory(0, CopyBufferSize), ct).AsTask())) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw imageLimits is not null ? TooLarge(imageLimits)
                        : ApiException.BadRequest("A form field of the upload is too large.", "INVALID_MULTIPART");
                }
                buffer.Write(chunk, 0, read);
            }
            return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    // Synchronous writes on purpose: on Linux an "async" file write is a thread-pool hop around the same blocking call, and a
    // write into the page cache takes microseconds; the one slow call, fsync, blocks either way.
    private static FileStream CreateTempFile(string path) => new(path, DataDirectory.NewFile(FileAccess.Write, bufferSize: 0));

    // A body that ends early or breaks the multipart framing is the client's fault (400); disk errors stay 500s.
    private static async Task<T> FromClient<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (Exception e) when (e is IOException or InvalidDataException && e is not BadHttpRequestException)
        {
            throw ApiException.BadRequest("The upload ended before the whole request arrived, or its multipart framing is broken.", "UPLOAD_INCOMPLETE");
        }
    }

    private static ApiException TooLarge(UploadLimits limits) =>
        new(413, "FILE_TOO_LARGE", $"The image is larger than the {FormatBytes(limits.MaxBytes)} this session accepts.");

    private static string FormatBytes(long bytes) =>
        bytes % (1024 * 1024) == 0 ? $"{bytes / (1024 * 1024)} MB" : $"{bytes} bytes";
}
