using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Apertur.Destinations.FileServers;
using Apertur.Destinations.Outbound;

namespace Apertur.Destinations.WebDav;

/// <summary>
/// The <c>webdav</c> destination (RFC 4918 through <see cref="HttpClient"/>; the protocol is a few verbs, so no library):
/// makes each missing folder with <c>MKCOL</c> (a PUT into a missing folder answers 409), streams the image with
/// <c>PUT</c> to a temporary name beside the file (<see cref="RemotePaths.Temporary"/>), checks with <c>PROPFIND</c> that the
/// server holds exactly the image's size, and renames it into place with <c>MOVE</c> (<c>Overwrite: T</c>: a redelivery
/// replaces the file), so the final name never holds a half-written file. A server that answers MOVE 405 or 501 gets the
/// image written in place instead.
/// Works with any WebDAV server, Nextcloud and ownCloud included (<c>https://host/remote.php/dav/files/USER/</c>). Give
/// it an <see cref="HttpClient"/> built on <see cref="OutboundGuard.CreateHandler"/> so the SSRF guard checks every
/// connection; redirects are not followed.
/// </summary>
public sealed class WebDavDestination(HttpClient http, TimeProvider time, TimeSpan? timeout = null) : ConfiguredDestination<WebDavConfig>, IDescribedDestination
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    public const string UserAgent = "Apertur-WebDAV/1.0";

    private static readonly HttpMethod Propfind = new("PROPFIND");
    private static readonly HttpMethod Mkcol = new("MKCOL");
    private static readonly HttpMethod Move = new("MOVE");
    private const string PropfindBody =
        """<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:getcontentlength/></d:prop></d:propfind>""";
    private static readonly XNamespace Dav = "DAV:";

    private readonly TimeSpan _timeout = timeout ?? DefaultTimeout;

    public override string Kind => DestinationKinds.WebDav;

    /// <summary>The webdav kind: its form, validation, warnings (http) and secrets.</summary>
    public static DestinationDescriptor Descriptor { get; } = new(DestinationKinds.WebDav, "WebDAV",
        "PUTs each image into a WebDAV folder: Nextcloud, ownCloud, Apache mod_dav, many NAS.", Validate,
        new([
            new("url", "Folder URL", "The WebDAV folder, e.g. Nextcloud's https://HOST/remote.php/dav/files/USER/.", FieldType.Url, Required: true,
                Placeholder: "https://cloud.example.com/remote.php/dav/files/me/"),
            new("username", "User name", "The WebDAV login."),
            new("password", "Password", "For Nextcloud, an app password. Encrypted at rest, never shown again.", Secret: true),
            new("remote_dir", "Remote folder", "Below the URL; created when missing.", Placeholder: "apertur"),
            new("path_template", "Path template", DestinationFormSpec.TemplateHelp + " Default {session_id}/{image_index}.{ext}.", Placeholder: "{session_id}/{image_index}.{ext}"),
        ]), SecretFields: ["password"])
    {
        Warnings = WebDavConfig.Warnings,
        OtherSecretNames = ["pass"],
        ConnectionTest = true,
    };

    /// <summary>What is wrong with a webdav config, in words; empty when it is fine.</summary>
    public static IReadOnlyList<string> Validate(JsonElement config) => WebDavConfig.TryParse(config, out _, out var problems) ? [] : problems;

    protected override async Task<DeliveryResult> DeliverAsync(DeliveryRequest request, WebDavConfig config, CancellationToken ct)
    {
        var image = request.Image;
        var path = RemotePaths.For(config.RemoteDir.TrimStart('/', '\\'), config.PathTemplate, image).TrimStart('/');
        using var timeoutSource = new CancellationTokenSource(_timeout, time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutSource.Token);
        try
        {
            var failure = await EnsureFoldersAsync(config, RemotePaths.Folder(path), attempt.Token).ConfigureAwait(false);
            if (failure is not null)
            {
                return failure.ToResult();
            }
            var file = new Uri(config.Url, RemotePaths.Escape(path));
            var temp = new Uri(config.Url, RemotePaths.Escape(RemotePaths.Temporary(path, request.DeliveryId)));
            var (written, _) = await WriteCheckedAsync(config, temp, file, image, attempt.Token).ConfigureAwait(false);
            if (written is not null)
            {
                await DeleteQuietlyAsync(config, temp, attempt.Token).ConfigureAwait(false);
                return written;
            }
            var (moved, status) = await MoveAsync(config, temp, file, attempt.Token).ConfigureAwait(false);
            if (moved is null)
            {
                return new DeliveryResult.Delivered(file.AbsoluteUri, status);
            }
            await DeleteQuietlyAsync(config, temp, attempt.Token).ConfigureAwait(false);
            if (status is not (405 or 501))
            {
                return moved.ToResult(status);
            }
            // A server without MOVE: written in place, as before temporary names (a receiver may see it while it is written).
            var (inPlace, stored) = await WriteCheckedAsync(config, file, file, image, attempt.Token).ConfigureAwait(false);
            return inPlace ?? new DeliveryResult.Delivered(file.AbsoluteUri, stored);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DeliveryResult.RetryLater(TimedOut(config.Url), Throttled: true);
        }
        catch (HttpRequestException e)
        {
            ct.ThrowIfCancellationRequested();
            return Classify(e, config.Url).ToResult();
        }
        catch (ImageReadException e)
        {
            return new DeliveryResult.RetryLater(e.Message);
        }
    }

    /// <summary>Checks the folder at <c>url</c>, logs in, creates <c>remote_dir</c>, writes a small probe file there and deletes it.</summary>
    protected override async Task<ConnectionTestResult> TestAsync(DestinationTarget target, WebDavConfig config, ProjectSigning signing, CancellationToken ct)
    {
        using var timeoutSource = new CancellationTokenSource(_timeout, time);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutSource.Token);
        try
        {
            using (var root = await SendAsync(config, Propfind, config.Url, PropfindContent(), depth: "0", attempt.Token).ConfigureAwait(false))
            {
                var status = (int)root.StatusCode;
                if (status != 207)
                {
                    var failure = status switch
                    {
                        404 => new TransferFailure($"The folder {config.Url} does not exist on the server ({Text(root)}): check url", true),
                        405 or 501 => new TransferFailure($"{config.Url} is not a WebDAV folder: PROPFIND answered {Text(root)}", true),
                        _ => Failure(root, config, config.Url, "read the folder"),
                    };
                    return new ConnectionTestResult(false, failure.Message, status);
                }
            }
            var name = CurlRunner.ProbeName();
            var probePath = Paths.PathTemplate.Combine(config.RemoteDir.TrimStart('/', '\\'), name).TrimStart('/');
            var dir = RemotePaths.Folder(probePath);
            var made = await EnsureFoldersAsync(config, dir, attempt.Token).ConfigureAwait(false);
            if (made is not null)
            {
                return new ConnectionTestResult(false, made.Message);
            }
            var file = new Uri(config.Url, RemotePaths.Escape(probePath));
            var probe = CurlRunner.Probe(name);
            var (put, stored) = await PutAsync(config, file, file, probe, attempt.Token).ConfigureAwait(false);
            if (put is not null)
            {
                return new ConnectionTestResult(false, put.Message, stored);
            }
            using (var deleted = await SendAsync(config, HttpMethod.Delete, file, null, depth: null, attempt.Token).ConfigureAwait(false))
            {
                if (!deleted.IsSuccessStatusCode)
                {
                    return new ConnectionTestResult(false, $"Wrote a test file but could not delete it: DELETE {file.AbsolutePath} answered {Text(deleted)}",
                        (int)deleted.StatusCode);
                }
            }
            var folder = dir.Length == 0 ? config.Url.AbsolutePath : new Uri(config.Url, RemotePaths.Escape(dir) + "/").AbsolutePath;
            var who = config.Username is null ? "" : $" as {config.Username}";
            var warning = config.Url.Scheme == Uri.UriSchemeHttp && config.Password is not null ? " " + WebDavConfig.ClearTextWarning : "";
            return new ConnectionTestResult(true, $"Connected to {config.Url.Authority}{who} and wrote a test file in {folder}.{warning}", stored);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new ConnectionTestResult(false, TimedOut(config.Url));
        }
        catch (HttpRequestException e)
        {
            ct.ThrowIfCancellationRequested();
            return new ConnectionTestResult(false, Classify(e, config.Url).Message);
        }
        catch (ImageReadException e)
        {
            return new ConnectionTestResult(false, e.Message);
        }
    }

    /// <summary>Makes sure <paramref name="folder"/> (relative to the URL) exists: one PROPFIND when it does, else MKCOL level by level.</summary>
    private async Task<TransferFailure?> EnsureFoldersAsync(WebDavConfig config, string folder, CancellationToken ct)
    {
        if (folder.Length == 0)
        {
            return null;
        }
        var target = new Uri(config.Url, RemotePaths.Escape(folder) + "/");
        using (var found = await SendAsync(config, Propfind, target, PropfindContent(), depth: "0", ct).ConfigureAwait(false))
        {
            if ((int)found.StatusCode == 207)
            {
                return null;
            }
            if (found.StatusCode != HttpStatusCode.NotFound)
            {
                return Failure(found, config, target, "read the folder");
            }
        }
        var built = "";
        foreach (var segment in folder.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            built += Uri.EscapeDataString(segment) + "/";
            var level = new Uri(config.Url, built);
            using var made = await SendAsync(config, Mkcol, level, null, depth: null, ct).ConfigureAwait(false);
            switch ((int)made.StatusCode)
            {
                case 201 or 405:
                    // Created, or already there (405: MKCOL on an existing collection).
                    continue;
                case 409:
                    return new TransferFailure($"The folder {config.Url} does not exist on the server (MKCOL {level.AbsolutePath} answered {Text(made)}): check url", true);
                case 401:
                    return Failure(made, config, level, "create the folder");
                default:
                    // Another delivery of the same session may have made it a moment ago (Apache answers that race with 403).
                    using (var there = await SendAsync(config, Propfind, level, PropfindContent(), depth: "0", ct).ConfigureAwait(false))
                    {
                        if ((int)there.StatusCode == 207)
                        {
                            continue;
                        }
                    }
                    return Failure(made, config, level, "create the folder");
            }
        }
        return null;
    }

    /// <summary>PUTs the image at <paramref name="target"/>; messages name <paramref name="file"/> (the final name when <paramref name="target"/> is its temporary one).</summary>
    private async Task<(TransferFailure? Failure, int Status)> PutAsync(WebDavConfig config, Uri target, Uri file, DeliveryImage image, CancellationToken ct)
    {
        Stream source;
        try
        {
            source = await image.OpenReadAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ImageReadException($"Could not read the image: {e.Message}");
        }
        await using var limited = new ExactLengthStream(source, image.SizeBytes);
        using var content = new StreamContent(limited, 256 * 1024);
        content.Headers.ContentLength = image.SizeBytes;
        content.Headers.ContentType = MediaTypeHeaderValue.TryParse(image.MimeType, out var type) ? type : new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendAsync(config, HttpMethod.Put, target, content, depth: null, ct).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        if (status is 200 or 201 or 204)
        {
            return (null, status);
        }
        return (status switch
        {
            404 or 409 => new TransferFailure($"The folder of {file.AbsolutePath} disappeared while writing ({Text(response)})", false),
            413 => new TransferFailure($"The server refused {file.AbsolutePath} as too large ({Text(response)})", true),
            _ => Failure(response, config, file, "write the file"),
        }, status);
    }

    /// <summary>
    /// PUTs the image at <paramref name="target"/> and checks with PROPFIND that the server holds exactly its size; messages
    /// name <paramref name="named"/>, the file as the destination knows it. Null and the PUT's status when it is stored.
    /// </summary>
    private async Task<(DeliveryResult? Failure, int Status)> WriteCheckedAsync(WebDavConfig config, Uri target, Uri named, DeliveryImage image,
        CancellationToken ct)
    {
        var (put, stored) = await PutAsync(config, target, named, image, ct).ConfigureAwait(false);
        if (put is not null)
        {
            return (put.ToResult(stored), stored);
        }
        var (size, status) = await SizeAsync(config, target, ct).ConfigureAwait(false);
        if (size != image.SizeBytes)
        {
            return (new DeliveryResult.RetryLater(
                $"The server accepted the PUT of {named.AbsolutePath} ({stored}) but reports {(size is null ? "no size" : $"{size} bytes")} " +
                $"(PROPFIND {status}) for a {image.SizeBytes}-byte image", StatusCode: stored), stored);
        }
        return (null, stored);
    }

    /// <summary>
    /// Renames <paramref name="from"/> to <paramref name="to"/> with <c>MOVE</c>, replacing what is there
    /// (<c>Overwrite: T</c>): 201 when it was new, 204 when it replaced a file. Otherwise why not, and the status.
    /// </summary>
    private async Task<(TransferFailure? Failure, int Status)> MoveAsync(WebDavConfig config, Uri from, Uri to, CancellationToken ct)
    {
        using var response = await SendAsync(config, Move, from, null, depth: null, ct, request =>
        {
            request.Headers.TryAddWithoutValidation("Destination", to.AbsoluteUri);
            request.Headers.TryAddWithoutValidation("Overwrite", "T");
        }).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        return (status is 201 or 204 ? null : Failure(response, config, to, "move the file into"), status);
    }

    /// <summary>Best effort: a temporary file that was not renamed goes (one per delivery, so a leftover is overwritten by the next attempt).</summary>
    private async Task DeleteQuietlyAsync(WebDavConfig config, Uri file, CancellationToken ct)
    {
        try
        {
            using var _ = await SendAsync(config, HttpMethod.Delete, file, null, depth: null, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException)
        {
            // The attempt's own failure is what is reported.
        }
    }

    /// <summary>The stored size of a file as PROPFIND reports it.</summary>
    private async Task<(long? Size, int Status)> SizeAsync(WebDavConfig config, Uri file, CancellationToken ct)
    {
        using var response = await SendAsync(config, Propfind, file, PropfindContent(), depth: "0", ct).ConfigureAwait(false);
        if ((int)response.StatusCode != 207)
        {
            return (null, (int)response.StatusCode);
        }
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        try
        {
            var length = XDocument.Parse(body).Descendants(Dav + "getcontentlength").FirstOrDefault()?.Value;
            return (long.TryParse(length, NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? size : null, 207);
        }
        catch (System.Xml.XmlException)
        {
            return (null, 207);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(WebDavConfig config, HttpMethod method, Uri uri, HttpContent? content, string? depth,
        CancellationToken ct, Action<HttpRequestMessage>? headers = null)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        headers?.Invoke(request);
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        if (config.Username is not null)
        {
            var pair = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{config.Username}:{config.Password}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", pair);
        }
        if (depth is not null)
        {
            request.Headers.TryAddWithoutValidation("Depth", depth);
        }
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
    }

    private static StringContent PropfindContent() => new(PropfindBody, Encoding.UTF8, "application/xml");

    /// <summary>An answer that stops the attempt: login and permission problems are permanent, server trouble is not.</summary>
    private static TransferFailure Failure(HttpResponseMessage response, WebDavConfig config, Uri uri, string what)
    {
        var status = (int)response.StatusCode;
        var answered = Text(response);
        return status switch
        {
            401 => new TransferFailure($"Login failed at {config.Url.Authority} for user '{config.Username}': the server answered {answered}", true),
            403 => new TransferFailure($"Permission denied: could not {what} {uri.AbsolutePath} ({answered}); check that '{config.Username}' may write there", true),
            >= 300 and < 400 => new TransferFailure(
                $"The server answered {answered} for {uri.AbsolutePath} and redirects are not followed (Location: {response.Headers.Location?.OriginalString ?? "none"}): put the final URL in url",
                true),
            429 => new TransferFailure($"The server is throttling ({answered})", false, Throttled: true),
            507 => new TransferFailure($"The server has no room left ({answered})", false),
            423 => new TransferFailure($"{uri.AbsolutePath} is locked ({answered})", false),
            _ => new TransferFailure($"Could not {what} {uri.AbsolutePath}: the server answered {answered}", status is < 500 and not 408 and not 425),
        };
    }

    private static string Text(HttpResponseMessage response) =>
        string.IsNullOrWhiteSpace(response.ReasonPhrase)
            ? ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture)
            : $"{(int)response.StatusCode} {response.ReasonPhrase}";

    private string TimedOut(Uri url) =>
        $"Timed out after {_timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s talking to {url.Authority}";

    private static TransferFailure Classify(HttpRequestException error, Uri url)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case OutboundBlockedException blocked:
                    return new TransferFailure(blocked.Message, true);
                case ImageReadException image:
                    return new TransferFailure(image.Message, false);
                case SocketException socket:
                    var what = socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => "connection refused",
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => "host not found",
                        SocketError.TimedOut => "connection timed out",
                        SocketError.ConnectionReset => "connection reset",
                        _ => socket.SocketErrorCode.ToString(),
                    };
                    return new TransferFailure($"Could not connect to {url.Authority} ({what})", false);
            }
        }
        var reason = error.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => "host not found",
            HttpRequestError.SecureConnectionError => "TLS handshake failed: " + (error.InnerException?.Message ?? error.Message),
            _ => error.InnerException?.Message ?? error.Message,
        };
        return new TransferFailure($"Request to {url.Authority} failed ({reason})", false);
    }

    /// <summary>The image could not be read: the server's problem, worth another attempt.</summary>
    private sealed class ImageReadException(string message) : Exception(message);

    /// <summary>Passes the image through and refuses more bytes than its recorded size (sizes are checked while streaming).</summary>
    private sealed class ExactLengthStream(Stream inner, long length) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            try
            {
                return Count(inner.Read(buffer));
            }
            catch (IOException e)
            {
                throw new ImageReadException($"Could not read the image: {e.Message}");
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));
            }
            catch (IOException e)
            {
                throw new ImageReadException($"Could not read the image: {e.Message}");
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > length ? throw new ImageReadException($"Could not read the image: it is longer than its recorded {length} bytes") : read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }
    }
}
