using System.Globalization;
using System.Net;
using System.Text;

namespace Apertur.Server.Dashboard.Charts;

/// <summary>One bar (or stack of bars) of a chart: a label and one value per series.</summary>
public sealed record Bar(string Label, IReadOnlyList<int> Values);

/// <summary>
/// Charts drawn on the server as inline SVG: no script, no CDN, readable without colour (every bar has a title, the chart an
/// aria-label). Series are stacked in order and coloured by CSS classes <c>a</c>, <c>b</c>, <c>c</c>.
/// </summary>
public static class SvgCharts
{
    private static readonly string[] SeriesClasses = ["a", "b", "c"];

    /// <summary>Vertical stacked bars, one per label (days), with the highest total marked on the axis.</summary>
    public static string Columns(string title, IReadOnlyList<Bar> bars, IReadOnlyList<string> seriesNames, int firstColour = 0, int labelEvery = 7)
    {
        ArgumentNullException.ThrowIfNull(bars);
        ArgumentNullException.ThrowIfNull(seriesNames);
        const int width = 640, height = 220, left = 36, right = 8, top = 10, bottom = 26;
        var plotWidth = width - left - right;
        var plotHeight = height - top - bottom;
        var max = Math.Max(1, bars.Select(b => b.Values.Sum()).DefaultIfEmpty(0).Max());
        var scaleMax = NiceCeiling(max);
        var slot = bars.Count == 0 ? plotWidth : plotWidth / (double)bars.Count;
        var barWidth = Math.Max(1, slot * 0.7);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"""<svg viewBox="0 0 {width} {height}" role="img" aria-label="{Encode(title)}" xmlns="http://www.w3.org/2000/svg">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<line class="axis" x1="{left}" y1="{top + plotHeight}" x2="{width - right}" y2="{top + plotHeight}"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<line class="axis" x1="{left}" y1="{top}" x2="{width - right}" y2="{top}" stroke-dasharray="3 3"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{left - 4}" y="{top + 4}" text-anchor="end">{scaleMax}</text>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{left - 4}" y="{top + plotHeight}" text-anchor="end">0</text>""");
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var x = left + (i * slot) + ((slot - barWidth) / 2);
            var y = (double)(top + plotHeight);
            var tip = $"{bar.Label}: " + string.Join(", ", bar.Values.Select((v, s) => $"{(s < seriesNames.Count ? seriesNames[s] : "")} {v}"));
            svg.Append("<g><title>").Append(Encode(tip)).Append("</title>");
            for (var s = 0; s < bar.Values.Count; s++)
            {
                var h = bar.Values[s] * plotHeight / (double)scaleMax;
                if (h <= 0)
                {
                    continue;
                }
                y -= h;
                svg.Append(CultureInfo.InvariantCulture,
                    $"""<rect class="{SeriesClasses[(s + firstColour) % SeriesClasses.Length]}" x="{F(x)}" y="{F(y)}" width="{F(barWidth)}" height="{F(h)}"/>""");
            }
            svg.Append("</g>");
            if (labelEvery > 0 && (bars.Count - 1 - i) % labelEvery == 0)
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"""<text x="{F(x + (barWidth / 2))}" y="{height - 8}" text-anchor="middle">{Encode(bar.Label)}</text>""");
            }
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Horizontal stacked bars, one row per label (destinations), each with its totals written out.</summary>
    public static string Rows(string title, IReadOnlyList<Bar> bars, IReadOnlyList<string> seriesNames, int firstColour = 0)
    {
        ArgumentNullException.ThrowIfNull(bars);
        ArgumentNullException.ThrowIfNull(seriesNames);
        const int width = 640, rowHeight = 34, labelWidth = 180, right = 120;
        var height = Math.Max(1, bars.Count) * rowHeight + 8;
        var plotWidth = width - labelWidth - right;
        var max = Math.Max(1, bars.Select(b => b.Values.Sum()).DefaultIfEmpty(0).Max());
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"""<svg viewBox="0 0 {width} {height}" role="img" aria-label="{Encode(title)}" xmlns="http://www.w3.org/2000/svg">""");
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var y = 4 + (i * rowHeight);
            var label = bar.Label.Length > 26 ? bar.Label[..25] + "…" : bar.Label;
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="0" y="{y + 20}">{Encode(label)}</text>""");
            var x = (double)labelWidth;
            var tip = $"{bar.Label}: " + string.Join(", ", bar.Values.Select((v, s) => $"{(s < seriesNames.Count ? seriesNames[s] : "")} {v}"));
            svg.Append("<g><title>").Append(Encode(tip)).Append("</title>");
            for (var s = 0; s < bar.Values.Count; s++)
            {
                var w = bar.Values[s] * plotWidth / (double)max;
                if (w <= 0)
                {
                    continue;
                }
                svg.Append(CultureInfo.InvariantCulture,
                    $"""<rect class="{SeriesClasses[(s + firstColour) % SeriesClasses.Length]}" x="{F(x)}" y="{y + 6}" width="{F(w)}" height="{rowHeight - 14}"/>""");
                x += w;
            }
            svg.Append("</g>");
            var totals = string.Join(" / ", bar.Values);
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{F(x + 6)}" y="{y + 20}">{Encode(totals)}</text>""");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>1, 2, 5, 10, 20, 50… the first at or above <paramref name="value"/>, so the axis reads as a round number.</summary>
    internal static int NiceCeiling(int value)
    {
        var step = 1;
        while (true)
        {
            foreach (var m in new[] { 1, 2, 5 })
            {
                if (step * m >= value)
                {
                    return step * m;
                }
            }
            step *= 10;
        }
    }

    private static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Encode(string text) => WebUtility.HtmlEncode(text);
}
