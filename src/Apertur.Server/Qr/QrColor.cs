using System.Globalization;

namespace Apertur.Server.Qr;

/// <summary>An opaque RGB colour as the QR endpoint accepts it: <c>RRGGBB</c>, <c>#RRGGBB</c>, <c>RGB</c> or <c>#RGB</c>.</summary>
public readonly record struct QrColor(byte R, byte G, byte B)
{
    public static bool TryParse(string? text, out QrColor color)
    {
        color = default;
        var hex = (text ?? "").Trim();
        if (hex.StartsWith('#'))
        {
            hex = hex[1..];
        }
        if (hex.Length == 3)
        {
            // CSS shorthand: each digit doubled (abc → aabbcc).
            hex = string.Concat(hex.Select(c => new string(c, 2)));
        }
        if (hex.Length != 6 || !hex.All(char.IsAsciiHexDigit))
        {
            return false;
        }
        var value = int.Parse(hex, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        color = new QrColor((byte)(value >> 16), (byte)(value >> 8), (byte)value);
        return true;
    }

    /// <summary>Lowercase <c>#rrggbb</c>, as written into SVG.</summary>
    public string ToHex() => $"#{R:x2}{G:x2}{B:x2}";
}
