using System.Threading.Channels;

namespace Apertur.Server.Hosting;

/// <summary>
/// Wakes a waiting loop now instead of at its next poll: the upload commit nudges the delivery worker, a failure nudges
/// the notifier. Nudges coalesce (one pending wake-up at most) and never block the caller.
/// </summary>
public class Nudge
{
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    public void Poke() => _signal.Writer.TryWrite(true);

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
