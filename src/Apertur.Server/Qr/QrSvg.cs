using System.Globalization;
using System.Text;

namespace Apertur.Server.Qr;

/// <summary>
/// Draws a <see cref="QrMatrix"/> as a standalone SVG on the same pixel layout as the PNG: a border rectangle, a background
/// rectangle and one path for every dark module. No scripts, styles or external references.
/// </summary>
public static class QrSvg
{
    public static string Render(QrMatrix matrix, QrParameters p)
    {
        var layout = QrLayout.For(matrix, p);
        var size = layout.Size;
        var inner = size - (2 * layout.BorderSize);
        var d = p.Style == QrStyle.Rounded ? RoundedPath(matrix, layout) : SquarePath(matrix, layout);
        var rendering = p.Style == QrStyle.Square ? " shape-rendering=\"crispEdges\"" : "";
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"""<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}"{rendering}>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<rect width="{size}" height="{size}" fill="{p.BorderColor.ToHex()}"/>""");
        svg.Append(CultureInfo.InvariantCulture,
            $"""<rect x="{layout.BorderSize}" y="{layout.BorderSize}" width="{inner}" height="{inner}" fill="{p.Bg.ToHex()}"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<path fill="{p.Fg.ToHex()}" d="{d}"/>""");
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>One rectangle per horizontal run of dark modules.</summary>
    private static string SquarePath(QrMatrix matrix, QrLayout layout)
    {
        var d = new StringBuilder();
        var s = layout.Scale;
        for (var y = 0; y < matrix.Count; y++)
        {
            for (var x = 0; x < matrix.Count; x++)
            {
                if (!matrix.IsDark(x, y))
                {
                    continue;
                }
                var run = 1;
                while (matrix.IsDark(x + run, y))
                {
                    run++;
                }
                d.Append(CultureInfo.InvariantCulture, $"M{layout.Offset + (x * s)} {layout.Offset + (y * s)}h{run * s}v{s}h{-run * s}z");
                x += run - 1;
            }
        }
        return d.ToString();
    }

    /// <summary>One outline per dark module, clockwise, with a quarter-circle arc (radius s/2) at each rounded corner.</summary>
    private static string RoundedPath(QrMatrix matrix, QrLayout layout)
    {
        var d = new StringBuilder();
        var s = layout.Scale;
        var r = s / 2.0;
        string N(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
        for (var y = 0; y < matrix.Count; y++)
        {
            for (var x = 0; x < matrix.Count; x++)
            {
                if (!matrix.IsDark(x, y))
                {
                    continue;
                }
                var c = matrix.RoundedCorners(x, y);
                double x0 = layout.Offset + (x * s), y0 = layout.Offset + (y * s), x1 = x0 + s, y1 = y0 + s;
                double tl = c.HasFlag(Corners.TopLeft) ? r : 0, tr = c.HasFlag(Corners.TopRight) ? r : 0;
                double br = c.HasFlag(Corners.BottomRight) ? r : 0, bl = c.HasFlag(Corners.BottomLeft) ? r : 0;
                d.Append($"M{N(x0 + tl)} {N(y0)}H{N(x1 - tr)}");
                if (tr > 0)
                {
                    d.Append($"A{N(r)} {N(r)} 0 0 1 {N(x1)} {N(y0 + tr)}");
                }
                d.Append($"V{N(y1 - br)}");
                if (br > 0)
                {
                    d.Append($"A{N(r)} {N(r)} 0 0 1 {N(x1 - br)} {N(y1)}");
                }
                d.Append($"H{N(x0 + bl)}");
                if (bl > 0)
                {
                    d.Append($"A{N(r)} {N(r)} 0 0 1 {N(x0)} {N(y1 - bl)}");
                }
                d.Append($"V{N(y0 + tl)}");
                if (tl > 0)
                {
                    d.Append($"A{N(r)} {N(r)} 0 0 1 {N(x0 + tl)} {N(y0)}");
                }
                d.Append('z');
            }
        }
        return d.ToString();
    }
}
