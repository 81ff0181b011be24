using Apertur.IntegrationTests.Infrastructure;
using Apertur.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Shouldly;

namespace Apertur.IntegrationTests.Hosting;

/// <summary>
/// The write gate's rule on SQLite (docs/architecture.md, Seams, "WriteGate"): any EF Core write transaction holds the gate
/// from its begin to its end — commit, rollback or dispose without either — and a write outside a transaction holds it for
/// its statement, with nothing written by hand at the call site.
/// </summary>
public sealed class WriteGateTests
{
    private static readonly TimeSpan Moment = TimeSpan.FromMilliseconds(300);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>True when someone holds the gate: it cannot be entered within a moment.</summary>
    private static async Task<bool> IsHeldAsync(WriteGate gate)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        try
        {
            using var held = await gate.EnterAsync(timeout.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    private static Task<int> RenameProjectsAsync(AperturDb db, string name) =>
        db.Projects.ExecuteUpdateAsync(s => s.SetProperty(p => p.Name, name));

    [Fact]
    public async Task PlainTransaction_HoldsTheGateUntilCommit_AndASecondScopesTransactionWaitsForIt()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite);
        var gate = app.Services.GetRequiredService<WriteGate>();
        (await IsHeldAsync(gate)).ShouldBeFalse();

        await using var first = app.Services.CreateAsyncScope();
        var db = first.ServiceProvider.GetRequiredService<AperturDb>();
        var tx = await db.Database.BeginTransactionAsync();
        await RenameProjectsAsync(db, "First");
        (await IsHeldAsync(gate)).ShouldBeTrue();

        await using var second = app.Services.CreateAsyncScope();
        var other = second.ServiceProvider.GetRequiredService<AperturDb>();
        // Microsoft.Data.Sqlite's async calls run synchronously: the second writer runs on a thread of its own.
        var secondWrite = Task.Run(async () =>
        {
            await using var tx2 = await other.Database.BeginTransactionAsync();
            await RenameProjectsAsync(other, "Second");
            await tx2.CommitAsync();
        });
        await Task.Delay(Moment);
        secondWrite.IsCompleted.ShouldBeFalse();

        await tx.CommitAsync();
        await secondWrite.WaitAsync(Patience);
        await tx.DisposeAsync();
        (await IsHeldAsync(gate)).ShouldBeFalse();
        (await db.Projects.AsNoTracking().Select(p => p.Name).ToListAsync()).ShouldAllBe(n => n == "Second");
    }

    [Fact]
    public async Task TransactionDisposedWithoutCommit_GivesTheGateBack()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite);
        var gate = app.Services.GetRequiredService<WriteGate>();
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var names = await db.Projects.AsNoTracking().Select(p => p.Name).ToListAsync();

        var tx = await db.Database.BeginTransactionAsync();
        await RenameProjectsAsync(db, "Never");
        (await IsHeldAsync(gate)).ShouldBeTrue();
        await tx.DisposeAsync();

        (await IsHeldAsync(gate)).ShouldBeFalse();
        (await db.Projects.AsNoTracking().Select(p => p.Name).ToListAsync()).ShouldBe(names);
        await using (var again = await db.Database.BeginTransactionAsync().WaitAsync(Patience))
        {
            await again.RollbackAsync();
        }
        (await IsHeldAsync(gate)).ShouldBeFalse();
    }

    [Fact]
    public async Task WritesOutsideATransaction_WaitForTheGate()
    {
        await using var app = await TestApp.StartAsync(Databases.Sqlite);
        var gate = app.Services.GetRequiredService<WriteGate>();
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AperturDb>();
        var project = await db.Projects.FirstAsync();

        Task update;
        Task save;
        using (await gate.EnterAsync(CancellationToken.None))
        {
            update = Task.Run(() => RenameProjectsAsync(db, "Updated"));
            await Task.Delay(Moment);
            update.IsCompleted.ShouldBeFalse();
        }
        await update.WaitAsync(Patience);

        await using var other = app.Services.CreateAsyncScope();
        var saving = other.ServiceProvider.GetRequiredService<AperturDb>();
        var tracked = await saving.Projects.FirstAsync(p => p.Id == project.Id);
        using (await gate.EnterAsync(CancellationToken.None))
        {
            tracked.Name = "Saved";
            save = Task.Run(() => saving.SaveChangesAsync());
            await Task.Delay(Moment);
            save.IsCompleted.ShouldBeFalse();
        }
        await save.WaitAsync(Patience);
        (await IsHeldAsync(gate)).ShouldBeFalse();
        (await db.Projects.AsNoTracking().SingleAsync(p => p.Id == project.Id)).Name.ShouldBe("Saved");
    }
}
