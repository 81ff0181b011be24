using Apertur.Server.Queues;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Apertur.Server.Hosting;

/// <summary>
/// Settings section <c>Apertur:IdleCollection</c>: one garbage collection that gives memory back to the system once the
/// process goes quiet after a burst (docs/operations.md "Memory and the GC"). An idle server allocates almost nothing, so
/// no collection runs and the burst's heap stays resident until the next burst (docs/performance.md "Memory after load").
/// </summary>
public sealed class IdleCollectionOptions : ISettings
{
    public const string Section = "Apertur:IdleCollection";

    /// <summary>Whether this process checks at all (default true); false leaves the GC to itself.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How often the figures are read (default 30 s): a burst's memory is returned one to two intervals after it ends.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The process is quiet when it allocated at most this many bytes per second since the last check (default 1 MiB/s: an
    /// idle server allocates a few KiB a second, a loaded one hundreds of MiB).
    /// </summary>
    public long QuietBytesPerSecond { get; set; } = 1L << 20;

    /// <summary>
    /// A quiet process collects when the GC's committed memory is at least this far above what it was when last quiet
    /// (default 32 MiB): the lowest figure seen, or the figure right after the last induced collection.
    /// </summary>
    public long ExcessBytes { get; set; } = 32L << 20;

    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (CheckInterval <= TimeSpan.Zero)
        {
            problems.Add($"{Section}:{nameof(CheckInterval)} must be positive (got {CheckInterval}).");
        }
        if (QuietBytesPerSecond <= 0)
        {
            problems.Add($"{Section}:{nameof(QuietBytesPerSecond)} must be positive (got {QuietBytesPerSecond}).");
        }
        if (ExcessBytes <= 0)
        {
            problems.Add($"{Section}:{nameof(ExcessBytes)} must be positive (got {ExcessBytes}).");
        }
        return problems;
    }
}

/// <summary>
/// The process's memory at one instant: bytes allocated since it started (<see cref="GC.GetTotalAllocatedBytes"/>), the
/// managed heap and the memory the GC had committed at its last collection (<see cref="GC.GetGCMemoryInfo()"/>), and the
/// resident set.
/// </summary>
public readonly record struct MemoryFigures(DateTimeOffset At, long AllocatedBytes, long HeapBytes, long CommittedBytes, long ResidentBytes);

/// <summary>Reads the process's memory and induces a collection; the seam tests replace.</summary>
public interface IProcessMemory
{
    MemoryFigures Read();

    /// <summary>A full, blocking, compacting collection that returns the free memory to the system.</summary>
    void CollectAggressively();
}

public sealed class GcProcessMemory(TimeProvider time) : IProcessMemory
{
    public MemoryFigures Read()
    {
        var info = GC.GetGCMemoryInfo();
        return new MemoryFigures(time.GetUtcNow(), GC.GetTotalAllocatedBytes(), info.HeapSizeBytes, info.TotalCommittedBytes, Environment.WorkingSet);
    }

    public void CollectAggressively() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
}

/// <summary>
/// When to collect, from the figures of each check alone (no clock, no GC: testable with numbers). A check is quiet when
/// the allocation rate since the previous check is at most <paramref name="quietBytesPerSecond"/>. A quiet check collects
/// when the committed memory is at least <paramref name="excessBytes"/> above the reference: the lowest committed figure
/// seen, or the one right after the last induced collection (memory still in use after it is not collected for again).
/// At most one collection per quiet period: the next needs a busy check first.
/// </summary>
public sealed class IdleCollectionDecision(long quietBytesPerSecond, long excessBytes)
{
    private MemoryFigures? _last;
    private bool _collectedThisQuietPeriod;

    /// <summary>The committed bytes the process is measured against; null before the first check.</summary>
    public long? ReferenceBytes { get; private set; }

    /// <summary>Bytes allocated per second between the last two checks; null before the second.</summary>
    public double? BytesPerSecond { get; private set; }

    /// <summary>Takes one check's figures; true when the process should collect now (then call <see cref="Collected"/>).</summary>
    public bool ShouldCollect(MemoryFigures now)
    {
        var last = _last;
        _last = now;
        BytesPerSecond = last is { } l && now.At > l.At ? (now.AllocatedBytes - l.AllocatedBytes) / (now.At - l.At).TotalSeconds : null;
        var quiet = BytesPerSecond <= quietBytesPerSecond;
        if (!quiet)
        {
            _collectedThisQuietPeriod = false;
        }
        var reference = ReferenceBytes;
        ReferenceBytes = Math.Min(reference ?? long.MaxValue, now.CommittedBytes);
        if (!quiet || _collectedThisQuietPeriod || reference is not { } r || now.CommittedBytes - r < excessBytes)
        {
            return false;
        }
        _collectedThisQuietPeriod = true;
        return true;
    }

    /// <summary>The figures right after the induced collection: its committed memory is the new reference.</summary>
    public void Collected(MemoryFigures after)
    {
        ReferenceBytes = after.CommittedBytes;
        _last = after;
    }
}

/// <summary>
/// Every <c>Apertur:IdleCollection:CheckInterval</c>, in every process (per-process memory: not under the workers switch
/// nor the job lock), reads the memory figures and, when <see cref="IdleCollectionDecision"/> says so, induces one
/// aggressive collection and logs what it returned.
/// </summary>
public sealed partial class IdleCollectionJob(IProcessMemory memory, TimeProvider time, IOptions<IdleCollectionOptions> options,
    ILogger<IdleCollectionJob> logger)
    : PeriodicLoop("Idle collection", time, logger)
{
    private readonly IdleCollectionDecision _decision = new(options.Value.QuietBytesPerSecond, options.Value.ExcessBytes);

    protected override TimeSpan Interval => options.Value.CheckInterval;

    protected override bool Enabled => options.Value.Enabled;

    protected override Task RunOnceAsync(CancellationToken ct)
    {
        var before = memory.Read();
        if (_decision.ShouldCollect(before))
        {
            var started = Time.GetTimestamp();
            memory.CollectAggressively();
            var took = Time.GetElapsedTime(started);
            var after = memory.Read();
            _decision.Collected(after);
            var kibPerSecond = (long)(_decision.BytesPerSecond ?? 0) >> 10;
            LogCollected(logger, kibPerSecond, before.HeapBytes >> 20, after.HeapBytes >> 20, before.CommittedBytes >> 20, after.CommittedBytes >> 20,
                before.ResidentBytes >> 20, after.ResidentBytes >> 20, (long)took.TotalMilliseconds);
        }
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Idle collection: quiet ({KibPerSecond} KiB/s allocated since the last check); "
        + "managed heap {HeapBeforeMib} -> {HeapAfterMib} MiB, GC committed {CommittedBeforeMib} -> {CommittedAfterMib} MiB, "
        + "resident {ResidentBeforeMib} -> {ResidentAfterMib} MiB, in {Milliseconds} ms")]
    private static partial void LogCollected(ILogger logger, long kibPerSecond, long heapBeforeMib, long heapAfterMib, long committedBeforeMib,
        long committedAfterMib, long residentBeforeMib, long residentAfterMib, long milliseconds);
}

public static class IdleCollectionServices
{
    /// <summary>The idle collection (<c>Apertur:IdleCollection</c>): its settings, the GC seam and its loop.</summary>
    public static IServiceCollection AddIdleCollection(this IServiceCollection services)
    {
        services.AddSettings<IdleCollectionOptions>(IdleCollectionOptions.Section);
        services.TryAddSingleton<IProcessMemory, GcProcessMemory>();
        services.AddHostedService<IdleCollectionJob>();
        return services;
    }
}
