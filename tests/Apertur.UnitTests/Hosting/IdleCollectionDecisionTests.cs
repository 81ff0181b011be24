using Apertur.Server.Hosting;
using Shouldly;

namespace Apertur.UnitTests.Hosting;

/// <summary>When the idle collection collects (docs/operations.md "Memory and the GC"), from figures alone.</summary>
public sealed class IdleCollectionDecisionTests
{
    private const long Mib = 1L << 20;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    /// <summary>1 MiB/s is quiet, 32 MiB above the reference is worth a collection (the defaults).</summary>
    private readonly IdleCollectionDecision _decision = new(quietBytesPerSecond: Mib, excessBytes: 32 * Mib);

    private DateTimeOffset _at = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
    private long _allocated = 500 * Mib;

    /// <summary>The next check, <see cref="Interval"/> after the last, with <paramref name="allocatedMib"/> allocated since.</summary>
    private MemoryFigures Check(long allocatedMib, long committedMib)
    {
        _at += Interval;
        _allocated += allocatedMib * Mib;
        return new MemoryFigures(_at, _allocated, committedMib * Mib, committedMib * Mib, 200 * Mib + committedMib * Mib);
    }

    private MemoryFigures Collect(long committedMib)
    {
        var after = new MemoryFigures(_at + TimeSpan.FromMilliseconds(80), _allocated, committedMib * Mib, committedMib * Mib, 200 * Mib);
        _decision.Collected(after);
        return after;
    }

    /// <summary>Quiet at 40 MiB, a burst to 180 MiB, quiet again: the collection the other tests start from.</summary>
    private void QuietBurstQuiet()
    {
        _decision.ShouldCollect(Check(0, 40)).ShouldBeFalse();
        _decision.ShouldCollect(Check(3000, 180)).ShouldBeFalse();
        _decision.ShouldCollect(Check(0, 180)).ShouldBeTrue();
    }

    [Fact]
    public void BurstThenQuiet_CollectsOnce()
    {
        _decision.ShouldCollect(Check(0, 40)).ShouldBeFalse("the first check has nothing to compare with");
        _decision.ShouldCollect(Check(1, 40)).ShouldBeFalse("quiet, nothing above the reference");
        _decision.ShouldCollect(Check(3000, 170)).ShouldBeFalse("the burst: 100 MiB/s");
        _decision.ShouldCollect(Check(2000, 180)).ShouldBeFalse("still busy");

        _decision.ShouldCollect(Check(2, 180)).ShouldBeTrue("quiet after the burst, 140 MiB above the reference");
        _decision.BytesPerSecond.ShouldBe(2.0 * Mib / Interval.TotalSeconds);
    }

    [Fact]
    public void AllocationsContinue_NeverCollects()
    {
        _decision.ShouldCollect(Check(0, 40)).ShouldBeFalse();
        for (var i = 0; i < 20; i++)
        {
            // 2 MiB/s: above the quiet rate, however high the committed memory.
            _decision.ShouldCollect(Check(60, 300)).ShouldBeFalse($"check {i}");
        }
    }

    [Fact]
    public void SameQuietPeriod_CollectsOnlyOnce()
    {
        QuietBurstQuiet();
        Collect(committedMib: 45);

        for (var i = 0; i < 10; i++)
        {
            // A collection of the trickle's own (a larger gen0 budget) leaves the figure 45 MiB above the last one's: still
            // the same quiet period.
            _decision.ShouldCollect(Check(1, 90)).ShouldBeFalse($"quiet check {i} after the collection");
        }
    }

    [Fact]
    public void SameQuietPeriod_EvenWhenTheFiguresStayHigh_CollectsOnlyOnce()
    {
        QuietBurstQuiet();
        // No Collected call (the job failed to read the figures after): still no second collection while quiet.
        _decision.ShouldCollect(Check(0, 180)).ShouldBeFalse();
        _decision.ShouldCollect(Check(1, 180)).ShouldBeFalse();
    }

    [Fact]
    public void NextBurstThenQuiet_CollectsAgain()
    {
        QuietBurstQuiet();
        Collect(committedMib: 45);
        _decision.ShouldCollect(Check(0, 45)).ShouldBeFalse();

        _decision.ShouldCollect(Check(3000, 175)).ShouldBeFalse("busy again");
        _decision.ShouldCollect(Check(0, 175)).ShouldBeTrue("a new quiet period, 130 MiB above the figure after the last collection");
    }

    [Fact]
    public void MemoryStillInUseAfterACollection_IsTheNewReference()
    {
        QuietBurstQuiet();
        Collect(committedMib: 150);
        _decision.ReferenceBytes.ShouldBe(150 * Mib);

        _decision.ShouldCollect(Check(100, 170)).ShouldBeFalse("busy");
        _decision.ShouldCollect(Check(0, 170)).ShouldBeFalse("quiet, but only 20 MiB above what the last collection left");
    }

    [Fact]
    public void SmallBurst_BelowTheExcess_DoesNotCollect()
    {
        _decision.ShouldCollect(Check(0, 40));
        _decision.ShouldCollect(Check(500, 60));
        _decision.ShouldCollect(Check(0, 60)).ShouldBeFalse("20 MiB above the reference");
        _decision.ReferenceBytes.ShouldBe(40 * Mib);
    }

    [Fact]
    public void ReferenceIsTheLowestFigureSeen()
    {
        _decision.ShouldCollect(Check(0, 90));
        _decision.ShouldCollect(Check(0, 50)).ShouldBeFalse("the heap shrank on its own");
        _decision.ReferenceBytes.ShouldBe(50 * Mib);
        _decision.ShouldCollect(Check(3000, 100));
        _decision.ShouldCollect(Check(0, 100)).ShouldBeTrue("50 MiB above the lowest figure, though only 10 above the first");
    }

    [Fact]
    public void ChecksAtTheSameInstant_AreNotQuiet()
    {
        var first = Check(0, 40);
        _decision.ShouldCollect(first);
        _decision.ShouldCollect(first with { CommittedBytes = 200 * Mib }).ShouldBeFalse();
    }

    [Fact]
    public void Settings_RefuseZeroAndNegativeValues()
    {
        new IdleCollectionOptions().Problems().ShouldBeEmpty();
        var problems = new IdleCollectionOptions { CheckInterval = TimeSpan.Zero, QuietBytesPerSecond = 0, ExcessBytes = -1 }.Problems();
        problems.Count.ShouldBe(3);
        problems[0].ShouldBe("Apertur:IdleCollection:CheckInterval must be positive (got 00:00:00).");
    }
}
