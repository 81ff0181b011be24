using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Hosting;
using Apertur.Tests;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// The idle collection in a running server (docs/operations.md "Memory and the GC"), over figures the test writes: it runs
/// with the background workers off (per-process memory), collects once after a burst, logs one line, and can be turned off.
/// </summary>
public sealed class IdleCollectionTests
{
    private const long Mib = 1L << 20;

    [Fact]
    public async Task BurstThenQuiet_OneCollectionAndOneLogLine_WithTheWorkersOff()
    {
        var memory = new ScriptedMemory();
        await using var app = await TestApp.StartAsync(Databases.Sqlite,
            new Dictionary<string, string?> { ["Apertur:IdleCollection:CheckInterval"] = "00:00:00.050", ["Apertur:Workers:Enabled"] = "false" },
            services: s => s.AddSingleton<IProcessMemory>(memory));

        await Wait.UntilAsync(() => Task.FromResult(memory.Reads >= 3), what: "quiet checks before the burst");
        memory.Collections.ShouldBe(0);
        memory.Burst(allocatedMib: 3000, committedMib: 180);
        await Wait.UntilAsync(() => Task.FromResult(memory.Collections == 1), what: "the collection after the burst");
        var reads = memory.Reads;
        await Wait.UntilAsync(() => Task.FromResult(memory.Reads >= reads + 10), what: "ten more quiet checks");

        memory.Collections.ShouldBe(1);
        var log = app.Output.Text;
        log.Split('\n').Count(l => l.Contains("Idle collection: quiet", StringComparison.Ordinal)).ShouldBe(1, log);
        log.ShouldContain("GC committed 180 -> 45 MiB", customMessage: log);
    }

    [Fact]
    public async Task TurnedOff_NeverReadsNorCollects()
    {
        var memory = new ScriptedMemory();
        await using var app = await TestApp.StartAsync(Databases.Sqlite,
            new Dictionary<string, string?>
            {
                ["Apertur:IdleCollection:Enabled"] = "false",
                ["Apertur:IdleCollection:CheckInterval"] = "00:00:00.050",
            },
            services: s => s.AddSingleton<IProcessMemory>(memory));
        memory.Burst(allocatedMib: 3000, committedMib: 180);

        await Task.Delay(TimeSpan.FromMilliseconds(500));

        memory.Reads.ShouldBe(0);
        memory.Collections.ShouldBe(0);
    }

    /// <summary>Quiet figures, 40 MiB committed, one second apart; a burst when the test says; 45 MiB after a collection.</summary>
    private sealed class ScriptedMemory : IProcessMemory
    {
        private readonly Lock _gate = new();
        private readonly DateTimeOffset _start = new(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
        private long _allocated = 500 * Mib;
        private long _committed = 40 * Mib;
        private int _reads;
        private int _collections;

        public int Reads
        {
            get
            {
                lock (_gate)
                {
                    return _reads;
                }
            }
        }

        public int Collections
        {
            get
            {
                lock (_gate)
                {
                    return _collections;
                }
            }
        }

        public void Burst(long allocatedMib, long committedMib)
        {
            lock (_gate)
            {
                _allocated += allocatedMib * Mib;
                _committed = committedMib * Mib;
            }
        }

        public MemoryFigures Read()
        {
            lock (_gate)
            {
                _reads++;
                return new MemoryFigures(_start + TimeSpan.FromSeconds(_reads), _allocated, _committed, _committed, 200 * Mib + _committed);
            }
        }

        public void CollectAggressively()
        {
            lock (_gate)
            {
                _collections++;
                _committed = 45 * Mib;
            }
        }
    }
}
