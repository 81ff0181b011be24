namespace Apertur.Server.Qr;

/// <summary>Draws a <see cref="QrMatrix"/> as a palette PNG: border colour, background, foreground.</summary>
public static class QrPng
{
    private const byte Border = 0;
    private const byte Background = 1;
    private const byte Foreground = 2;

    public static byte[] Render(QrMatrix matrix, QrParameters p)
    {
        var layout = QrLayout.For(matrix, p);
        var size = layout.Size;
        var pixels = new byte[size * size];
        Fill(pixels, size, 0, 0, size, size, Border);
        Fill(pixels, size, layout.BorderSize, layout.BorderSize, size - (2 * layout.BorderSize), size - (2 * layout.BorderSize), Background);

        var s = layout.Scale;
        for (var my = 0; my < matrix.Count; my++)
        {
            for (var mx = 0; mx < matrix.Count; mx++)
            {
                if (!matrix.IsDark(mx, my))
                {
                    continue;
                }
                int x0 = layout.Offset + (mx * s), y0 = layout.Offset + (my * s);
                Fill(pixels, size, x0, y0, s, s, Foreground);
                if (p.Style == QrStyle.Rounded)
                {
                    CarveCorners(pixels, size, x0, y0, s, matrix.RoundedCorners(mx, my));
                }
            }
        }
        return PngWriter.WriteIndexed(size, size, [p.BorderColor, p.Bg, p.Fg], pixels);
    }

    private static void Fill(byte[] pixels, int stride, int x0, int y0, int width, int height, byte index)
    {
        for (var y = y0; y < y0 + height; y++)
        {
            pixels.AsSpan((y * stride) + x0, width).Fill(index);
        }
    }

    /// <summary>Turns back to background the pixels of each chosen corner that lie outside a quarter circle of radius s/2.</summary>
    private static void CarveCorners(byte[] pixels, int stride, int x0, int y0, int s, Corners corners)
    {
        var r = s / 2.0;
        foreach (var (corner, cx, cy) in new[]
        {
            (Corners.TopLeft, x0 + r, y0 + r),
            (Corners.TopRight, x0 + s - r, y0 + r),
            (Corners.BottomRight, x0 + s - r, y0 + s - r),
            (Corners.BottomLeft, x0 + r, y0 + s - r),
        })
        {
            if ((corners & corner) == 0)
            {
                continue;
            }
            // The corner's quadrant of the module: pixels on the far side of the circle centre from the middle.
            var left = corner is Corners.TopLeft or Corners.BottomLeft;
            var top = corner is Corners.TopLeft or Corners.TopRight;
            for (var y = y0; y < y0 + s; y++)
            {
                for (var x = x0; x < x0 + s; x++)
                {
                    double px = x + 0.5, py = y + 0.5;
                    var inQuadrant = (left ? px < cx : px > cx) && (top ? py < cy : py > cy);
                    if (inQuadrant && ((px - cx) * (px - cx)) + ((py - cy) * (py - cy)) > r * r)
                    {
                        pixels[(y * stride) + x] = Background;
                    }
                }
            }
        }
    }
}
