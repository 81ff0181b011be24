using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Apertur.Destinations.Curl;

/// <summary>
/// One libcurl easy handle for one transfer: options in, then <see cref="RunAsync"/>, which streams the upload from a
/// <see cref="Stream"/> through <c>CURLOPT_READFUNCTION</c> (never the whole image in memory) and runs the blocking
/// <c>curl_easy_perform</c> on a thread of its own, off the thread pool. Cancellation is checked by
/// <c>CURLOPT_XFERINFOFUNCTION</c>, which libcurl calls at least once a second, also while connecting.
/// </summary>
internal sealed class CurlTransfer : IDisposable
{
    private const int UploadBufferSize = 256 * 1024;
    private static readonly Lazy<int> GlobalInit = new(() => CurlNative.GlobalInit(CurlNative.GlobalDefault), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly nint _handle;
    private readonly nint _errorBuffer;
    private nint _resolve;
    private nint _postQuote;

    /// <exception cref="CurlUnavailableException">libcurl is not installed or cannot start.</exception>
    public CurlTransfer()
    {
        try
        {
            if (GlobalInit.Value != 0)
            {
                throw new CurlUnavailableException($"curl_global_init failed with code {GlobalInit.Value}");
            }
            _handle = CurlNative.EasyInit();
        }
        catch (DllNotFoundException e)
        {
            throw new CurlUnavailableException("libcurl (libcurl.so.4, Debian package libcurl4) is not installed on this server: " + e.Message);
        }
        if (_handle == 0)
        {
            throw new CurlUnavailableException("curl_easy_init failed");
        }
        _errorBuffer = AllocateErrorBuffer();
        SetPointer(CurlOption.ErrorBuffer, _errorBuffer);
        // Worker threads must never get SIGALRM/SIGPIPE from libcurl.
        Set(CurlOption.NoSignal, 1);
        Set(CurlOption.UploadBufferSize, UploadBufferSize);
    }

    public void Set(CurlOption option, long value) => Check(option, CurlNative.SetOptionLong(_handle, (int)option, value));

    public void Set(CurlOption option, bool value) => Set(option, value ? 1L : 0L);

    public void Set(CurlOption option, string value) => Check(option, CurlNative.SetOptionString(_handle, (int)option, value));

    /// <summary>A blob option (a PEM certificate for <see cref="CurlOption.CaInfoBlob"/>); libcurl copies it.</summary>
    public unsafe void Set(CurlOption option, byte[] value)
    {
        fixed (byte* data = value)
        {
            var blob = new CurlNative.Blob { Data = (nint)data, Length = (nuint)value.Length, Flags = CurlNative.BlobCopy };
            Check(option, CurlNative.SetOptionPointer(_handle, (int)option, (nint)(&blob)));
        }
    }

    /// <summary>Pins <c>host:port</c> to checked addresses (<c>CURLOPT_RESOLVE</c>): libcurl resolves nothing itself.</summary>
    public void Resolve(string host, int port, IEnumerable<System.Net.IPAddress> addresses)
    {
        var list = string.Join(',', addresses.Select(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{a}]" : a.ToString()));
        _resolve = CurlNative.SlistAppend(_resolve, $"{host.Trim('[', ']')}:{port}:{list}");
        SetPointer(CurlOption.Resolve, _resolve);
    }

    /// <summary>A command run after the transfer on the same connection (FTP <c>DELE</c>).</summary>
    public void PostQuote(string command)
    {
        _postQuote = CurlNative.SlistAppend(_postQuote, command);
        SetPointer(CurlOption.PostQuote, _postQuote);
    }

    /// <summary>
    /// Runs the transfer: uploads <paramref name="source"/> (exactly <paramref name="expectedBytes"/>; more is refused while
    /// streaming) or, with no source, only connects and runs the quote commands.
    /// </summary>
    public async Task<CurlResult> RunAsync(Stream? source, long expectedBytes, CancellationToken ct)
    {
        var state = new TransferState(source, expectedBytes, ct);
        var handle = GCHandle.Alloc(state);
        try
        {
            InstallCallbacks(GCHandle.ToIntPtr(handle), source is not null, expectedBytes);

            var code = await Task.Factory.StartNew(() => (CurlCode)CurlNative.EasyPerform(_handle),
                CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ConfigureAwait(false);

            _ = CurlNative.GetInfoLong(_handle, (int)CurlInfo.ResponseCode, out var response);
            return new CurlResult(code, ErrorText(code), state.Sent, (int)response, state.SourceFailure,
                Cancelled: code == CurlCode.AbortedByCallback && ct.IsCancellationRequested);
        }
        finally
        {
            handle.Free();
        }
    }

    private unsafe void InstallCallbacks(nint state, bool upload, long expectedBytes)
    {
        if (upload)
        {
            Set(CurlOption.Upload, 1);
            Set(CurlOption.InFileSizeLarge, expectedBytes);
            SetPointer(CurlOption.ReadFunction, (nint)(delegate* unmanaged[Cdecl]<byte*, nuint, nuint, nint, nuint>)&Read);
            SetPointer(CurlOption.ReadData, state);
        }
        Set(CurlOption.NoProgress, 0);
        SetPointer(CurlOption.XferInfoFunction, (nint)(delegate* unmanaged[Cdecl]<nint, long, long, long, long, int>)&Progress);
        SetPointer(CurlOption.XferInfoData, state);
    }

    private static unsafe nint AllocateErrorBuffer() => (nint)NativeMemory.AllocZeroed(CurlNative.ErrorSize);

    public unsafe void Dispose()
    {
        CurlNative.EasyCleanup(_handle);
        if (_resolve != 0)
        {
            CurlNative.SlistFreeAll(_resolve);
        }
        if (_postQuote != 0)
        {
            CurlNative.SlistFreeAll(_postQuote);
        }
        NativeMemory.Free((void*)_errorBuffer);
    }

    private void SetPointer(CurlOption option, nint value) => Check(option, CurlNative.SetOptionPointer(_handle, (int)option, value));

    private static void Check(CurlOption option, int code)
    {
        if (code != 0)
        {
            throw new CurlUnavailableException($"this libcurl refuses option {option}: {Describe((CurlCode)code)}");
        }
    }

    private string ErrorText(CurlCode code)
    {
        var text = Marshal.PtrToStringUTF8(_errorBuffer)?.Trim();
        return string.IsNullOrEmpty(text) ? Describe(code) : text;
    }

    private static string Describe(CurlCode code) => Marshal.PtrToStringUTF8(CurlNative.StrError((int)code)) ?? code.ToString();

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static unsafe nuint Read(byte* buffer, nuint size, nuint count, nint data)
    {
        var state = (TransferState)GCHandle.FromIntPtr(data).Target!;
        try
        {
            if (state.Token.IsCancellationRequested)
            {
                return CurlNative.ReadAbort;
            }
            var read = state.Source!.Read(new Span<byte>(buffer, (int)Math.Min(size * count, int.MaxValue)));
            state.Sent += read;
            if (state.Sent > state.Expected)
            {
                state.SourceFailure = new InvalidDataException($"the image is longer than its recorded {state.Expected} bytes");
                return CurlNative.ReadAbort;
            }
            return (nuint)read;
        }
        catch (Exception e)
        {
            // Nothing may unwind through libcurl's frames.
            state.SourceFailure = e;
            return CurlNative.ReadAbort;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Progress(nint data, long downloadTotal, long downloaded, long uploadTotal, long uploaded)
    {
        var state = (TransferState)GCHandle.FromIntPtr(data).Target!;
        return state.Token.IsCancellationRequested ? 1 : 0;
    }

    private sealed class TransferState(Stream? source, long expected, CancellationToken token)
    {
        public Stream? Source { get; } = source;
        public long Expected { get; } = expected;
        public CancellationToken Token { get; } = token;
        public long Sent { get; set; }
        public Exception? SourceFailure { get; set; }
    }
}

/// <summary>What one libcurl transfer came to.</summary>
/// <param name="ResponseCode">The last FTP reply code.</param>
/// <param name="SourceFailure">Why the image could not be read, when the read callback aborted.</param>
internal sealed record CurlResult(CurlCode Code, string Error, long Sent, int ResponseCode, Exception? SourceFailure, bool Cancelled);

/// <summary>libcurl is missing or refuses an option this adapter needs: an installation problem, not the destination's.</summary>
internal sealed class CurlUnavailableException(string message) : Exception(message);
