using System.Security.Cryptography;
using System.Text;
using Apertur.Server.Data;

namespace Apertur.Server.Hosting;

/// <summary>
/// The server's master key (settings <c>Apertur:Secrets:MasterKey</c>, else the file <c>Apertur:Secrets:MasterKeyFile</c>,
/// else <c>{DataDirectory}/master.key</c>): it seals the
/// Data Protection key ring with AES-256-GCM, so the database alone reveals no secret. Never logged; only its
/// <see cref="Fingerprint"/> is written next to what it seals, so a wrong key is named as such.
/// </summary>
public sealed partial class MasterKey
{
    public const string FileName = "master.key";
    private const int KeyBytes = 32;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private static readonly byte[] KeyRingPurpose = "Apertur.DataProtection.KeyRing.v1"u8.ToArray();

    private readonly byte[] _keyRingKey;
    private readonly byte[] _root;

    /// <summary>A public fingerprint of the key (16 hex digits), stored beside each sealed element.</summary>
    public string Fingerprint { get; }

    public MasterKey(ReadOnlySpan<byte> key)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(key.Length, KeyBytes, nameof(key));
        _root = key.ToArray();
        _keyRingKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, key.ToArray(), KeyBytes, info: KeyRingPurpose);
        Fingerprint = Convert.ToHexStringLower(HKDF.DeriveKey(HashAlgorithmName.SHA256, key.ToArray(), 8, info: "Apertur.MasterKey.Id"u8.ToArray()));
    }

    /// <summary>
    /// A key for one purpose (HKDF-SHA256 over the master key, <paramref name="purpose"/> as info): stable across restarts and
    /// shared by every replica that shares the master key, and useless for any other purpose.
    /// </summary>
    public byte[] DeriveKey(string purpose, int length = KeyBytes) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _root, length, info: Encoding.UTF8.GetBytes(purpose));

    /// <summary>nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes), under a fresh random nonce.</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        var sealedBytes = new byte[NonceBytes + plaintext.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_keyRingKey, TagBytes);
        aes.Encrypt(nonce, plaintext, sealedBytes.AsSpan(NonceBytes, plaintext.Length), sealedBytes.AsSpan(NonceBytes + plaintext.Length), KeyRingPurpose);
        return sealedBytes;
    }

    /// <summary>Opens what <see cref="Seal"/> produced under the key whose fingerprint is <paramref name="sealedWith"/>.</summary>
    /// <exception cref="CryptographicException">A different master key, or altered data; the message says which.</exception>
    public byte[] Open(ReadOnlySpan<byte> sealedBytes, string? sealedWith)
    {
        if (sealedWith != Fingerprint)
        {
            throw new CryptographicException(
                $"The Data Protection key ring was encrypted under master key {sealedWith ?? "(unknown)"}, but this server's master key is {Fingerprint}. " +
                "Start it with the master key the database was created with (setting Apertur:Secrets:MasterKey, or the master.key file " +
                "of the original data directory); another key cannot read the stored secrets.");
        }
        if (sealedBytes.Length < NonceBytes + TagBytes)
        {
            throw new CryptographicException("A sealed Data Protection key is truncated.");
        }
        var plaintext = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(_keyRingKey, TagBytes);
        try
        {
            aes.Decrypt(sealedBytes[..NonceBytes], sealedBytes[NonceBytes..^TagBytes], sealedBytes[^TagBytes..], plaintext, KeyRingPurpose);
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new CryptographicException($"A Data Protection key sealed under master key {Fingerprint} fails authentication: the stored data was altered or is corrupt.", e);
        }
        return plaintext;
    }

    /// <summary>
    /// The configured key, else the configured key file's, else the one in <c>{dataDirectory}/master.key</c>, generated there on first start (mode 0600,
    /// written to a temporary file and linked into place, so concurrent first starts agree on one key).
    /// </summary>
    public static MasterKey Load(SecretsOptions options, string dataDirectory, DatabaseProvider provider, ILogger logger)
    {
        if (!string.IsNullOrWhiteSpace(options.MasterKey))
        {
            return new MasterKey(Decode(options.MasterKey, "Setting Apertur:Secrets:MasterKey"));
        }
        if (!string.IsNullOrWhiteSpace(options.MasterKeyFile))
        {
            return File.Exists(options.MasterKeyFile)
                ? new MasterKey(Decode(File.ReadAllText(options.MasterKeyFile), $"Apertur:Secrets:MasterKeyFile ({options.MasterKeyFile})"))
                : throw new InvalidOperationException($"Apertur:Secrets:MasterKeyFile names {options.MasterKeyFile}, which does not exist.");
        }
        var path = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(path))
        {
            Create(path);
            LogGenerated(logger, path);
        }
        if (provider == DatabaseProvider.Postgres)
        {
            LogNotShared(logger, path);
        }
        return new MasterKey(Decode(File.ReadAllText(path), path));
    }

    private static void Create(string path)
    {
        DataDirectory.CreateOwnerOnly(Path.GetDirectoryName(path)!);
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        var file = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            file.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(temp, file))
        {
            stream.Write(Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeyBytes)) + "\n"));
            stream.Flush(flushToDisk: true);
        }
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created it first: use theirs.
            File.Delete(temp);
        }
    }

    private static byte[] Decode(string base64, string source)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64.Trim());
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{source} must be base64 of {KeyBytes} random bytes (e.g. `openssl rand -base64 32`); it is not base64.");
        }
        return key.Length == KeyBytes
            ? key
            : throw new InvalidOperationException($"{source} must be base64 of {KeyBytes} random bytes (e.g. `openssl rand -base64 32`); it holds {key.Length}.");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Generated a new master key in {Path}. Back it up apart from the database: without it the stored secrets cannot be read")]
    private static partial void LogGenerated(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Apertur:Secrets:MasterKey is not set, so the master key comes from {Path}. With PostgreSQL every replica must use the same master key: set Apertur:Secrets:MasterKey (or MasterKeyFile) to that file's content on every replica")]
    private static partial void LogNotShared(ILogger logger, string path);
}
