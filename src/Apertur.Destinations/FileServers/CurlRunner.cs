using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Apertur.Destinations.Curl;
using Apertur.Destinations.Outbound;

namespace Apertur.Destinations.FileServers;

/// <summary>Which server an ftp transfer talks to, as the messages name it.</summary>
internal sealed record CurlEndpoint(string Scheme, string Host, int Port, string Username)
{
    public string Where => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The URL of a path: relative paths from the login folder, absolute ones from the root.</summary>
    public string Url(string path)
    {
        var host = Host.Contains(':', StringComparison.Ordinal) && !Host.StartsWith('[') ? $"[{Host}]" : Host;
        var relative = !path.StartsWith('/');
        var escaped = RemotePaths.Escape(path);
        // A path is relative to the login folder unless it starts with %2F.
        var rooted = relative ? escaped : "%2F" + escaped;
        return $"{Scheme}://{host}:{Port.ToString(CultureInfo.InvariantCulture)}/{rooted}";
    }

    /// <summary>What the delivery log shows as the written object: the URL with the login, never a secret.</summary>
    public string RemoteRef(string path) => Url(path).Replace("://", $"://{Uri.EscapeDataString(Username)}@", StringComparison.Ordinal);
}

/// <summary>A failed file server transfer (sftp, ftp, webdav) in words, and whether trying again can help.</summary>
internal sealed record TransferFailure(string Message, bool Permanent, bool Throttled = false)
{
    public DeliveryResult ToResult(int? status = null) => Permanent
        ? new DeliveryResult.Rejected(Message, status)
        : new DeliveryResult.RetryLater(Message, Throttled: Throttled, StatusCode: status);
}

/// <summary>
/// Runs one libcurl transfer for the ftp adapter: the host is resolved and checked by the SSRF guard and libcurl is
/// pinned to the checked addresses (<c>CURLOPT_RESOLVE</c>), so it connects nowhere else; then the failure, if any, is
/// classified: login, certificate and permission problems are permanent; connection trouble, timeouts and
/// FTP 4xx replies are worth another attempt.
/// </summary>
internal static class CurlRunner
{
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The outcome: the libcurl result, or a failure found before libcurl ran; and the result of the step after a successful transfer, when there was one.</summary>
    public sealed record Outcome(CurlResult? Result, TransferFailure? Failure, CurlResult? Then = null);

    /// <param name="then">After a successful transfer: changes the options for a second request on the same connection (for
    /// instance commands only, <c>CURLOPT_NOBODY</c>), which is then run; its result is <see cref="Outcome.Then"/>.</param>
    public static async Task<Outcome> RunAsync(OutboundGuard guard, CurlEndpoint endpoint, TimeSpan timeout, Action<CurlTransfer> configure,
        DeliveryImage? image, CancellationToken ct, Action<CurlTransfer>? then = null)
    {
        IPAddress[] addresses;
        try
        {
            addresses = await guard.ResolveAsync(endpoint.Host, ct).ConfigureAwait(false);
        }
        catch (OutboundBlockedException e)
        {
            return new Outcome(null, new TransferFailure(e.Message, Permanent: true));
        }
        catch (SocketException e)
        {
            return new Outcome(null, new TransferFailure($"Could not find {endpoint.Host}: {e.Message}", Permanent: false));
        }

        Stream? source = null;
        try
        {
            using var transfer = new CurlTransfer();
            transfer.Resolve(endpoint.Host, endpoint.Port, addresses);
            transfer.Set(CurlOption.ConnectTimeoutMs, (long)ConnectTimeout.TotalMilliseconds);
            transfer.Set(CurlOption.TimeoutMs, (long)timeout.TotalMilliseconds);
            configure(transfer);
            if (image is not null)
            {
                try
                {
                    source = await image.OpenReadAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    return new Outcome(null, new TransferFailure($"Could not read the image: {e.Message}", Permanent: false));
                }
            }
            var result = await transfer.RunAsync(source, image?.SizeBytes ?? 0, ct).ConfigureAwait(false);
            if (result.Cancelled)
            {
                throw new OperationCanceledException(ct);
            }
            if (then is null || result.Code != CurlCode.Ok)
            {
                return new Outcome(result, null);
            }
            then(transfer);
            var after = await transfer.RunAsync(null, 0, ct).ConfigureAwait(false);
            if (after.Cancelled)
            {
                throw new OperationCanceledException(ct);
            }
            return new Outcome(result, null, after);
        }
        catch (CurlUnavailableException e)
        {
            // The server's installation, not the destination: keep the delivery until an operator fixes it.
            return new Outcome(null, new TransferFailure($"Cannot transfer files on this server: {e.Message}", Permanent: false));
        }
        finally
        {
            if (source is not null)
            {
                await source.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Null when the transfer succeeded with exactly the image's bytes; otherwise what went wrong.</summary>
    public static TransferFailure? Check(CurlResult result, CurlEndpoint endpoint, string path, long expectedBytes, bool upload)
    {
        if (result.Code == CurlCode.Ok)
        {
            return upload && result.Sent != expectedBytes
                ? new TransferFailure($"The image gave {result.Sent} bytes, not its recorded {expectedBytes}: the upload is retried", Permanent: false)
                : null;
        }
        if (result.SourceFailure is { } source)
        {
            return new TransferFailure($"Could not read the image: {source.Message}", Permanent: false);
        }
        var where = endpoint.Where;
        var error = result.Error;
        var reply = result.ResponseCode;
        var folder = RemotePaths.Folder(path) is { Length: > 0 } f ? f : "the login folder";
        return result.Code switch
        {
            CurlCode.LoginDenied or CurlCode.AuthError => new TransferFailure(
                $"Login failed for user '{endpoint.Username}' at {where}: wrong username, password or key ({error})", Permanent: true),
            CurlCode.PeerFailedVerification or CurlCode.SslCacertBadFile or CurlCode.SslCertProblem or CurlCode.SslPinnedPubKeyNotMatch => new TransferFailure(
                $"The TLS certificate of {where} is not trusted ({error}). Trust it with tls_certificate (its PEM), or set tls_verify to false.", Permanent: true),
            CurlCode.UseSslFailed => new TransferFailure(
                $"{where} does not offer TLS (AUTH TLS was refused). Set tls to implicit if it speaks TLS from the first byte, or to none to send in clear text.",
                Permanent: true),
            CurlCode.RemoteDiskFull => new TransferFailure($"The disk of {where} is full ({error})", Permanent: false),
            CurlCode.RemoteAccessDenied or CurlCode.UploadFailed or CurlCode.QuoteError or CurlCode.RemoteFileNotFound when reply is >= 400 and < 500 =>
                new TransferFailure($"{where} refused {path} for now ({error})", Permanent: false),
            CurlCode.RemoteFileNotFound => new TransferFailure(
                $"The folder {folder} does not exist on {where} and could not be created: check remote_dir and that '{endpoint.Username}' may create folders there ({error})",
                Permanent: true),
            CurlCode.RemoteAccessDenied or CurlCode.UploadFailed or CurlCode.QuoteError => new TransferFailure(
                $"{where} refused to create or write {path}: check remote_dir and that '{endpoint.Username}' may write to {folder} ({error})", Permanent: true),
            CurlCode.OperationTimedOut => new TransferFailure($"Timed out talking to {where} ({error})", Permanent: false, Throttled: true),
            CurlCode.CouldntConnect or CurlCode.CouldntResolveHost => new TransferFailure($"Could not connect to {where} ({error})", Permanent: false),
            CurlCode.UnsupportedProtocol or CurlCode.UrlMalformat or CurlCode.NotBuiltIn or CurlCode.UnknownOption or CurlCode.BadFunctionArgument =>
                new TransferFailure($"Cannot transfer files on this server: libcurl says {error}", Permanent: false),
            _ => new TransferFailure($"Transfer to {where} failed ({error})", Permanent: false),
        };
    }

    /// <summary>A probe file's name for the connection test: hidden, unique, removed again after the test.</summary>
    public static string ProbeName() => $".apertur-connection-test-{Guid.NewGuid():N}.txt";

    /// <summary>The probe's bytes, as an image the transfer can stream.</summary>
    public static DeliveryImage Probe(string name)
    {
        var bytes = "Apertur connection test: this file is removed right after it is written.\n"u8.ToArray();
        return new DeliveryImage(Guid.Empty, Guid.Empty, 0, name, "text/plain", bytes.Length, [], null, null, DateTimeOffset.UnixEpoch,
            _ => Task.FromResult<Stream>(new MemoryStream(bytes, writable: false)), null);
    }
}
