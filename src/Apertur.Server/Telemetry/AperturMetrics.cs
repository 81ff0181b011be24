using System.Diagnostics.Metrics;

namespace Apertur.Server.Telemetry;

/// <summary>
/// Every instrument of the "Apertur" meter, in one place (docs/operations.md "Metrics and traces" lists them). Call sites
/// make one call each; counters and histograms cost a few tag values per call and no database work. The two gauges of the
/// delivery queue read <see cref="QueueFigures"/> when scraped.
/// </summary>
public sealed class AperturMetrics
{
    private static readonly InstrumentAdvice<double> UploadBuckets = new()
    {
        HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    };

    private static readonly InstrumentAdvice<double> LatencyBuckets = new()
    {
        HistogramBucketBoundaries = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600, 21600, 86400],
    };

    private readonly Counter<long> _uploads;
    private readonly Counter<long> _uploadBytes;
    private readonly Histogram<double> _uploadDuration;
    private readonly Counter<long> _deliveryAttempts;
    private readonly Histogram<double> _deliveryLatency;
    private readonly Counter<long> _eventWebhookDeliveries;
    private readonly UpDownCounter<long> _sseConnections;
    private readonly Counter<long> _rateLimitRefusals;

    public AperturMetrics(IMeterFactory meters, QueueFigures queue)
    {
        var meter = meters.Create(AperturTelemetry.Name);
        _uploads = meter.CreateCounter<long>("apertur.uploads", "{upload}", "Uploads answered, by outcome (accepted, replayed, refused) and refusal reason (the error code).");
        _uploadBytes = meter.CreateCounter<long>("apertur.upload.bytes", "By", "Bytes of the images accepted.");
        _uploadDuration = meter.CreateHistogram<double>("apertur.upload.duration", "s", "Time from the upload request's start to its answer, by outcome.",
            advice: UploadBuckets);
        meter.CreateObservableGauge("apertur.deliveries.waiting", queue.Waiting, "{delivery}",
            "Image deliveries not finished (pending, retrying or being sent), by destination kind; deployment-wide.");
        meter.CreateObservableGauge("apertur.delivery.oldest_due_age", queue.OldestDueAge, "s",
            "How long the oldest due image delivery has been waiting for its attempt; 0 when none is due; deployment-wide.");
        _deliveryAttempts = meter.CreateCounter<long>("apertur.delivery.attempts", "{attempt}",
            "Image delivery attempts, by destination kind and outcome (sent, retrying, failed).");
        _deliveryLatency = meter.CreateHistogram<double>("apertur.delivery.latency", "s", "Time from the image's upload to its delivery, by destination kind.",
            advice: LatencyBuckets);
        _eventWebhookDeliveries = meter.CreateCounter<long>("apertur.event_webhook.deliveries", "{attempt}",
            "Event webhook delivery attempts, by outcome (sent, retrying, failed, skipped).");
        _sseConnections = meter.CreateUpDownCounter<long>("apertur.sse.connections", "{connection}", "Open server-sent event streams.");
        _rateLimitRefusals = meter.CreateCounter<long>("apertur.rate_limit.refusals", "{request}", "Requests refused by a rate limit (429), by policy.");
    }

    public void UploadAccepted(long bytes, TimeSpan duration)
    {
        var outcome = new KeyValuePair<string, object?>("outcome", "accepted");
        _uploads.Add(1, outcome, new KeyValuePair<string, object?>("reason", ""));
        _uploadBytes.Add(bytes);
        _uploadDuration.Record(duration.TotalSeconds, outcome);
    }

    public void UploadReplayed(TimeSpan duration) => Upload("replayed", "", duration);

    /// <param name="reason">The error code answered (e.g. <c>SESSION_FULL</c>), or <c>error</c> for a failure without one.</param>
    public void UploadRefused(string reason, TimeSpan duration) => Upload("refused", reason, duration);

    private void Upload(string outcome, string reason, TimeSpan duration)
    {
        var tag = new KeyValuePair<string, object?>("outcome", outcome);
        _uploads.Add(1, tag, new KeyValuePair<string, object?>("reason", reason));
        _uploadDuration.Record(duration.TotalSeconds, tag);
    }

    /// <param name="outcome">The delivery's status after the attempt: sent, retrying or failed.</param>
    /// <param name="sinceUpload">Time from the upload to now, recorded as the delivery latency when the attempt sent it.</param>
    public void DeliveryAttempt(string kind, string outcome, TimeSpan sinceUpload)
    {
        var kindTag = new KeyValuePair<string, object?>("kind", kind);
        _deliveryAttempts.Add(1, kindTag, new KeyValuePair<string, object?>("outcome", outcome));
        if (outcome == Deliveries.DeliveryStatus.Sent)
        {
            _deliveryLatency.Record(Math.Max(0, sinceUpload.TotalSeconds), kindTag);
        }
    }

    public void EventWebhookDelivery(string outcome) => _eventWebhookDeliveries.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    /// <summary>Counts one open SSE stream until the returned handle is disposed.</summary>
    public IDisposable SseConnection()
    {
        _sseConnections.Add(1);
        return new Closing(_sseConnections);
    }

    private sealed class Closing(UpDownCounter<long> connections) : IDisposable
    {
        private int _closed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
            {
                connections.Add(-1);
            }
        }
    }

    public void RateLimitRefused(string policy) => _rateLimitRefusals.Add(1, new KeyValuePair<string, object?>("policy", policy));
}
