using System.Net;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.IntegrationTests.Uploads;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Shouldly;

namespace Apertur.IntegrationTests.Telemetry;

/// <summary>
/// <c>/metrics</c> as Prometheus scrapes it (docs/operations.md "Metrics and traces"). Counters are read as the difference
/// between two scrapes of one server; the queue gauges come from that server's own database.
/// </summary>
public sealed class MetricsTests
{
    private static readonly Dictionary<string, string?> Enabled = new() { ["Apertur:Metrics:Enabled"] = "true" };

    [Theory, ClassData(typeof(Databases))]
    public async Task Scrape_UploadsAndDeliveries_CountersMoveByExactlyWhatHappened(string database)
    {
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await DeliveryKit.StartAsync(database, extra: Enabled);
        var destination = await DeliveryKit.WebhookAsync(app, receiver.Url());
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        var size = Fixture.Bytes("small.jpg").Length;
        var before = await Scrape.ReadAsync(app);

        var images = new List<Guid>();
        for (var i = 0; i < 3; i++)
        {
            images.Add(await DeliveryKit.UploadAsync(app, sessionId));
        }
        foreach (var image in images)
        {
            await DeliveryKit.WaitForStatusAsync(app, image, DeliveryStatus.Sent);
        }
        using (var anonymous = app.CreateClient())
        using (var refused = await anonymous.UploadAsync(sessionId, Fixture.Bytes("pdf-named.jpg"), "pdf-named.jpg", "image/jpeg"))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.UnsupportedMediaType);
        }
        var after = await Scrape.ReadAsync(app);

        double Moved(string name, params string[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Moved("apertur_uploads_total", "outcome=\"accepted\"").ShouldBe(3, after.Text);
        Moved("apertur_uploads_total", "outcome=\"refused\"", "reason=\"UNSUPPORTED_MEDIA_TYPE\"").ShouldBe(1, after.Text);
        Moved("apertur_upload_bytes_total").ShouldBe(3 * size, after.Text);
        Moved("apertur_upload_duration_seconds_count", "outcome=\"accepted\"").ShouldBe(3, after.Text);
        Moved("apertur_delivery_attempts_total", "kind=\"webhook\"", "outcome=\"sent\"").ShouldBe(3, after.Text);
        Moved("apertur_delivery_attempts_total").ShouldBe(3, after.Text);
        Moved("apertur_delivery_latency_seconds_count", "kind=\"webhook\"").ShouldBe(3, after.Text);
        // The framework's own meters are there too.
        after.Text.ShouldContain("http_server_request_duration_seconds");
        after.Text.ShouldContain("dotnet_gc_");
        after.Text.ShouldContain("microsoft_entityframeworkcore_queries_total");
        if (database == Databases.Postgres)
        {
            after.Text.ShouldContain("db_client_");
        }
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Scrape_DeliveriesWaiting_GaugesReadTheQueue(string database)
    {
        var clock = new ManualClock();
        // Workers off: the uploaded deliveries stay due.
        await using var app = await TestApp.StartAsync(database, new Dictionary<string, string?>(Enabled) { ["Apertur:RateLimits:Upload"] = "0" }, clock);
        var destination = await DeliveryKit.WebhookAsync(app, new Uri("http://127.0.0.1:9/hook"));
        var sessionId = await DeliveryKit.SessionAsync(app, destination);
        await DeliveryKit.UploadAsync(app, sessionId);
        await DeliveryKit.UploadAsync(app, sessionId);
        clock.Advance(TimeSpan.FromSeconds(90));

        var scrape = await Scrape.ReadAsync(app);

        scrape.Sum("apertur_deliveries_waiting", "kind=\"webhook\"").ShouldBe(2, scrape.Text);
        scrape.Sum("apertur_delivery_oldest_due_age_seconds").ShouldBe(90, scrape.Text);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Scrape_AnotherServerInTheProcess_CountsNothingHere(string database)
    {
        // Each server's meter comes from its own IMeterFactory: tests running side by side in one process do not mix figures.
        await using var app = await TestApp.StartAsync(database, Enabled);
        await using var other = await TestApp.StartAsync(database, Enabled);
        var sessionId = (await other.Client.CreateSessionAsync()).SessionId();
        var before = await Scrape.ReadAsync(app);

        await DeliveryKit.UploadAsync(other, sessionId);

        var after = await Scrape.ReadAsync(app);
        (after.Sum("apertur_uploads_total") - before.Sum("apertur_uploads_total")).ShouldBe(0, after.Text);
        (await Scrape.ReadAsync(other)).Sum("apertur_uploads_total", "outcome=\"accepted\"").ShouldBe(1);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Metrics_AllowedNetworks_OthersAnswered404(string database)
    {
        await using var app = await TestApp.StartAsync(database,
            new Dictionary<string, string?>(Enabled) { ["Apertur:Metrics:AllowedNetworks:0"] = "127.0.9.0/24" }, kestrel: true);
        using var scraper = Loopback.ClientFrom(IPAddress.Parse("127.0.9.7"), app.KestrelAddress!);
        using var stranger = Loopback.ClientFrom(IPAddress.Parse("127.0.10.7"), app.KestrelAddress!);

        using var allowed = await scraper.GetAsync("/metrics");
        using var refused = await stranger.GetAsync("/metrics");

        allowed.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await allowed.Content.ReadAsStringAsync()).ShouldContain("apertur_");
        refused.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }

    [Theory, ClassData(typeof(Databases))]
    public async Task Metrics_NotEnabled_Answers404(string database)
    {
        await using var app = await TestApp.StartAsync(database);
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/metrics");

        response.StatusCode.ShouldBe(HttpStatusCode.NotFound);
    }
}
