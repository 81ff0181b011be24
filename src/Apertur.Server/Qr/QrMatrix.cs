using QRCoder;

namespace Apertur.Server.Qr;

/// <summary>
/// The dark/light modules of a QR symbol, without quiet zone. QRCoder only computes the matrix (ECC level M); drawing is
/// ours (<see cref="QrPng"/>, <see cref="QrSvg"/>) so every query parameter is honoured exactly.
/// </summary>
public sealed class QrMatrix
{
    /// <summary>Light modules the renderers keep around the symbol, at least, so scanners find it.</summary>
    public const int QuietZone = 4;

    private readonly bool[,] _dark;

    public QrMatrix(bool[,] dark)
    {
        if (dark.GetLength(0) != dark.GetLength(1))
        {
            throw new ArgumentException("A QR matrix is square.", nameof(dark));
        }
        _dark = dark;
    }

    /// <summary>Modules per side (21 for version 1, plus 4 per version).</summary>
    public int Count => _dark.GetLength(0);

    /// <summary>Whether the module at column <paramref name="x"/>, row <paramref name="y"/> is dark; outside the symbol is light.</summary>
    public bool IsDark(int x, int y) => x >= 0 && y >= 0 && x < Count && y < Count && _dark[y, x];

    public static QrMatrix Encode(string text)
    {
        using var data = QRCodeGenerator.GenerateQrCode(text, QRCodeGenerator.ECCLevel.M);
        // QRCoder's matrix carries its own quiet zone: strip it to the symbol itself.
        var count = 21 + (4 * (data.Version - 1));
        var margin = (data.ModuleMatrix.Count - count) / 2;
        var dark = new bool[count, count];
        for (var y = 0; y < count; y++)
        {
            var row = data.ModuleMatrix[y + margin];
            for (var x = 0; x < count; x++)
            {
                dark[y, x] = row[x + margin];
            }
        }
        return new QrMatrix(dark);
    }

    /// <summary>
    /// For the rounded style: which outer corners of a dark module to round. A corner is rounded when both modules beside it
    /// (above or below, left or right) are light, so touching modules still join without gaps.
    /// </summary>
    public Corners RoundedCorners(int x, int y)
    {
        bool up = IsDark(x, y - 1), down = IsDark(x, y + 1), left = IsDark(x - 1, y), right = IsDark(x + 1, y);
        return (!up && !left ? Corners.TopLeft : 0)
            | (!up && !right ? Corners.TopRight : 0)
            | (!down && !right ? Corners.BottomRight : 0)
            | (!down && !left ? Corners.BottomLeft : 0);
    }
}

[Flags]
public enum Corners
{
    None = 0,
    TopLeft = 1,
    TopRight = 2,
    BottomRight = 4,
    BottomLeft = 8,
}

/// <summary>
/// Where the symbol sits in an image of <c>size</c> px: a <c>borderSize</c> px frame, then the background holding the
/// quiet zone (at least <see cref="QrMatrix.QuietZone"/> modules), then modules of <see cref="Scale"/> whole pixels, centred.
/// </summary>
public sealed record QrLayout(int Size, int BorderSize, int Scale, int Offset)
{
    public static QrLayout For(QrMatrix matrix, QrParameters p)
    {
        var inner = p.Size - (2 * p.BorderSize);
        var scale = inner / (matrix.Count + (2 * QrMatrix.QuietZone));
        if (scale < 1)
        {
            throw Hosting.ApiException.BadRequest(
                $"size {p.Size} with borderSize {p.BorderSize} leaves {Math.Max(inner, 0)} px, too few for this {matrix.Count}-module code " +
                $"and its quiet zone ({matrix.Count + (2 * QrMatrix.QuietZone)} px at least): raise size or lower borderSize.",
                QrParameters.InvalidCode);
        }
        return new QrLayout(p.Size, p.BorderSize, scale, p.BorderSize + ((inner - (scale * matrix.Count)) / 2));
    }
}
