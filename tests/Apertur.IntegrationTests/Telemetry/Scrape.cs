using System.Globalization;
using System.Net;
using Apertur.IntegrationTests.Infrastructure;
using Shouldly;

namespace Apertur.IntegrationTests.Telemetry;

/// <summary>One read of <c>/metrics</c> in the Prometheus text format, summed per metric name and label subset.</summary>
public sealed class Scrape(string text)
{
    public string Text { get; } = text;

    public static async Task<Scrape> ReadAsync(TestApp app)
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync("/metrics");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return new Scrape(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The sum of the samples of <paramref name="name"/> carrying every label of <paramref name="labels"/> (<c>kind="webhook"</c>).</summary>
    public double Sum(string name, params string[] labels) =>
        Text.Split('\n')
            .Where(line => !line.StartsWith('#') && (line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal)))
            .Where(line => labels.All(label => LabelsOf(line).Contains(label)))
            .Sum(line => double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));

    private static string[] LabelsOf(string line) =>
        line.IndexOf('{') is var open and >= 0 ? line[(open + 1)..line.LastIndexOf('}')].Split(',') : [];
}
