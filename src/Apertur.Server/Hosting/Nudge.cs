using System.Threading.Channels;

namespace Apertur.Server.Hosting;

/// <summary>
/// Wakes a waiting loop now instead of at its next poll: the upload commit nudges the delivery worker, a failure nudges
/// the notifier. Nudges coalesce (one pending wake-up at most) and never block the caller. A poke also wakes the same
/// loop on the other replicas (<see cref="IReplicaSignals"/>), so an upload on one replica wakes the worker on another.
/// </summary>
public class Nudge(IReplicaSignals replicas, string name)
{
    /// <summary>The name other replicas know this nudge by.</summary>
    public string Name { get; } = name;

    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    /// <summary>Wakes this loop here and on every other replica.</summary>
    public void Poke()
    {
        PokeHere();
        replicas.Nudge(Name);
    }

    /// <summary>Wakes this process's loop only: a freed worker slot, or a poke another replica sent.</summary>
    public void PokeHere() => _signal.Writer.TryWrite(true);

    /// <summary>Returns when poked or after <paramref name="timeout"/> (measured by <paramref name="time"/>); throws when <paramref name="ct"/> fires.</summary>
    public async Task WaitAsync(TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        if (_signal.Reader.TryRead(out _))
        {
            return;
        }
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timer.Token);
        try
        {
            await _signal.Reader.WaitToReadAsync(linked.Token);
            _signal.Reader.TryRead(out _);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // The poll interval passed: look anyway.
        }
    }
}
