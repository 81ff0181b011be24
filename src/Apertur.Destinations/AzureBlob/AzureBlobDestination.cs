// The Blob service REST protocol, spoken by hand over HttpClient: the Azure SDK (Azure.Storage.Blobs) does not restore from
// the package source this project builds with. Delivering needs four documented calls (Put Blob, Put Block, Put Block List,
// Delete Blob), one signer (SharedKeySigner) and SAS handling (SasToken); all are tested against Azurite, which verifies
// signatures.

using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Apertur.Destinations.Paths;
using Apertur.Destinations.Storage;

namespace Apertur.Destinations.AzureBlob;

/// <summary>
/// The <c>azure_blob</c> destination: each image becomes a block blob named by <c>blob_template</c> in the configured
/// container, overwriting what is there, so a redelivery lands on the same blob. Up to
/// <see cref="StorageTuning.SinglePutLimit"/> bytes go in one Put Blob; larger images go as blocks of equal size with
/// deterministic ids (<c>apertur-000001</c>, …) committed by one Put Block List, so a redelivery re-stages the same
/// blocks. The image is streamed from the store, never held whole. Authorization is a SAS appended to each URL or a
/// Shared Key signature. Give it an <see cref="HttpClient"/> built on the SSRF guard's handler (the "outbound" client).
/// </summary>
public sealed class AzureBlobDestination : ConfiguredDestination<AzureBlobConfig>, IDescribedDestination
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private const int ErrorBodyLimit = 4096;

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly StorageTuning _tuning;

    /// <param name="timeout">How long one delivery attempt (all its requests) may take (default 30 s).</param>
    /// <param name="tuning">Single Put Blob limit and block size.</param>
    public AzureBlobDestination(HttpClient http, TimeProvider time, TimeSpan? timeout = null, StorageTuning? tuning = null)
    {
        _http = http;
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

    /// <summary>A block's id: the same for the same position on every attempt, and all of one length, as Azure requires.</summary>
    public static string BlockId(int index) => Convert.ToBase64String(Encoding.ASCII.GetBytes($"apertur-{index:D6}"));

    protected override async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, AzureBlobConfig config, CancellationToken ct)
    {
        var image = request.Image;
        var blob = PathTemplate.Render(config.BlobTemplate, image);
        return await RunAsync(config, async token =>
        {
            await using var body = await CheckedImageStream.OpenAsync(image, token).ConfigureAwait(false);
            if (_tuning.IsMultipart(image.SizeBytes))
            {
                await PutBlocksAsync(config, blob, image, body, token).ConfigureAwait(false);
            }
            else
            {
                using var put = new HttpRequestMessage(HttpMethod.Put, config.BlobUrl(blob)) { Content = Body(body, image.SizeBytes, image.MimeType) };
                put.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
                Describe(put, config, image);
                await SendAsync(put, config, token).ConfigureAwait(false);
            }
            return new DeliveryResult.Delivered(config.BlobUrl(blob).AbsoluteUri, 201);
        }, ct).ConfigureAwait(false);
    }

    /// <summary>Writes, then deletes, the <see cref="StorageProbe"/> blob beside where images go.</summary>
    protected override async Task<ConnectionTestResult> TestAsync(DestinationTarget target, AzureBlobConfig config, ProjectSigning signing, CancellationToken ct)
    {
        var blob = StorageProbe.PathFor(config.BlobTemplate);
        var url = config.BlobUrl(blob);
        var deleted = true;
        var result = await RunAsync(config, async token =>
        {
            var text = Encoding.UTF8.GetBytes(StorageProbe.Text(target.Id, _time.GetUtcNow()));
            using var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(text) };
            put.Content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
            put.Headers.TryAddWithoutValidation("x-ms-blob-type", "BlockBlob");
            await SendAsync(put, config, token).ConfigureAwait(false);
            try
            {
                using var delete = new HttpRequestMessage(HttpMethod.Delete, url);
                await SendAsync(delete, config, token).ConfigureAwait(false);
            }
            catch (AzureAnswerException e) when (e.Status == 403)
            {
                // A SAS without delete (d) permission is enough to deliver: the test still passed.
                deleted = false;
            }
            return new DeliveryResult.Delivered(url.AbsoluteUri, 201);
        }, ct).ConfigureAwait(false);
        return result switch
        {
            DeliveryResult.Delivered when deleted => new ConnectionTestResult(true, $"Wrote and deleted a test blob at {url.AbsoluteUri}", 201),
            DeliveryResult.Delivered => new ConnectionTestResult(true,
                $"Wrote a test blob at {url.AbsoluteUri}; the credential may not delete it, which delivering does not need", 201),
            DeliveryResult.Rejected r => new ConnectionTestResult(false, r.Reason, r.StatusCode),
            DeliveryResult.RetryLater r => new ConnectionTestResult(false, r.Reason, r.StatusCode),
            _ => throw new InvalidOperationException("unknown result"),
        };
    }

    /// <summary>Blocks of equal size read one after another from the stream, then one block list in order.</summary>
    private async Task PutBlocksAsync(AzureBlobConfig config, string blob, DeliveryImage image, CheckedImageStream body, CancellationToken ct)
    {
        var url = config.BlobUrl(blob);
        var parts = _tuning.Parts(image.SizeBytes);
        var list = new XElement("BlockList");
        for (var i = 0; i < parts.Count; i++)
        {
            var id = BlockId(i + 1);
            using var slice = new SliceStream(body, parts[i]);
            using var put = new HttpRequestMessage(HttpMethod.Put, $"{url.AbsoluteUri}?comp=block&blockid={Uri.EscapeDataString(id)}")
            {
                Content = Body(slice, parts[i], "application/octet-stream"),
            };
            await SendAsync(put, config, ct).ConfigureAwait(false);
            list.Add(new XElement("Latest", id));
        }
        await body.EnsureEndAsync(ct).ConfigureAwait(false);

        var xml = new XDocument(new XDeclaration("1.0", "utf-8", null), list);
        var bytes = Encoding.UTF8.GetBytes(xml.Declaration + xml.ToString(SaveOptions.DisableFormatting));
        using var commit = new HttpRequestMessage(HttpMethod.Put, $"{url.AbsoluteUri}?comp=blocklist") { Content = new ByteArrayContent(bytes) };
        commit.Content.Headers.ContentType = new MediaTypeHeaderValue("application/xml") { CharSet = "utf-8" };
        commit.Headers.TryAddWithoutValidation("x-ms-blob-content-type", image.MimeType);
        Describe(commit, config, image);
        await SendAsync(commit, config, ct).ConfigureAwait(false);
    }

    private static StreamContent Body(Stream stream, long length, string contentType)
    {
        var content = new StreamContent(stream, 64 * 1024);
        content.Headers.ContentLength = length;
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    /// <summary>The blob's tier and metadata naming where it came from.</summary>
    private static void Describe(HttpRequestMessage request, AzureBlobConfig config, DeliveryImage image)
    {
        request.Headers.TryAddWithoutValidation("x-ms-meta-apertur_image_id", image.Id.ToString());
        request.Headers.TryAddWithoutValidation("x-ms-meta-apertur_session_id", image.SessionId.ToString());
        if (config.AccessTier is not null)
        {
            request.Headers.TryAddWithoutValidation("x-ms-access-tier", config.AccessTier);
        }
    }

    /// <summary>Authorizes (SAS or Shared Key) and sends; throws <see cref="AzureAnswerException"/> for any non-2xx answer.</summary>
    private async Task SendAsync(HttpRequestMessage request, AzureBlobConfig config, CancellationToken ct)
    {
        var now = _time.GetUtcNow();
        request.Headers.TryAddWithoutValidation("x-ms-date", now.UtcDateTime.ToString("R", CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("x-ms-version", SharedKeySigner.Version);
        if (config.AccountKey is { } key)
        {
            SharedKeySigner.Sign(request, config.AccountName, key, now);
        }
        else
        {
            request.RequestUri = config.Sas!.Apply(request.RequestUri!);
        }
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var code = response.Headers.TryGetValues("x-ms-error-code", out var codes) ? codes.FirstOrDefault() : null;
        string? message = null;
        var text = await ReadBoundedAsync(response, ct).ConfigureAwait(false);
        if (text.Length > 0)
        {
            try
            {
                var error = XDocument.Parse(text).Root;
                code ??= error?.Element("Code")?.Value;
                message = error?.Element("Message")?.Value.Split('\n')[0].Trim();
            }
            catch (System.Xml.XmlException)
            {
                message = text.Length > 200 ? text[..200] : text;
            }
        }
        var retryAfter = response.Headers.RetryAfter?.Delta;
        throw new AzureAnswerException((int)response.StatusCode, code, message, retryAfter);
    }

    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var buffer = new byte[ErrorBodyLimit];
        var total = 0;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                int read;
                while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false)) > 0)
                {
                    total += read;
                }
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            // The status is the answer; a broken body only loses the message.
        }
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    /// <summary>One attempt bounded by the timeout, its failures classified.</summary>
    private async Task<DeliveryResult> RunAsync(AzureBlobConfig config, Func<CancellationToken, Task<DeliveryResult>> work, CancellationToken ct)
    {
        var endpoint = config.Endpoint.AbsoluteUri.TrimEnd('/');
        if (config.Sas?.Expires is { } expires && expires <= _time.GetUtcNow())
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
        catch (AzureAnswerException e)
        {
            return AzureErrors.Classify(e.Status, e.Code, e.ServerMessage, e.RetryAfter, config.AccountName, config.ContainerName, endpoint,
                config.Sas is not null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DeliveryResult.RetryLater($"{Failures.TimedOut(_timeout)} talking to {endpoint}", Throttled: true);
        }
        catch (Exception e) when (Failures.BeforeAnswer(e, Failures.Endpoint(config.Endpoint)) is { } failure)
        {
            ct.ThrowIfCancellationRequested();
            return failure;
        }
    }
}

/// <summary>A non-2xx answer of the Blob service: status, <c>x-ms-error-code</c> and the message of its XML body.</summary>
internal sealed class AzureAnswerException(int status, string? code, string? message, TimeSpan? retryAfter)
    : Exception($"Blob service answered {status} {code}: {message}")
{
    public int Status { get; } = status;
    public string? Code { get; } = code;
    public string? ServerMessage { get; } = message;
    public TimeSpan? RetryAfter { get; } = retryAfter;
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
