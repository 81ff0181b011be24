using System.Globalization;
using System.Net;
using System.Text;

namespace Apertur.Server.Dashboard.Charts;

/// <summary>One bar (or stack of bars) of a chart: a label and one value per series.</summary>
public sealed record Bar(string Label, IReadOnlyList<int> Values);

/// <summary>
/// Charts drawn on the server as inline SVG: no script, no CDN, readable without colour (every bar has a title, the chart an
/// aria-label). Series are stacked in order and coloured by CSS classes <c>a</c>, <c>b</c>, <c>c</c>. The SVG has no viewBox:
/// widths are percentages of the card and heights are CSS pixels, so the bars follow the card's width while the text keeps
/// its size (a scaled drawing would shrink the labels to unreadable on a phone).
/// </summary>
public static class SvgCharts
{
    private static readonly string[] SeriesClasses = ["a", "b", "c"];

    /// <summary>Vertical stacked bars, one per label (days), with the highest total marked above the plot.</summary>
    public static string Columns(string title, IReadOnlyList<Bar> bars, IReadOnlyList<string> seriesNames, int firstColour = 0, int labelEvery = 7)
    {
        ArgumentNullException.ThrowIfNull(bars);
        ArgumentNullException.ThrowIfNull(seriesNames);
        const int height = 220, top = 18, bottom = 24;
        const int plotHeight = height - top - bottom;
        var max = Math.Max(1, bars.Select(b => b.Values.Sum()).DefaultIfEmpty(0).Max());
        var scaleMax = NiceCeiling(max);
        // Percent of the width.
        var slot = bars.Count == 0 ? 100 : 100 / (double)bars.Count;
        var barWidth = slot * 0.7;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"""<svg width="100%" height="{height}" role="img" aria-label="{Encode(title)}" xmlns="http://www.w3.org/2000/svg">""");
        svg.Append(CultureInfo.InvariantCulture, $"""<line class="axis" x1="0" y1="{top + plotHeight}" x2="100%" y2="{top + plotHeight}"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<line class="axis" x1="0" y1="{top}" x2="100%" y2="{top}" stroke-dasharray="3 3"/>""");
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="0" y="{top - 5}">{scaleMax}</text>""");
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var x = (i * slot) + ((slot - barWidth) / 2);
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
                    $"""<rect class="{SeriesClasses[(s + firstColour) % SeriesClasses.Length]}" x="{F(x)}%" y="{F(y)}" width="{F(barWidth)}%" height="{F(h)}"/>""");
            }
            svg.Append("</g>");
            if (labelEvery > 0 && (bars.Count - 1 - i) % labelEvery == 0)
            {
                // Centred under its bar, but starting or ending with the bar near an edge rather than running past it.
                var centre = x + (barWidth / 2);
                var (labelX, anchor) = centre < 10 ? (x, "start") : centre > 90 ? (x + barWidth, "end") : (centre, "middle");
                svg.Append(CultureInfo.InvariantCulture,
                    $"""<text x="{F(labelX)}%" y="{height - 6}" text-anchor="{anchor}">{Encode(bar.Label)}</text>""");
            }
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Horizontal stacked bars, one row per label (destinations): the label above its bar, the totals written after it.</summary>
    public static string Rows(string title, IReadOnlyList<Bar> bars, IReadOnlyList<string> seriesNames, int firstColour = 0)
    {
        ArgumentNullException.ThrowIfNull(bars);
        ArgumentNullException.ThrowIfNull(seriesNames);
        // The longest bar takes this percent of the width; the rest is room for its totals.
        const double plotWidth = 75;
        const int rowHeight = 46, barHeight = 16;
        var height = (Math.Max(1, bars.Count) * rowHeight) + 4;
        var max = Math.Max(1, bars.Select(b => b.Values.Sum()).DefaultIfEmpty(0).Max());
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"""<svg width="100%" height="{height}" role="img" aria-label="{Encode(title)}" xmlns="http://www.w3.org/2000/svg">""");
        for (var i = 0; i < bars.Count; i++)
        {
            var bar = bars[i];
            var y = i * rowHeight;
            var label = bar.Label.Length > 40 ? bar.Label[..39] + "…" : bar.Label;
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="0" y="{y + 15}">{Encode(label)}</text>""");
            var x = 0.0;
            var tip = $"{bar.Label}: " + string.Join(", ", bar.Values.Select((v, s) => $"{(s < seriesNames.Count ? seriesNames[s] : "")} {v}"));
            svg.Append("<g><title>").Append(Encode(tip)).Append("</title>");
            for (var s = 0; s < bar.Values.Count; s++)
            {
                var w = bar.Values[s] * plotWidth / max;
                if (w <= 0)
                {
                    continue;
                }
                svg.Append(CultureInfo.InvariantCulture,
                    $"""<rect class="{SeriesClasses[(s + firstColour) % SeriesClasses.Length]}" x="{F(x)}%" y="{y + 22}" width="{F(w)}%" height="{barHeight}"/>""");
                x += w;
            }
            svg.Append("</g>");
            var totals = string.Join(" / ", bar.Values);
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{F(x)}%" dx="6" y="{y + 35}">{Encode(totals)}</text>""");
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
