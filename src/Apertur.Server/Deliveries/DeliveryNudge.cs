using Apertur.Server.Hosting;

namespace Apertur.Server.Deliveries;

/// <summary>Wakes the delivery worker: called after an upload or a manual retry commits new due deliveries.</summary>
public sealed class DeliveryNudge(IReplicaSignals replicas) : Nudge(replicas, "delivery");

/// <summary>Wakes the failure notifier: called when a delivery fails for good.</summary>
public sealed class FailureNudge(IReplicaSignals replicas) : Nudge(replicas, "failure");
