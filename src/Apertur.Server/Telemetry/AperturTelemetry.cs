using System.Diagnostics;

namespace Apertur.Server.Telemetry;

/// <summary>
/// The names of the server's own telemetry (docs/operations.md "Metrics and traces"): one Meter (instruments in
/// <see cref="AperturMetrics"/>) and one ActivitySource, both "Apertur".
/// </summary>
public static class AperturTelemetry
{
    public const string Name = "Apertur";

    /// <summary>Spans of the server's own work: the upload's commit and each delivery attempt.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>
    /// The W3C <c>traceparent</c> of the current span when it is recorded (someone traces), else null: stored with an image
    /// so its delivery attempts, run later by a worker, continue the upload's trace.
    /// </summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { Recorded: true, IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>A span continuing the trace of <paramref name="traceParent"/> (a stored <c>traceparent</c>), or a new trace without one.</summary>
    public static Activity? StartContinuing(string name, string? traceParent, ActivityKind kind = ActivityKind.Internal) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, null, out var parent)
            ? Source.StartActivity(name, kind, parent)
            : Source.StartActivity(name, kind);
}
