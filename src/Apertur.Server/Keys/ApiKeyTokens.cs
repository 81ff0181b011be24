using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace Apertur.Server.Keys;

/// <summary>Plain API keys: <c>aptr_live_&lt;32 base62&gt;</c> or <c>aptr_test_…</c>. Stored only as SHA-256.</summary>
public static partial class ApiKeyTokens
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    public const string Live = "live";
    public const string Test = "test";

    public static string Generate(string env) => $"aptr_{env}_{RandomNumberGenerator.GetString(Alphabet, 32)}";

    /// <summary>True for <c>aptr_live_</c>/<c>aptr_test_</c> followed by 20–64 letters or digits.</summary>
    public static bool IsWellFormed(string? key) => key is not null && KeyPattern().IsMatch(key);

    /// <summary>The environment a key belongs to: only the <c>aptr_test_</c> prefix means test (as in every SDK).</summary>
    public static string EnvOf(string key) => key.StartsWith("aptr_test_", StringComparison.Ordinal) ? Test : Live;

    /// <summary>The visible part shown in listings, e.g. <c>aptr_live_ab12</c>.</summary>
    public static string PrefixOf(string key) => key[..Math.Min(key.Length, "aptr_live_".Length + 4)];

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    [GeneratedRegex("^aptr_(live|test)_[A-Za-z0-9]{20,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex KeyPattern();
}
