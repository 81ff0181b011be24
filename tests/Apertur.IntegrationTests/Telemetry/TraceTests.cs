using System.Collections.ObjectModel;
using System.Diagnostics;
using Apertur.IntegrationTests.Deliveries;
using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Deliveries;
using Apertur.Tests;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Shouldly;

namespace Apertur.IntegrationTests.Telemetry;

/// <summary>One trace from the upload request through its commit to each delivery attempt (docs/operations.md "Metrics and traces").</summary>
public sealed class TraceTests
{
    [Theory, ClassData(typeof(Databases))]
    public async Task Upload_Traced_CommitAndEachDeliveryAttemptContinueTheRequestsTrace(string database)
    {
        var spans = new Spans();
        await using var receiver = await TestReceiver.StartAsync();
        await using var app = await TestApp.StartAsync(database, DeliveryKit.Settings(),
            services: s => s.AddOpenTelemetry().WithTracing(t => t.AddInMemoryExporter(spans)));
        var first = await DeliveryKit.WebhookAsync(app, receiver.Url(), name: "First");
        var second = await DeliveryKit.WebhookAsync(app, receiver.Url(), name: "Second");
        var sessionId = await DeliveryKit.SessionAsync(app, first, second);

        var imageId = (await DeliveryKit.UploadAsync(app, sessionId)).ToString();

        await Wait.UntilAsync(() => Task.FromResult(spans.Snapshot().Count(s => s.OperationName == "apertur.delivery.attempt" && Tag(s, "apertur.image.id") == imageId) == 2),
            what: "two delivery attempt spans");
        var all = spans.Snapshot();
        // Tests run side by side: the spans of this image are found by its id, then its request by the commit's parent.
        var commit = all.Single(s => s.OperationName == "apertur.upload.commit" && Tag(s, "apertur.image.id") == imageId);
        var request = all.Single(s => s.SpanId == commit.ParentSpanId);
        request.Kind.ShouldBe(ActivityKind.Server);
        request.DisplayName.ShouldContain("/api/v1/upload/{uuid}/images");
        var attempts = all.Where(s => s.OperationName == "apertur.delivery.attempt" && Tag(s, "apertur.image.id") == imageId).ToList();
        foreach (var attempt in attempts)
        {
            attempt.TraceId.ShouldBe(request.TraceId);
            attempt.ParentSpanId.ShouldBe(commit.SpanId);
            Tag(attempt, "apertur.delivery.outcome").ShouldBe(DeliveryStatus.Sent);
        }
        commit.TraceId.ShouldBe(request.TraceId);
        attempts.Select(a => Tag(a, "apertur.delivery.id")).Distinct().Count().ShouldBe(2);
    }

    private static string? Tag(Activity span, string name) => span.GetTagItem(name)?.ToString();

    /// <summary>The exporter's collection, safe to read while the worker's spans end on other threads.</summary>
    private sealed class Spans : Collection<Activity>
    {
        private readonly Lock _lock = new();

        protected override void InsertItem(int index, Activity item)
        {
            lock (_lock)
            {
                base.InsertItem(index, item);
            }
        }

        public List<Activity> Snapshot()
        {
            lock (_lock)
            {
                return [.. this];
            }
        }
    }
}
