namespace Apertur.Server.Hosting;

/// <summary>
/// What one server process tells the other replicas on the same database (docs/scale-out.md): session events and worker
/// nudges. On SQLite there are no other replicas (<see cref="NoReplicas"/>); on PostgreSQL they go out as NOTIFY
/// (Data/PostgresReplicas.cs). Sending never blocks and never fails the caller: a lost signal costs a poll interval.
/// </summary>
public interface IReplicaSignals
{
    /// <summary>Tells the others about a session event already delivered to this process's subscribers.</summary>
    void SessionEvent(Guid sessionId, string name, string dataJson);

    /// <summary>Wakes the others' loop of that nudge (<see cref="Nudge.Name"/>).</summary>
    void Nudge(string name);
}

/// <summary>One process alone (SQLite): nothing to tell.</summary>
public sealed class NoReplicas : IReplicaSignals
{
    public void SessionEvent(Guid sessionId, string name, string dataJson)
    {
    }

    public void Nudge(string name)
    {
    }
}
