using System.Globalization;
using Apertur.Server.Hosting;

namespace Apertur.Server.Qr;

public enum QrFormat
{
    Png,
    Svg,
    Jpeg,
}

public enum QrStyle
{
    Square,
    Rounded,
}

/// <summary>
/// The query of <c>GET /upload-sessions/{uuid}/qr</c> (docs/api.md "QR codes"). Absent or empty values take the defaults advertised in
/// <c>qr_specs.params</c> (<see cref="QrOptions.DefaultParams"/>); an empty value is what a raw <c>#</c> colour leaves behind.
/// </summary>
public sealed record QrParameters(QrFormat Format, int Size, QrStyle Style, QrColor Fg, QrColor Bg, int BorderSize, QrColor BorderColor)
{
    public const int MinSize = 64;
    public const int MaxSize = 2048;
    public const int MaxBorderSize = 256;
    public const string InvalidCode = "INVALID_QR_PARAMETER";
    public const string UnsupportedFormatCode = "UNSUPPORTED_QR_FORMAT";

    public static QrParameters Parse(IQueryCollection query)
    {
        string Value(string name) => query[name].ToString() is { Length: > 0 } given ? given : QrOptions.DefaultParams.GetValueOrDefault(name, "");

        var format = Value("format").ToLowerInvariant() switch
        {
            "" or "png" => QrFormat.Png,
            "svg" => QrFormat.Svg,
            "jpeg" or "jpg" => QrFormat.Jpeg,
            var other => throw ApiException.BadRequest(
                $"QR format '{other}' is not available; use {string.Join(", ", QrOptions.Formats.SkipLast(1))} or {QrOptions.Formats[^1]}.", UnsupportedFormatCode),
        };
        var style = Value("style").ToLowerInvariant() switch
        {
            "square" => QrStyle.Square,
            "rounded" => QrStyle.Rounded,
            var other => throw Invalid($"style '{other}' is not valid; use square or rounded."),
        };
        return new QrParameters(
            format,
            Integer(Value("size"), "size", MinSize, MaxSize),
            style,
            Color(Value("fg"), "fg"),
            Color(Value("bg"), "bg"),
            Integer(Value("borderSize"), "borderSize", 0, MaxBorderSize),
            Color(Value("borderColor"), "borderColor"));
    }

    private static int Integer(string text, string name, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw Invalid($"{name} '{text}' is not valid; use a whole number of pixels from {min} to {max}.");

    private static QrColor Color(string text, string name) =>
        QrColor.TryParse(text, out var color)
            ? color
            : throw Invalid($"{name} '{text}' is not a valid colour; use hex RRGGBB or RGB, with or without a leading # (sent as %23).");

    private static ApiException Invalid(string message) => ApiException.BadRequest(message, InvalidCode);
}
