using System.Runtime.InteropServices;

namespace Apertur.Destinations.Curl;

/// <summary>
/// The native calls into libcurl's easy interface, and the option and error numbers used, from curl.h of 7.88.
/// <para>
/// Why native: no maintained .NET FTP or FTPS library restores from this project's package source (FluentFTP and the like
/// are missing), while Debian's <c>libcurl.so.4</c> (package libcurl4, built with OpenSSL) speaks ftp and ftps and is the
/// most used transfer library there is. Only the ftp destination uses it (sftp runs on SSH.NET, see Sftp/). Only this
/// file declares native calls; the adapter talks to <see cref="CurlTransfer"/>.
/// </para>
/// <para>
/// <c>curl_easy_setopt</c> is variadic: it is declared here once per argument kind (long, pointer, UTF-8 string). On the
/// System V x86-64 and AArch64 Linux ABIs integer and pointer variadic arguments travel exactly like fixed ones.
/// Strings are copied by libcurl (7.17+), blobs with <see cref="BlobCopy"/>; lists (<c>curl_slist</c>) are not and stay
/// alive until the handle is cleaned up.
/// </para>
/// </summary>
internal static partial class CurlNative
{
    private const string Library = "libcurl.so.4";

    public const int ErrorSize = 256;
    public const long GlobalDefault = 3;
    public const nuint ReadAbort = 0x10000000;
    public const uint BlobCopy = 1;

    [LibraryImport(Library, EntryPoint = "curl_global_init")]
    public static partial int GlobalInit(long flags);

    [LibraryImport(Library, EntryPoint = "curl_easy_init")]
    public static partial nint EasyInit();

    [LibraryImport(Library, EntryPoint = "curl_easy_cleanup")]
    public static partial void EasyCleanup(nint handle);

    [LibraryImport(Library, EntryPoint = "curl_easy_perform")]
    public static partial int EasyPerform(nint handle);

    [LibraryImport(Library, EntryPoint = "curl_easy_setopt")]
    public static partial int SetOptionLong(nint handle, int option, long value);

    [LibraryImport(Library, EntryPoint = "curl_easy_setopt")]
    public static partial int SetOptionPointer(nint handle, int option, nint value);

    [LibraryImport(Library, EntryPoint = "curl_easy_setopt", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int SetOptionString(nint handle, int option, string value);

    [LibraryImport(Library, EntryPoint = "curl_easy_getinfo")]
    public static partial int GetInfoLong(nint handle, int info, out long value);

    [LibraryImport(Library, EntryPoint = "curl_easy_strerror")]
    public static partial nint StrError(int code);

    [LibraryImport(Library, EntryPoint = "curl_slist_append", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint SlistAppend(nint list, string value);

    [LibraryImport(Library, EntryPoint = "curl_slist_free_all")]
    public static partial void SlistFreeAll(nint list);

    /// <summary>struct curl_blob.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Blob
    {
        public nint Data;
        public nuint Length;
        public uint Flags;
    }
}

/// <summary>CURLoption numbers (type base + number, as curl.h computes them).</summary>
internal enum CurlOption
{
    // Longs (base 0).
    SslVersion = 32,
    Verbose = 41,
    NoProgress = 43,
    NoBody = 44,
    Upload = 46,
    SslVerifyPeer = 64,
    SslVerifyHost = 81,
    FtpUseEpsv = 85,
    NoSignal = 99,
    FtpCreateMissingDirs = 110,
    ServerResponseTimeout = 112,
    UseSsl = 119,
    FtpSkipPasvIp = 137,
    TimeoutMs = 155,
    ConnectTimeoutMs = 156,
    UploadBufferSize = 280,
    LowSpeedLimit = 19,
    LowSpeedTime = 20,

    // Pointers and strings (base 10000).
    Url = 10002,
    ReadData = 10009,
    ErrorBuffer = 10010,
    FtpPort = 10017,
    PostQuote = 10039,
    XferInfoData = 10057,
    Username = 10173,
    Password = 10174,
    Resolve = 10203,
    ProtocolsStr = 10318,
    RedirProtocolsStr = 10319,

    // Functions (base 20000).
    ReadFunction = 20012,
    XferInfoFunction = 20219,

    // curl_off_t (base 30000).
    InFileSizeLarge = 30115,

    // Blobs (base 40000).
    CaInfoBlob = 40309,
}

/// <summary>CURLINFO numbers used.</summary>
internal enum CurlInfo
{
    ResponseCode = 0x200000 + 2,
    OsErrno = 0x200000 + 25,
}

/// <summary>The CURLcode values the adapters classify.</summary>
internal enum CurlCode
{
    Ok = 0,
    UnsupportedProtocol = 1,
    FailedInit = 2,
    UrlMalformat = 3,
    NotBuiltIn = 4,
    CouldntResolveHost = 6,
    CouldntConnect = 7,
    WeirdServerReply = 8,
    RemoteAccessDenied = 9,
    FtpAcceptTimeout = 12,
    FtpWeirdPasvReply = 13,
    FtpCantGetHost = 15,
    PartialFile = 18,
    QuoteError = 21,
    UploadFailed = 25,
    ReadError = 26,
    OperationTimedOut = 28,
    FtpPortFailed = 30,
    SslConnectError = 35,
    AbortedByCallback = 42,
    BadFunctionArgument = 43,
    UnknownOption = 48,
    GotNothing = 52,
    SendError = 55,
    RecvError = 56,
    SslCertProblem = 58,
    PeerFailedVerification = 60,
    UseSslFailed = 64,
    LoginDenied = 67,
    RemoteDiskFull = 70,
    SslCacertBadFile = 77,
    RemoteFileNotFound = 78,
    SslPinnedPubKeyNotMatch = 90,
    AuthError = 94,
}
