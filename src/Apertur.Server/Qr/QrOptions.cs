namespace Apertur.Server.Qr;

/// <summary>What the QR endpoint serves, as advertised in <c>qr_specs</c> of a new session.</summary>
public static class QrOptions
{
    /// <summary>Formats served (<c>jpg</c> is also read as <c>jpeg</c>).</summary>
    public static readonly IReadOnlyList<string> Formats = ["png", "svg", "jpeg"];

    /// <summary>The defaults, as strings (SDKs type <c>params</c> as a map of string to string).</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultParams = new Dictionary<string, string>
    {
        ["size"] = "300",
        ["style"] = "square",
        ["fg"] = "000000",
        ["bg"] = "ffffff",
        ["borderSize"] = "4",
        ["borderColor"] = "ffffff",
    };
}
